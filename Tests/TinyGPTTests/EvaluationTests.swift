// Tests for Training/Evaluation.swift: `score` against a by-hand mean of per-character
// cross-entropies (log-sum-exp in Double over the logits of full forward passes), for texts
// whose length is and is not a multiple of the context, plus its unit conversions and errors.

import Foundation
import XCTest
@testable import TinyGPT

final class EvaluationTests: XCTestCase {
    static let config = GPTConfig(vocabSize: 19, contextLength: 8, layerCount: 2, headCount: 2, modelWidth: 32, gelu: .exact)

    /// A model with every parameter drawn from N(0, 0.5²), so losses differ a lot per position.
    static func randomModel(seed: UInt64) -> GPT {
        var rng = RandomGenerator(seed: seed)
        let values = (0..<ParameterLayout(config).totalCount).map { _ in rng.nextNormal() * 0.5 }
        return GPT(config: config, parameters: values, context: DeterminismPools.single)
    }

    /// The mean loss by hand. Every character after the first is scored once, predicted from
    /// the characters before it in its window: windows of T = min(context, n - 1) start at
    /// 0, T, 2T, …; characters past the last full window are predicted by the window of T
    /// inputs that ends just before the last character. Each window is one batch-of-one
    /// forward pass; cross-entropy is log Σ exp(logits) - logit[target], in Double.
    static func referenceLoss(_ model: GPT, _ tokens: [Int32]) -> (loss: Double, positions: Int) {
        let n = tokens.count, V = model.config.vocabSize
        let T = min(model.config.contextLength, n - 1)
        let covered = (n - 1) / T * T
        var total = 0.0, positions = 0
        var windowStart = -1
        var windowLogits: [[Double]] = []
        for i in 0..<n - 1 {  // input position i predicts tokens[i + 1]
            let start = i < covered ? i / T * T : n - 1 - T
            if start != windowStart {
                let window = Array(tokens[start..<start + T])
                window.withUnsafeBufferPointer { model.forward(tokens: $0.baseAddress!, B: 1, T: T) }
                windowLogits = (0..<T).map { t in UnsafeBufferPointer(start: model.logits(row: t), count: V).map(Double.init) }
                windowStart = start
            }
            let logits = windowLogits[i - start]
            let m = logits.max() ?? 0
            let logSumExp = m + log(logits.reduce(0) { $0 + exp($1 - m) })
            total += logSumExp - logits[Int(tokens[i + 1])]
            positions += 1
        }
        return (total / Double(positions), positions)
    }

    func testScoreMatchesHandComputedLoss() throws {
        let model = Self.randomModel(seed: 5)
        var rng = RandomGenerator(seed: 6)
        // 3·8 + 6 targets: three full windows, a remainder, and (with batch 3) a partial batch.
        // Also exactly k·T + 1 characters (no remainder) and a text shorter than the context.
        for length in [31, 33, 5, 2] {
            let tokens = randomTokens(length, below: Self.config.vocabSize, &rng)
            let expected = Self.referenceLoss(model, tokens)
            XCTAssertEqual(expected.positions, length - 1)
            XCTAssertGreaterThan(expected.loss, 0.5, "a random model should have a clearly non-zero loss")
            for batchSize in [1, 3, 8] {
                let score = try Evaluation.score(model: model, tokens: tokens, batchSize: batchSize)
                XCTAssertEqual(score.positions, length - 1, "length \(length), batch \(batchSize)")
                assertClose(score.loss, expected.loss, rtol: 1e-5, "length \(length), batch \(batchSize)")
                XCTAssertEqual(score.bitsPerCharacter, score.loss / log(2), accuracy: 1e-12)
                XCTAssertEqual(score.perplexity, exp(score.loss), accuracy: 1e-12 * exp(score.loss))
            }
        }
    }

    /// With exactly T + 1 characters the score is one window: the mean loss GPT.forward
    /// returns with targets (its own cross-entropy kernel), a second way to the same number.
    func testOneWindowEqualsTheForwardLoss() throws {
        let model = Self.randomModel(seed: 7)
        var rng = RandomGenerator(seed: 8)
        let T = Self.config.contextLength
        let tokens = randomTokens(T + 1, below: Self.config.vocabSize, &rng)
        let inputs = Array(tokens.prefix(T)), targets = Array(tokens.dropFirst())
        var unused = RandomGenerator(seed: 0)
        let loss = inputs.withUnsafeBufferPointer { i in
            targets.withUnsafeBufferPointer { g in
                model.forward(tokens: i.baseAddress!, targets: g.baseAddress!, B: 1, T: T, rng: &unused)
            }
        }
        let score = try Evaluation.score(model: model, tokens: tokens)
        XCTAssertEqual(score.positions, T)
        assertClose(score.loss, Double(loss), rtol: 1e-5)
    }

    func testTooShortTextIsRejected() {
        let model = Self.randomModel(seed: 9)
        for tokens in [[Int32(3)], []] {
            XCTAssertThrowsError(try Evaluation.score(model: model, tokens: tokens)) { error in
                guard let error = error as? TinyGPTError else { return XCTFail("unexpected error \(error)") }
                XCTAssertEqual(error.kind, .runtime)
                XCTAssertTrue(error.message.contains("two characters"), error.message)
            }
        }
    }
}
