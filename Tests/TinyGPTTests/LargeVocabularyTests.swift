// A corpus with thousands of distinct characters (Chinese-sized vocabularies): the tokenizer,
// the streaming file loader, training and sampling all handle it, and the loss falls.

import Foundation
import XCTest
@testable import TinyGPT

final class LargeVocabularyTests: XCTestCase {
    func testThousandsOfCJKCharactersTrainAndSample() throws {
        // 3000 CJK ideographs, in a text built from a small repeating "grammar" so a model can learn.
        var rng = RandomGenerator(seed: 11)
        let alphabet = (0..<3000).map { UInt32(0x4E00 + $0) }
        let words = (0..<400).map { _ in (0..<3).map { _ in alphabet[rng.nextInt(below: alphabet.count)] } }
        // Every ideograph appears at least once (at the start, inside the training split), so
        // the vocabulary is the full 3000 + 2.
        var scalars: [UInt32] = alphabet
        while scalars.count < 60_000 {
            scalars += words[rng.nextInt(below: words.count)]
            scalars.append(rng.nextInt(below: 8) == 0 ? 0x3002 : 0xFF0C)  // 。 or ，
        }
        let text = String(String.UnicodeScalarView(scalars.map { Unicode.Scalar($0)! }))
        let path = NSTemporaryDirectory() + "tinygpt-cjk-\(UUID().uuidString).txt"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }

        let (tokenizer, tokens) = try TextFile.readTokens(path)
        XCTAssertEqual(tokenizer.vocabSize, 3002)
        XCTAssertEqual(tokens.count, scalars.count)
        XCTAssertEqual(tokenizer.decode(tokens), text, "the file round-trips through the token ids")

        var settings = TrainingConfig()
        settings.batchSize = 8
        settings.steps = 300
        settings.warmupSteps = 5
        settings.learningRate = 5e-3
        settings.evalWindows = 16
        let config = GPTConfig(vocabSize: tokenizer.vocabSize, contextLength: 16, layerCount: 1, headCount: 2, modelWidth: 32)
        let trainer = try Trainer(config: config, settings: settings, tokenizer: tokenizer, tokens: tokens,
                                  corpusName: path, context: KernelContext(pool: ThreadPool(threadCount: 1)))
        let before = trainer.evaluate()
        XCTAssertEqual(Double(before), log(3002.0), accuracy: 0.5, "an untrained model is close to uniform")
        while !trainer.isFinished { XCTAssertTrue(trainer.trainStep().applied) }
        let after = trainer.evaluate()
        XCTAssertLessThan(after, before - 1, "300 steps should take the loss well below uniform")

        let cache = KVCache(model: trainer.model)
        var sampleRNG = RandomGenerator(seed: 3)
        var ids: [Int32] = []
        Sampler.generate(cache: cache, prompt: try tokenizer.encode("一"), count: 40,
                         settings: SamplingSettings(temperature: 1), rng: &sampleRNG) { ids.append($0) }
        XCTAssertEqual(ids.count, 40)
        let sample = tokenizer.decode(ids)
        XCTAssertEqual(sample.unicodeScalars.count, 40)
        XCTAssertTrue(sample.unicodeScalars.allSatisfy { tokenizer.id(of: $0.value) != nil })
    }
}
