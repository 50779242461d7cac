// Reading a corpus or prompt file as Unicode scalars, with errors a user can act on:
// a missing or empty file, or bytes that are not UTF-8 (named by their offset).
// Decoding follows the UTF-8 definition in RFC 3629 (no overlongs, no surrogates).

import Foundation

/// Loads text files as arrays of Unicode scalar values.
public enum TextFile {
    /// Reads `path` and decodes it as UTF-8. Throws a runtime error for a missing, unreadable,
    /// empty or non-UTF-8 file. A leading byte-order mark is skipped.
    public static func readScalars(_ path: String) throws -> [UInt32] {
        try checkReadable(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TinyGPTError.runtime("cannot read \(path); check its permissions")
        }
        if data.isEmpty {
            throw TinyGPTError.runtime("\(path) is empty; give a file with some text in it")
        }
        return try data.withUnsafeBytes { raw in
            try decodeUTF8(raw.bindMemory(to: UInt8.self), name: path)
        }
    }

    /// Reads `path` straight into token ids, never holding more than the file's (memory-mapped)
    /// bytes and the compact ids: a first pass finds the vocabulary (unless `tokenizer` is
    /// given), a second decodes into ids. Errors as `readScalars`, plus a character the given
    /// tokenizer lacks.
    public static func readTokens(_ path: String, tokenizer given: CharTokenizer? = nil) throws -> (tokenizer: CharTokenizer, tokens: TokenIds) {
        try checkReadable(path)
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw TinyGPTError.runtime("cannot read \(path); check its permissions")
        }
        if data.isEmpty {
            throw TinyGPTError.runtime("\(path) is empty; give a file with some text in it")
        }
        return try data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let tokenizer: CharTokenizer
            var count = 0
            if let given {
                tokenizer = given
                try forEachScalar(bytes, name: path) { _ in count += 1 }
            } else {
                var seen = [Bool](repeating: false, count: 0x11_0000)
                try forEachScalar(bytes, name: path) { seen[Int($0)] = true; count += 1 }
                tokenizer = CharTokenizer(present: seen)
            }
            var tokens = TokenIds(vocabSize: tokenizer.vocabSize, reservingCapacity: count)
            var missing: (scalar: UInt32, position: Int)?
            try forEachScalar(bytes, name: path) { s in
                if let id = tokenizer.id(of: s) {
                    tokens.append(id)
                } else {
                    if missing == nil { missing = (s, tokens.count) }
                    tokens.append(0)
                }
            }
            if let missing {
                throw TinyGPTError.runtime(
                    "\(path): the character \(CharTokenizer.describe(missing.scalar)) at position \(missing.position) is not in the model's vocabulary of \(tokenizer.vocabSize) characters; this checkpoint cannot read that text, so train on it instead")
            }
            return (tokenizer, tokens)
        }
    }

    private static func checkReadable(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TinyGPTError.runtime("file not found: \(path); check the path")
        }
        if isDirectory.boolValue {
            throw TinyGPTError.runtime("\(path) is a folder; give a text file inside it")
        }
    }

    /// Calls `body` with each scalar of UTF-8 `bytes` (a leading byte-order mark skipped unless
    /// `skippingByteOrderMark` is false); throws naming the offset of the first invalid byte.
    @inline(__always)
    static func forEachScalar(_ bytes: UnsafeBufferPointer<UInt8>, name: String, skippingByteOrderMark: Bool = true,
                              _ body: (UInt32) -> Void) throws {
        var i = 0
        let n = bytes.count
        if skippingByteOrderMark && n >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { i = 3 }
        while i < n {
            let b0 = UInt32(bytes[i])
            if b0 < 0x80 {
                body(b0)
                i += 1
                continue
            }
            var length = 0, value: UInt32 = 0, minimum: UInt32 = 0
            if b0 & 0xE0 == 0xC0 { length = 2; value = b0 & 0x1F; minimum = 0x80 }
            else if b0 & 0xF0 == 0xE0 { length = 3; value = b0 & 0x0F; minimum = 0x800 }
            else if b0 & 0xF8 == 0xF0 { length = 4; value = b0 & 0x07; minimum = 0x10000 }
            var valid = length > 0 && i + length <= n
            if valid {
                for k in 1..<length {
                    let b = UInt32(bytes[i + k])
                    if b & 0xC0 != 0x80 { valid = false; break }
                    value = value << 6 | (b & 0x3F)
                }
            }
            if !valid || value < minimum || value > 0x10FFFF || (0xD800...0xDFFF).contains(value) {
                throw TinyGPTError.runtime(
                    "\(name) is not valid UTF-8: bad byte 0x\(String(bytes[i], radix: 16, uppercase: true)) at offset \(i); save the file as UTF-8 text")
            }
            body(value)
            i += length
        }
    }

    /// Decodes UTF-8 bytes into scalar values; `name` appears in the error message.
    public static func decodeUTF8(_ bytes: UnsafeBufferPointer<UInt8>, name: String) throws -> [UInt32] {
        var scalars = [UInt32]()
        scalars.reserveCapacity(bytes.count)
        try forEachScalar(bytes, name: name) { scalars.append($0) }
        return scalars
    }

    /// Decodes a Swift string (always valid Unicode) into scalar values.
    public static func scalars(of text: String) -> [UInt32] {
        text.unicodeScalars.map(\.value)
    }
}
