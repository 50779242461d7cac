// Tests for Text/CharTokenizer.swift: exact round trips in any script (English, Chinese,
// emoji beyond the Basic Multilingual Plane, combining marks), ids in the order Python's
// `sorted(set(text))` gives, clear errors for unknown characters and bad vocabularies, and
// how characters are described in messages.

import XCTest
@testable import TinyGPT

final class TokenizerTests: XCTestCase {
    /// A tokenizer fitted to `text`.
    private func fitted(_ text: String) -> CharTokenizer {
        CharTokenizer(fitting: TextFile.scalars(of: text))
    }

    /// Asserts that `body` throws a TinyGPTError of `kind` whose message contains every fragment.
    private func assertThrows<T>(_ kind: TinyGPTError.Kind, containing fragments: [String],
                                 file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T) {
        do {
            _ = try body()
            XCTFail("expected a \(kind) error containing \(fragments)", file: file, line: line)
        } catch let error as TinyGPTError {
            XCTAssertEqual(error.kind, kind, "error kind for \"\(error.message)\"", file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(error.message.contains(fragment), "\"\(error.message)\" lacks \"\(fragment)\"",
                              file: file, line: line)
            }
        } catch {
            XCTFail("unexpected error type: \(error)", file: file, line: line)
        }
    }

    // MARK: - Round trips

