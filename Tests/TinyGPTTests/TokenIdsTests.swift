// Tests of Text/TokenIds.swift: each width stores and reads back every id, bulk copies agree
// with single reads, the digest is the CRC32 an [Int32] of the same ids had, and the corpus
// loader picks the narrowest width the vocabulary allows.

import Foundation
import XCTest
@testable import TinyGPT

final class TokenIdsTests: XCTestCase {
    func testWidthFollowsTheVocabularySize() {
        XCTAssertEqual(TokenIds.width(vocabSize: 1), 1)
        XCTAssertEqual(TokenIds.width(vocabSize: 256), 1)
        XCTAssertEqual(TokenIds.width(vocabSize: 257), 2)
        XCTAssertEqual(TokenIds.width(vocabSize: 65_536), 2)
        XCTAssertEqual(TokenIds.width(vocabSize: 65_537), 4)
        XCTAssertEqual(TokenIds.width(vocabSize: GPTConfig.maxVocabSize), 4)
    }

    func testEveryWidthRoundTripsAndCopiesAndDigestsLikeAnInt32Array() {
        var rng = RandomGenerator(seed: 21)
        for (vocabSize, width) in [(65, 1), (256, 1), (3000, 2), (65_536, 2), (1 << 21, 4)] {
            // The largest id first, so the width is the one the vocabulary needs.
            let ids = [Int32(vocabSize - 1), 0] + (0..<5000).map { _ in Int32(rng.nextInt(below: vocabSize)) }
            let stored = TokenIds(ids)
            XCTAssertEqual(stored.width, width, "vocabulary \(vocabSize)")
            XCTAssertEqual(stored.count, ids.count)
            XCTAssertEqual(Array(stored), ids, "vocabulary \(vocabSize): ids read back")

            var copied = [Int32](repeating: -1, count: 100)
            copied.withUnsafeMutableBufferPointer { stored.copy(1234..<1334, to: $0.baseAddress!) }
            XCTAssertEqual(copied, Array(ids[1234..<1334]), "vocabulary \(vocabSize): bulk copy")

            let int32Bytes = ids.flatMap { id in withUnsafeBytes(of: id.littleEndian) { Array($0) } }
            XCTAssertEqual(stored.digest(), CRC32.checksum(int32Bytes), "vocabulary \(vocabSize): digest")
        }
        XCTAssertEqual(TokenIds([Int32]()).count, 0)
        XCTAssertEqual(TokenIds([Int32]()).digest(), CRC32.checksum([UInt8]()))
    }

    func testReadTokensStoresEnglishInOneByteAndChineseInTwo() throws {
        let folder = NSTemporaryDirectory() + "tinygpt-tokens-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        let english = "It was a dark and stormy night; the rain fell in torrents.\n"
        let chinese = String(String.UnicodeScalarView((0..<400).map { Unicode.Scalar(0x4E00 + $0 * 7)! })) + "。\n"
        for (text, width) in [(english, 1), (chinese, 2)] {
            let path = folder + "/text-\(width).txt"
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let (tokenizer, tokens) = try TextFile.readTokens(path)
            XCTAssertEqual(tokens.width, width)
            XCTAssertEqual(Array(tokens), try tokenizer.encode(text))
            XCTAssertEqual(tokenizer.decode(tokens), text)
        }
    }

    func testCountsAreHowOftenEachIdOccursAndGuessTheSameLanguage() {
        let ids: [Int32] = [0, 2, 2, 1, 2, 0, 3]
        XCTAssertEqual(TokenIds(ids).counts(vocabSize: 5), [2, 1, 3, 1, 0])
        // The language from counts is the language of the text itself.
        let text = "老师说: loss 是损失, 梯度是方向和大小."
        let vocabulary = Array(Set(text.unicodeScalars)).sorted { $0.value < $1.value }
        let index = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, Int32($0)) })
        let tokens = TokenIds(text.unicodeScalars.map { index[$0]! })
        XCTAssertEqual(TextLanguage.guess(scalars: vocabulary, counts: tokens.counts(vocabSize: vocabulary.count)),
                       TextLanguage.guess(text))
        XCTAssertEqual(TextLanguage.guess(scalars: vocabulary, counts: tokens.counts(vocabSize: vocabulary.count)), .chinese)
    }
}
