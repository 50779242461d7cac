// Reading a corpus or prompt file as Unicode scalars, with errors a user can act on:
// a missing, empty or non-regular file, or bytes that are not UTF-8 (named by their offset).
// Decoding follows the UTF-8 definition in RFC 3629 (no overlongs, no surrogates).
//
// The file is read with pread(2) in 64 KB pieces, never memory-mapped: a mapped file that is
// truncated while it is read turns the next access into SIGBUS, a crash. Reading instead sees
// either the bytes the file had when it was opened (a file replaced by rename keeps its old
// contents for us) or a clear error (a file cut short or rewritten in place: its length or
// modification time differs at the end from the start). Only one piece is in memory at a time,
// so a 200 MB corpus costs its token ids and 64 KB, not also 200 MB of mapped pages. (Pieces
// of 4 MB, a whole small corpus at once, left 0.4 MB of freed heap resident for the run.)

import Foundation

/// Loads text files as arrays of Unicode scalar values.
public enum TextFile {
    /// Reads `path` and decodes it as UTF-8. Throws a runtime error for a missing, unreadable,
    /// empty or non-UTF-8 file. A leading byte-order mark is skipped.
    public static func readScalars(_ path: String) throws -> [UInt32] {
        let file = try Source(path)
        defer { file.close() }
        var scalars = [UInt32]()
        scalars.reserveCapacity(file.size)
        try file.forEachScalar { scalars.append($0) }
        try file.checkUnchanged()
        if scalars.isEmpty { throw file.onlyByteOrderMark() }
        return scalars
    }

    /// Reads `path` straight into token ids, never holding more than one 64 KB piece of the file
    /// and the compact ids: a first pass finds the vocabulary (unless `tokenizer` is given), a
    /// second decodes into ids. Errors as `readScalars`, plus a character the given tokenizer
    /// lacks, and a file that changed between or during the passes.
    public static func readTokens(_ path: String, tokenizer given: CharTokenizer? = nil) throws -> (tokenizer: CharTokenizer, tokens: TokenIds) {
        let file = try Source(path)
        defer { file.close() }
        let tokenizer: CharTokenizer
        var count = 0
        if let given {
            tokenizer = given
            try file.forEachScalar { _ in count += 1 }
        } else {
            var seen = [Bool](repeating: false, count: 0x11_0000)
            try file.forEachScalar { seen[Int($0)] = true; count += 1 }
            tokenizer = CharTokenizer(present: seen)
        }
        if count == 0 { throw file.onlyByteOrderMark() }
        var tokens = TokenIds(vocabSize: tokenizer.vocabSize, reservingCapacity: count)
        var missing: (scalar: UInt32, position: Int)?
        try file.forEachScalar { s in
            if let id = tokenizer.id(of: s) {
                tokens.append(id)
            } else {
                if missing == nil { missing = (s, tokens.count) }
                tokens.append(0)
            }
        }
        try file.checkUnchanged()
        if tokens.count != count { throw file.changed("it holds other text than a moment ago") }
        if let missing {
            if given == nil { throw file.changed("it holds other text than a moment ago") }
            throw TinyGPTError.runtime(
                "\(path): the character \(CharTokenizer.describe(missing.scalar)) at position \(missing.position) is not in the model's vocabulary of \(tokenizer.vocabSize) characters; this checkpoint cannot read that text, so train on it instead")
        }
        return (tokenizer, tokens)
    }

    /// An open text file, read in pieces; the length and modification time seen at opening
    /// are what the reads are checked against.
    struct Source {
        static let pieceSize = 1 << 16

        let path: String
        let fd: Int32
        let opened: Platform.FileStatus
        var size: Int { opened.size }

