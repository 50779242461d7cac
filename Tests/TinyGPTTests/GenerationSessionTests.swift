// Tests for Sampling/GenerationSession.swift and TemperatureSweep.swift: prompts (default
// newline, unknown characters), streams drawn in turn from one seeded generator (what
// `tinygpt sample --samples N` prints), the temperature sweep against a hand-written loop,
// and the logits and attention views against the full forward pass.

import Foundation
import XCTest
@testable import TinyGPT

final class GenerationSessionTests: XCTestCase {
    static let vocabulary: [UInt32] = Array("\n abcdefgh".unicodeScalars.map(\.value))

    static func checkpoint(seed: UInt64 = 3) -> Checkpoint {
        let config = GPTConfig(vocabSize: vocabulary.count, contextLength: 12, layerCount: 2, headCount: 2, modelWidth: 16)
        var rng = RandomGenerator(seed: seed)
        let parameters = (0..<ParameterLayout(config).totalCount).map { _ in rng.nextNormal() * 0.5 }
        return Checkpoint(config: config, vocabulary: vocabulary, parameters: parameters, training: nil)
    }

    static func session() throws -> GenerationSession {
        try GenerationSession(checkpoint: checkpoint(), context: DeterminismPools.single)
    }

    func testPrompts() throws {
        let session = try Self.session()
        XCTAssertEqual(try session.encodePrompt(), [0])
        XCTAssertEqual(try session.encodePrompt("abc"), [2, 3, 4])
        XCTAssertThrowsError(try session.encodePrompt("abz")) { error in
            XCTAssertTrue("\(error)".contains("'z'") || "\(error)".contains("z"), "\(error)")
        }
        // Without a newline in the vocabulary the default prompt is the first character.
        var noNewline = Self.checkpoint()
        noNewline.vocabulary[0] = 0x09  // a tab
        XCTAssertEqual(try GenerationSession(checkpoint: noNewline).encodePrompt(), [0])
    }

    /// Streams take turns on one generator: the same as calling the sampler N times with it.
    func testStreamsDrawInTurnFromOneGenerator() throws {
        let session = try Self.session()
        let settings = SamplingSettings(temperature: 1.3, topK: 6)
        let prompt = try session.encodePrompt("ab")
        var streamed: [[Int32]] = [[], [], []]
        var positions: [[Int]] = [[], [], []]
        try session.generate(prompt, count: 30, settings: settings, seed: 11, streams: 3) { c in
            streamed[c.stream].append(c.id)
            positions[c.stream].append(c.position)
            XCTAssertEqual(c.text, session.tokenizer.character(Int(c.id)))
        }
        var rng = RandomGenerator(seed: 11)
        for s in 0..<3 {
            var expected: [Int32] = []
            Sampler.generate(cache: KVCache(model: session.model), prompt: prompt, count: 30, settings: settings, rng: &rng) {
                expected.append($0)
            }
            XCTAssertEqual(streamed[s], expected, "stream \(s)")
            XCTAssertEqual(positions[s], Array(0..<30))
        }
        XCTAssertNotEqual(streamed[0], streamed[1], "streams should differ")
        // The text form holds the same characters; stream 0 alone is the first of several.
        let texts = try session.sample("ab", count: 30, settings: settings, seed: 11, streams: 3)
        XCTAssertEqual(texts, streamed.map { session.tokenizer.decode($0) })
        XCTAssertEqual(try session.sample("ab", count: 30, settings: settings, seed: 11), [texts[0]])
        // Greedy streams are all the same.
        let greedy = try session.sample(count: 20, settings: SamplingSettings(temperature: 0), streams: 2)
        XCTAssertEqual(greedy[0], greedy[1])
        // Settings are checked before anything is generated, naming the field.
        XCTAssertThrowsError(try session.sample(count: 5, settings: SamplingSettings(temperature: 1, topP: 0))) { error in
            XCTAssertTrue("\(error)".hasPrefix("`topP` must be"), "\(error)")
        }
    }

    func testTemperatureSweepMatchesAHandWrittenLoop() throws {
        let session = try Self.session()
        let prompt = try session.encodePrompt("ab")
        let temperatures: [Float] = [0, 0.7, 1.5]
        let sweep = try session.temperatureSweep(prompt, temperatures: temperatures, count: 25, samplesPerTemperature: 2, seed: 40)
        XCTAssertEqual(sweep.prompt, "ab")
        XCTAssertEqual(sweep.vocabulary, Self.vocabulary.map { String(UnicodeScalar($0)!) })
        XCTAssertEqual(sweep.temperatures, temperatures)
        let full = session.logits(prompt)
        for (a, b) in zip(sweep.logits, full[prompt.count - 1]) { XCTAssertEqual(a, b, accuracy: 1e-4) }

        let model = GPT(config: session.config, parameters: Self.checkpoint().parameters, context: DeterminismPools.single)
        let cache = KVCache(model: model)
        for (ti, t) in temperatures.enumerated() {
            XCTAssertEqual(sweep.samples[ti].count, 2)
            for s in 0..<2 {
                var rng = RandomGenerator(seed: 40 + UInt64(s))
                var ids: [Int32] = []
                var logs: [Double] = []
                Sampler.generate(cache: cache, prompt: prompt, count: 25, settings: SamplingSettings(temperature: t), rng: &rng) { id in
                    logs.append(log(max(Softmax.probabilities(cache.logits.pointer, count: model.config.vocabSize, temperature: 1)[Int(id)], 1e-300)))
                    ids.append(id)
                }
                XCTAssertEqual(sweep.samples[ti][s], TemperatureSample(text: session.tokenizer.decode(ids), logProbabilities: logs))
            }
        }
        XCTAssertThrowsError(try session.temperatureSweep(prompt, temperatures: [-1], count: 5))
    }

    func testLogitsAndAttentionAreTheFullForwardPass() throws {
        let session = try Self.session()
        let ids: [Int32] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5]  // longer than the context (12)
        let rows = session.logits(ids)
        XCTAssertEqual(rows.count, 12)
        let model = GPT(config: session.config, parameters: Self.checkpoint().parameters, context: DeterminismPools.single)
        Array(ids.prefix(12)).withUnsafeBufferPointer { model.forward(tokens: $0.baseAddress!, B: 1, T: 12) }
        for t in 0..<12 {
            XCTAssertEqual(rows[t], Array(UnsafeBufferPointer(start: model.logits(row: t), count: session.config.vocabSize)))
        }
        let window = Array(ids.prefix(5))
        let weights = session.attentionWeights(window)
        XCTAssertEqual(weights.count, 2)
        for layer in weights {
            XCTAssertEqual(layer.count, 2)
            for head in layer {
                XCTAssertEqual(head.count, 25)
                for q in 0..<5 {
                    let row = head[(q * 5)..<(q * 5 + 5)]
                    XCTAssertEqual(Double(row.reduce(0, +)), 1, accuracy: 1e-5)
                    XCTAssertTrue(row.dropFirst(q + 1).allSatisfy { $0 == 0 }, "causal: no weight on later keys")
                }
            }
        }
    }
}
