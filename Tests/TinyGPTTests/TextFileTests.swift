// Tests for Text/TextFile.swift: UTF-8 decoding against the standard library's own validator
// (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF), the byte offset an error
// names, the byte-order mark, and the errors for missing, empty and folder paths.

import Foundation
import XCTest
@testable import TinyGPT

final class TextFileTests: XCTestCase {
    private func decode(_ bytes: [UInt8], name: String = "test.txt") throws -> [UInt32] {
        try bytes.withUnsafeBufferPointer { try TextFile.decodeUTF8($0, name: name) }
    }

    /// Asserts that decoding `bytes` fails with a runtime error naming `byte` at `offset`.
    private func assertRejects(_ bytes: [UInt8], byte: UInt8, offset: Int, _ what: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        do {
            let scalars = try decode(bytes, name: "corpus.txt")
            XCTFail("\(what): decoded to \(scalars) instead of failing", file: file, line: line)
        } catch let error as TinyGPTError {
            XCTAssertEqual(error.kind, .runtime, what, file: file, line: line)
            let hex = "0x" + String(byte, radix: 16, uppercase: true)
            for fragment in ["corpus.txt", "not valid UTF-8", "offset \(offset)", hex] {
                XCTAssertTrue(error.message.contains(fragment), "\(what): \"\(error.message)\" lacks \"\(fragment)\"",
                              file: file, line: line)
            }
        } catch {
            XCTFail("\(what): unexpected error type \(error)", file: file, line: line)
        }
    }