        init(_ path: String) throws {
            self.path = path
            switch Platform.open(path, .read) {
            case .success(let fd): self.fd = fd
            case .failure(let error):
                if error == .notFound { throw TinyGPTError.runtime("file not found: \(path); check the path") }
                if error.isPermission {
                    throw TinyGPTError.runtime("cannot read \(path): permission denied; check its permissions (ls -l \(path)) or copy it somewhere you can read")
                }
                throw TinyGPTError.runtime("cannot read \(path): \(error.text); check that it is a readable text file")
            }
            guard case .success(let status) = Platform.status(of: fd) else {
                Platform.close(fd)
                throw TinyGPTError.runtime("cannot read \(path); check that it is a readable text file")
            }
            switch status.kind {
            case .regular: break
            case .folder:
                Platform.close(fd)
                throw TinyGPTError.runtime("\(path) is a folder; give a text file inside it")
            default:
                Platform.close(fd)
                throw TinyGPTError.runtime("\(path) is not a regular file (it is \(status.kind.phrase)); give a UTF-8 text file saved on disk")
            }
            if status.size == 0 {
                Platform.close(fd)
                throw TinyGPTError.runtime("\(path) is empty; give a file with some text in it")
            }
            opened = status
        }

        func close() { Platform.close(fd) }

        /// Calls `body` with every scalar of the file's first `size` bytes, in order.
        @inline(__always)
        func forEachScalar(_ body: (UInt32) -> Void) throws {
            let capacity = min(size, Self.pieceSize) + 4
            let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
            defer { buffer.deallocate() }
            var carried = 0, offset = 0, remaining = size
            while remaining > 0 {
                let want = min(capacity - carried, remaining)
                let n: Int
                switch Platform.read(fd, at: offset + carried, into: buffer + carried, count: want) {
                case .success(let read): n = read
                case .failure(let error): throw TinyGPTError.runtime("cannot read \(path): \(error.text); check the disk and try again")
                }
                if n < want { throw changed("it is shorter than when it was opened") }
                remaining -= n
                let available = carried + n
                let end = remaining == 0 ? available : Self.completeEnd(buffer, available)
                try TextFile.forEachScalar(UnsafeBufferPointer(start: buffer, count: end), name: path,
                                           skippingByteOrderMark: offset == 0, baseOffset: offset, body)
                carried = available - end
                for k in 0..<carried { buffer[k] = buffer[end + k] }  // at most 3 bytes
                offset += end
            }
        }

        /// The length of the bytes up to the last character that ends inside the piece (a
        /// character cut by the piece's end waits for the next piece).
        static func completeEnd(_ bytes: UnsafeMutablePointer<UInt8>, _ count: Int) -> Int {
            var i = count - 1
            while i >= max(0, count - 4) {
                let b = bytes[i]
                if b & 0xC0 != 0x80 {
                    let length = b < 0x80 ? 1 : b & 0xE0 == 0xC0 ? 2 : b & 0xF0 == 0xE0 ? 3 : b & 0xF8 == 0xF0 ? 4 : 1
                    return i + length > count ? i : count
                }
                i -= 1
            }
            return count
        }

        /// Throws when the file's length or modification time is not what it was at opening.
        func checkUnchanged() throws {
            guard case .success(let now) = Platform.status(of: fd) else { return }
            if now.size != opened.size { throw changed("its length went from \(opened.size) to \(now.size) bytes") }
            if now.modified != opened.modified { throw changed("it was written to") }
        }

        func changed(_ how: String) -> TinyGPTError {
            TinyGPTError.runtime("\(path) changed while it was being read (\(how)); run again once nothing is writing to it, or read a copy of it")
        }

        func onlyByteOrderMark() -> TinyGPTError {
            TinyGPTError.runtime("\(path) holds only a byte-order mark and no text; give a file with some text in it")
        }
    }

    /// Calls `body` with each scalar of UTF-8 `bytes` (a leading byte-order mark skipped unless
    /// `skippingByteOrderMark` is false); throws naming the offset of the first invalid byte.
    @inline(__always)
    static func forEachScalar(_ bytes: UnsafeBufferPointer<UInt8>, name: String, skippingByteOrderMark: Bool = true,
                              baseOffset: Int = 0, _ body: (UInt32) -> Void) throws {
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
                    "\(name) is not valid UTF-8: bad byte 0x\(String(bytes[i], radix: 16, uppercase: true)) at offset \(baseOffset + i); save the file as UTF-8 text")
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