    func testRoundTripsEveryScript() throws {
        let texts = [
            "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer",
            "注意力机制：Q、K、V",
            "🙂𝄞🚀 and 👍🏽 (a thumb with a skin tone is two scalars)",
            "Mixed: café (é precomposed) vs cafe\u{301} (e + combining acute), 中文, Ελληνικά, 🙂\t𝄞\r\n",
        ]
        for text in texts {
            let tokenizer = fitted(text)
            let ids = try tokenizer.encode(text)
            let scalars = TextFile.scalars(of: text)
            XCTAssertEqual(ids.count, scalars.count, "one id per Unicode scalar in \(text.debugDescription)")
            let decoded = tokenizer.decode(ids)
            // Compare scalars, not Strings: String equality would forgive a normalisation.
            XCTAssertEqual(TextFile.scalars(of: decoded), scalars, "round trip of \(text.debugDescription)")
            XCTAssertTrue(ids.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabSize })
        }
    }

    func testAstralScalarsAreSingleTokens() throws {
        let tokenizer = fitted("a🙂b𝄞")
        XCTAssertEqual(tokenizer.vocabSize, 4)
        XCTAssertEqual(tokenizer.scalars, [0x61, 0x62, 0x1D11E, 0x1F642])
        XCTAssertEqual(try tokenizer.encode("🙂𝄞a"), [3, 2, 0])
        XCTAssertEqual(tokenizer.id(of: 0x1F642), 3)
        XCTAssertEqual(tokenizer.character(2), "𝄞")
        XCTAssertNil(tokenizer.id(of: 0x1F600), "an astral scalar the text lacks")
        XCTAssertNil(tokenizer.id(of: 0x63), "a BMP scalar the text lacks")
    }

    // MARK: - Vocabulary order

    func testIdsFollowSortedScalarOrder() throws {
        // Python: sorted(set("hello world")) == [' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w'].
        XCTAssertEqual(fitted("hello world").scalars, Array(" dehlorw".unicodeScalars.map(\.value)))
        // Python: sorted(set("b🙂a中\n")) == ['\n', 'a', 'b', '中', '🙂'] (code point order).
        let tokenizer = fitted("b🙂a中\n")
        XCTAssertEqual(tokenizer.scalars, [0x0A, 0x61, 0x62, 0x4E2D, 0x1F642])
        XCTAssertEqual(try tokenizer.encode("中\nab🙂"), [3, 0, 1, 2, 4])

        let text = "注意力机制：Q、K、V. Attention! 🙂𝄞 ÉéE"
        let expected = Set(text.unicodeScalars.map(\.value)).sorted()
        let mixed = fitted(text)
        XCTAssertEqual(mixed.scalars, expected)
        for (id, scalar) in expected.enumerated() {
            XCTAssertEqual(mixed.id(of: scalar), Int32(id), "id of U+\(String(scalar, radix: 16))")
        }
    }

    // MARK: - Unknown characters

    func testUnknownCharacterIsAUsageErrorNamingIt() {
        let tokenizer = fitted("abc 中")
        assertThrows(.usage, containing: ["'z'", "position 2", "5 characters"]) { try tokenizer.encode("abz") }
        assertThrows(.usage, containing: ["🙂", "U+1F642", "position 1"]) { try tokenizer.encode("a🙂") }
        assertThrows(.usage, containing: ["newline", "position 3"]) { try tokenizer.encode("abc\n") }
        assertThrows(.usage, containing: ["文", "U+6587"]) { try tokenizer.encode("中文") }
    }

    // MARK: - Restoring a vocabulary

    func testRestoredVocabularyMatchesFitted() throws {
        let text = "注意力机制：Q、K、V 🙂"
        let original = fitted(text)
        let restored = try CharTokenizer(vocabulary: original.scalars)
        XCTAssertEqual(restored, original)
        XCTAssertEqual(try restored.encode(text), try original.encode(text))
    }

    func testVocabularyValidation() {
        assertThrows(.runtime, containing: ["increasing", "entry 1"]) { try CharTokenizer(vocabulary: [0x62, 0x61]) }
        assertThrows(.runtime, containing: ["increasing", "entry 2"]) { try CharTokenizer(vocabulary: [0x41, 0x61, 0x61]) }
        assertThrows(.runtime, containing: ["0xd800", "not a Unicode scalar"]) { try CharTokenizer(vocabulary: [0x61, 0xD800]) }
        assertThrows(.runtime, containing: ["0x110000"]) { try CharTokenizer(vocabulary: [0x61, 0x11_0000]) }
        assertThrows(.runtime, containing: ["empty"]) { try CharTokenizer(vocabulary: []) }
        XCTAssertNoThrow(try CharTokenizer(vocabulary: [0, 0x61, 0xD7FF, 0xE000, 0x10_FFFF]))
    }

    // MARK: - Describing characters

    func testDescribe() {
        XCTAssertEqual(CharTokenizer.describe(0x0A), "'\\n' (newline)")
        XCTAssertEqual(CharTokenizer.describe(0x20), "' ' (space)")
        XCTAssertEqual(CharTokenizer.describe(0x09), "'\\t' (tab)")
        XCTAssertEqual(CharTokenizer.describe(0x00), "U+0000")
        XCTAssertEqual(CharTokenizer.describe(0x0D), "U+000D")
        XCTAssertEqual(CharTokenizer.describe(0x7F), "U+007F")
        XCTAssertEqual(CharTokenizer.describe(0x61), "'a' (U+0061)")
        XCTAssertEqual(CharTokenizer.describe(0x4E2D), "'中' (U+4E2D)")
        XCTAssertEqual(CharTokenizer.describe(0x1F642), "'🙂' (U+1F642)")
        XCTAssertEqual(CharTokenizer.describe(0xD800), "U+D800", "a surrogate is not a scalar: shown as its number only")
        // Characters that show as nothing are never printed raw (issue 21).
        XCTAssertEqual(CharTokenizer.describe(0x2028), "U+2028 (line separator)")
        XCTAssertEqual(CharTokenizer.describe(0x2029), "U+2029 (paragraph separator)")
        for invisible: UInt32 in [0x200B, 0x200D, 0xFEFF, 0x00A0, 0x3000, 0x0301, 0x00AD] {
            let text = CharTokenizer.describe(invisible)
            XCTAssertTrue(text.unicodeScalars.allSatisfy { $0.isASCII }, "\(text) holds the raw character")
        }
    }
}