    /// A folder under the system's temporary folder, removed after the test.
    private func makeTemporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "tinygpt-text-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    private func assertRuntimeError(containing fragments: [String], file: StaticString = #filePath, line: UInt = #line,
                                    _ body: () throws -> [UInt32]) {
        do {
            _ = try body()
            XCTFail("expected a runtime error containing \(fragments)", file: file, line: line)
        } catch let error as TinyGPTError {
            XCTAssertEqual(error.kind, .runtime, file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(error.message.contains(fragment), "\"\(error.message)\" lacks \"\(fragment)\"",
                              file: file, line: line)
            }
        } catch {
            XCTFail("unexpected error type: \(error)", file: file, line: line)
        }
    }

    // MARK: - Valid text

    func testDecodesEveryEncodedLength() throws {
        // 1-, 2-, 3- and 4-byte sequences, and the boundaries of each length.
        let text = "A é 中 🙂 𝄞 \u{7F}\u{80}\u{7FF}\u{800}\u{FFFF}\u{10000}\u{10FFFF}\u{D7FF}\u{E000} 注意力机制：Q、K、V"
        XCTAssertEqual(try decode(Array(text.utf8)), text.unicodeScalars.map(\.value))
    }

    func testByteOrderMarkIsSkippedOnlyAtTheStart() throws {
        XCTAssertEqual(try decode([0xEF, 0xBB, 0xBF, 0x68, 0x69]), [0x68, 0x69])
        XCTAssertEqual(try decode([0xEF, 0xBB, 0xBF]), [], "a file holding only a BOM decodes to no text")
        // Anywhere else U+FEFF is an ordinary (zero-width) character and is kept.
        XCTAssertEqual(try decode([0x68, 0xEF, 0xBB, 0xBF, 0x69]), [0x68, 0xFEFF, 0x69])
        XCTAssertEqual(try decode([0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF]), [0xFEFF], "only the first BOM is skipped")
    }

    // MARK: - Invalid bytes

    func testRejectsInvalidSequencesNamingTheOffset() {
        let prefix: [UInt8] = Array("ab中".utf8)  // 5 bytes, so offsets are not trivially 0
        let p = prefix.count
        assertRejects(prefix + [0xC0, 0x80], byte: 0xC0, offset: p, "overlong 2-byte NUL")
        assertRejects(prefix + [0xC1, 0xBF], byte: 0xC1, offset: p, "overlong 2-byte U+007F")
        assertRejects(prefix + [0xE0, 0x80, 0x80], byte: 0xE0, offset: p, "overlong 3-byte")
        assertRejects(prefix + [0xF0, 0x80, 0x80, 0x80], byte: 0xF0, offset: p, "overlong 4-byte")
        assertRejects(prefix + [0x80, 0x61], byte: 0x80, offset: p, "lone continuation byte")
        assertRejects(prefix + [0xBF], byte: 0xBF, offset: p, "lone continuation byte at the end")
        assertRejects(prefix + [0xE4, 0xB8], byte: 0xE4, offset: p, "3-byte sequence truncated at the end")
        assertRejects(prefix + [0xF0, 0x9F, 0x99], byte: 0xF0, offset: p, "4-byte sequence truncated at the end")
        assertRejects(prefix + [0xC3], byte: 0xC3, offset: p, "2-byte lead at the very end")
        assertRejects(prefix + [0xE4, 0x61, 0x62], byte: 0xE4, offset: p, "3-byte sequence cut by ASCII")
        assertRejects(prefix + [0xED, 0xA0, 0x80], byte: 0xED, offset: p, "high surrogate U+D800")
        assertRejects(prefix + [0xED, 0xBF, 0xBF], byte: 0xED, offset: p, "low surrogate U+DFFF")
        assertRejects(prefix + [0xF4, 0x90, 0x80, 0x80], byte: 0xF4, offset: p, "U+110000, above the last scalar")
        assertRejects(prefix + [0xF5, 0x80, 0x80, 0x80], byte: 0xF5, offset: p, "lead byte 0xF5")
        assertRejects(prefix + [0xFF], byte: 0xFF, offset: p, "byte 0xFF")
        assertRejects([0xC0, 0x80], byte: 0xC0, offset: 0, "invalid at offset 0")
        assertRejects([0xEF, 0xBB, 0xBF, 0x80], byte: 0x80, offset: 3, "offsets count the BOM's bytes")
    }

    /// Random byte strings must decode exactly when the standard library's validator accepts
    /// them, to the same scalars; when it rejects them, the error must name the end of the
    /// longest valid prefix (UTF-8 is self-synchronising, so that is where a sequential
    /// decoder first fails). Half the strings are valid UTF-8 of boundary scalars; the other
    /// half are such strings with one byte replaced, inserted or cut off.
    func testAgreesWithStandardLibraryOnRandomBytes() {
        var rng = RandomGenerator(seed: 2024)
        let scalars: [UInt32] = [0x00, 0x41, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF,
                                 0x10000, 0x1F642, 0x10FFFF, 0x4E2D]
        let palette: [UInt8] = [0x41, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                                0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF]
        var accepted = 0, rejected = 0
        for _ in 0..<4000 {
            var bytes: [UInt8] = []
            for _ in 0..<1 + rng.nextInt(below: 4) {
                let scalar = Unicode.Scalar(scalars[rng.nextInt(below: scalars.count)]) ?? "?"
                bytes += Array(String(Character(scalar)).utf8)
            }
            if rng.nextInt(below: 2) == 0 {
                let at = rng.nextInt(below: bytes.count)
                switch rng.nextInt(below: 3) {
                case 0: bytes[at] = palette[rng.nextInt(below: palette.count)]
                case 1: bytes.insert(palette[rng.nextInt(below: palette.count)], at: at)
                default: bytes.removeLast(1 + rng.nextInt(below: bytes.count - at))
                }
            }
            if bytes.isEmpty || bytes.starts(with: [0xEF, 0xBB, 0xBF]) { continue }  // the BOM rule is tested above
            if let string = String(validating: bytes, as: UTF8.self) {
                accepted += 1
                XCTAssertEqual(try? decode(bytes), string.unicodeScalars.map(\.value), "bytes \(bytes)")
            } else {
                rejected += 1
                let validPrefix = (0...bytes.count).last { String(validating: bytes[..<$0], as: UTF8.self) != nil } ?? 0
                assertRejects(bytes, byte: bytes[validPrefix], offset: validPrefix, "bytes \(bytes)")
            }
        }
        XCTAssertGreaterThan(accepted, 1000, "the sample should hold plenty of valid strings")
        XCTAssertGreaterThan(rejected, 1000, "and plenty of invalid ones")
    }

    // MARK: - Files

    func testReadsAFile() throws {
        let folder = try makeTemporaryFolder()
        let path = folder + "/corpus.txt"
        let text = "注意力机制：Q、K、V\n🙂 hello\n"
        try Data([0xEF, 0xBB, 0xBF] + Array(text.utf8)).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try TextFile.readScalars(path), text.unicodeScalars.map(\.value))
    }

    func testFileErrors() throws {
        let folder = try makeTemporaryFolder()
        let missing = folder + "/missing.txt"
        assertRuntimeError(containing: ["not found", missing]) { try TextFile.readScalars(missing) }

        let empty = folder + "/empty.txt"
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        assertRuntimeError(containing: [empty, "empty"]) { try TextFile.readScalars(empty) }

        assertRuntimeError(containing: [folder, "folder"]) { try TextFile.readScalars(folder) }

        let latin1 = folder + "/latin1.txt"
        try Data(Array("caf".utf8) + [0xE9, 0x21]).write(to: URL(fileURLWithPath: latin1))
        assertRuntimeError(containing: [latin1, "offset 3", "0xE9", "UTF-8"]) { try TextFile.readScalars(latin1) }
    }
}
