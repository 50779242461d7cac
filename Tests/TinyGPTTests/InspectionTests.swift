// Tests for Model/GPT+Trace.swift, Model/HeadSummary.swift and Sampling/Sampler+Distribution.swift:
// the numbers behind the inspector page. The logit lens after the last block is the model's
// own logits; attention rows are causal distributions; the scores shown before the softmax
// reproduce the weights; the page's distribution is the one the sampler draws from; and the
// head summaries name the pattern of hand-made attention matrices.

import Foundation
import XCTest
@testable import TinyGPT

final class InspectionTests: XCTestCase {
    static let config = GPTConfig(vocabSize: 23, contextLength: 16, layerCount: 2, headCount: 4, modelWidth: 32)

    private func traced(_ tokens: [Int32], seed: UInt64 = 5) -> (GPT, ForwardTrace) {
        let model = SamplerTests.randomModel(Self.config, seed: seed)
        return (model, model.trace(tokens: tokens, newline: 0, space: 1))
    }

    private var prompt: [Int32] {
        var rng = RandomGenerator(seed: 11)
        return randomTokens(13, below: Self.config.vocabSize, &rng)
    }

    // MARK: - Logit lens

    func testLensAfterLastBlockIsTheModelsLogits() {
        let tokens = prompt
        let (_, trace) = traced(tokens)
        XCTAssertEqual(trace.stages.count, Self.config.layerCount + 1)
        XCTAssertNil(trace.stages[0].block)
        XCTAssertEqual(trace.stages.last?.lastLogits, trace.logits, "same kernels, same bits")
        // And the logits are the full forward's, from an independent model object.
        let other = SamplerTests.randomModel(Self.config, seed: 5)
        assertClose(trace.logits, SamplerTests.fullForwardLastLogits(other, tokens).map(Double.init), rtol: 0, atol: 0)
        // The lens's top candidates at the last position are the top of softmax(logits).
        let p = trace.logits.withUnsafeBufferPointer { Softmax.probabilities($0.baseAddress!, count: 23, temperature: 1) }
        let best = p.indices.max { p[$0] < p[$1] }!
        XCTAssertEqual(trace.stages.last?.lens.last?.first?.id, best)
        XCTAssertEqual(trace.stages.last!.lens.last!.first!.probability, p[best], accuracy: 1e-12)
        for stage in trace.stages {
            XCTAssertEqual(stage.lens.count, tokens.count)
            for candidates in stage.lens {
                XCTAssertEqual(candidates.count, 5)
                XCTAssertTrue(zip(candidates, candidates.dropFirst()).allSatisfy { $0.probability >= $1.probability })
            }
        }
    }

    func testStreamSizesAddUp() {
        let tokens = prompt
        let (_, trace) = traced(tokens)
        XCTAssertTrue(trace.stages[0].attentionSizes.isEmpty && trace.stages[0].mlpSizes.isEmpty)
        for stage in trace.stages.dropFirst() {
            XCTAssertEqual(stage.attentionSizes.count, tokens.count)
            XCTAssertEqual(stage.mlpSizes.count, tokens.count)
            XCTAssertTrue(stage.attentionSizes.allSatisfy { $0 > 0 } && stage.mlpSizes.allSatisfy { $0 > 0 })
        }
        // Triangle inequality: ‖x + a + m‖ ≤ ‖x‖ + ‖a‖ + ‖m‖ at every position and block.
        for l in 1..<trace.stages.count {
            for t in 0..<tokens.count {
                let before = trace.stages[l - 1].streamSizes[t], s = trace.stages[l]
                XCTAssertLessThanOrEqual(s.streamSizes[t], (before + s.attentionSizes[t] + s.mlpSizes[t]) * 1.0001)
            }
        }
    }

    // MARK: - Attention

    func testAttentionRowsSumToOneAndAreZeroAboveTheDiagonal() {
        let tokens = prompt
        let (_, trace) = traced(tokens)
        let T = tokens.count
        for layer in trace.heads {
            XCTAssertEqual(layer.count, Self.config.headCount)
            for head in layer {
                for t in 0..<T {
                    let row = head.weights[(t * T)..<((t + 1) * T)]
                    XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-5)
                    XCTAssertTrue(row.allSatisfy { $0 >= 0 })
                    for j in (t + 1)..<T where t + 1 < T {
                        XCTAssertEqual(head.weights[t * T + j], 0)
                        XCTAssertEqual(head.scores[t * T + j], 0)
                        XCTAssertEqual(head.valueSizes[t * T + j], 0)
                    }
                }
            }
        }
    }

    func testScoresBeforeTheSoftmaxReproduceTheWeights() {
        let tokens = prompt
        let (_, trace) = traced(tokens)
        let T = tokens.count
        XCTAssertEqual(trace.heads[0][0].scale, 1 / Float(Self.config.headWidth).squareRoot())
        var worst = 0.0
        for layer in trace.heads {
            for head in layer {
                for t in 0..<T {
                    let scaled = (0...t).map { Double(head.scores[t * T + $0]) * Double(head.scale) }
                    let m = scaled.max()!
                    let e = scaled.map { exp($0 - m) }
                    let sum = e.reduce(0, +)
                    for j in 0...t { worst = max(worst, abs(e[j] / sum - Double(head.weights[t * T + j]))) }
                }
            }
        }
        XCTAssertLessThan(worst, 2e-5, "softmax(scores / √d) against the model's attention")
        // The scores really are spread out (a random model with scale 0.5): the test is not vacuous.
        XCTAssertGreaterThan(trace.heads[0].map { $0.scores.map(abs).max()! }.max()!, 1)
    }

    func testValueSizesAreWeightTimesValueNorm() {
        let tokens: [Int32] = [3, 4, 5, 3]
        let (model, trace) = traced(tokens)
        let C = Self.config.modelWidth, hs = Self.config.headWidth, T = tokens.count
        let qkv = model.streams(layer: 1).qkv
        let head = trace.heads[1][2]
        for t in 0..<T {
            for j in 0...t {
                var norm = 0.0
                for i in 0..<hs { let v = Double(qkv[j * 3 * C + 2 * C + 2 * hs + i]); norm += v * v }
                XCTAssertEqual(Double(head.valueSizes[t * T + j]), Double(head.weights[t * T + j]) * norm.squareRoot(),
                               accuracy: 1e-5)
            }
        }
    }

    // MARK: - The sampler's distribution

    func testDistributionIsWhatTheSamplerDraws() {
        var rng = RandomGenerator(seed: 3)
        let logits = randomFloats(40, scale: 2, &rng)
        let settings: [SamplingSettings] = [
            SamplingSettings(temperature: 1), SamplingSettings(temperature: 0.7, topK: 5),
            SamplingSettings(temperature: 0.7, topK: 5, topP: 0.9), SamplingSettings(temperature: 1.3, topP: 0.5),
            SamplingSettings(temperature: 0.05), SamplingSettings(temperature: 2, topK: 1),
        ]
        for s in settings {
            let p = logits.withUnsafeBufferPointer { Sampler.distribution($0.baseAddress!, count: 40, settings: s) }
            XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-12)
            if let k = s.topK { XCTAssertLessThanOrEqual(p.filter { $0 > 0 }.count, k) }
            // pick draws u from the generator and walks the cumulative in id order: the same u
            // walked over `p` must land on the same id, for many u.
            var draws = RandomGenerator(seed: 99)
            for _ in 0..<300 {
                var copy = draws
                let u = Double(copy.nextFloat())
                var cumulative = 0.0, expected = -1, last = 0
                for i in 0..<40 where p[i] > 0 {
                    cumulative += p[i]
                    last = i
                    if u < cumulative { expected = i; break }
                }
                if expected < 0 { expected = last }
                let picked = logits.withUnsafeBufferPointer { Sampler.pick($0.baseAddress!, count: 40, settings: s, rng: &draws) }
                XCTAssertEqual(Int(picked), expected)
            }
        }
        // Without top-k and top-p it is softmax(z / T); at T = 0 one-hot at the argmax.
        let plain = logits.withUnsafeBufferPointer { Sampler.distribution($0.baseAddress!, count: 40, settings: SamplingSettings(temperature: 0.8)) }
        let softmax = logits.withUnsafeBufferPointer { Softmax.probabilities($0.baseAddress!, count: 40, temperature: Double(Float(0.8))) }
        XCTAssertEqual(plain, softmax)
        let greedy = logits.withUnsafeBufferPointer { Sampler.distribution($0.baseAddress!, count: 40, settings: SamplingSettings(temperature: 0, topK: 3)) }
        XCTAssertEqual(greedy.firstIndex(of: 1), logits.indices.max { logits[$0] < logits[$1] })
        XCTAssertEqual(greedy.filter { $0 > 0 }.count, 1)
    }

    func testTopPKeepsTheShortestPrefixReachingP() {
        let logits: [Float] = [log(0.5), log(0.3), log(0.15), log(0.05)]
        func kept(_ p: Float) -> Int {
            logits.withUnsafeBufferPointer {
                Sampler.distribution($0.baseAddress!, count: 4, settings: SamplingSettings(temperature: 1, topP: p))
            }.filter { $0 > 0 }.count
        }
        XCTAssertEqual(kept(0.4), 1)
        XCTAssertEqual(kept(0.79), 2)
        XCTAssertEqual(kept(0.81), 3)
        XCTAssertEqual(kept(0.99), 4)
    }

    // MARK: - Head summaries on hand-made matrices

    /// A (T, T) causal matrix whose row t puts `row(t)` ((key, weight) pairs, a key may repeat)
    /// on the keys, normalised.
    private func matrix(_ T: Int, _ row: (Int) -> [(Int, Double)]) -> [Float] {
        var m = [Float](repeating: 0, count: T * T)
        for t in 0..<T {
            let entries = t == 0 ? [(0, 1.0)] : row(t)
            let total = entries.map(\.1).reduce(0, +)
            for (j, w) in entries { precondition(j <= t); m[t * T + j] += Float(w / total) }
        }
        return m
    }

    func testHeadSummariesNameHandMadePatterns() {
        // "ab cab\nab cd\nabc": newline 0, space 1, other letters 2...
        let text: [Int32] = [2, 3, 1, 4, 2, 3, 0, 2, 3, 1, 4, 5, 0, 2, 3, 4]
        let T = text.count
        func summary(_ m: [Float]) -> HeadSummary { HeadSummary(weights: m, tokens: text, newline: 0, space: 1) }

        XCTAssertEqual(summary(matrix(T) { [($0 - 1, 1)] }).pattern, .previousCharacter)
        XCTAssertEqual(summary(matrix(T) { [($0 - 1, 1)] }).share, 1, accuracy: 1e-6)
        XCTAssertEqual(summary(matrix(T) { [($0, 1)] }).pattern, .itself)
        XCTAssertEqual(summary(matrix(T) { _ in [(0, 1)] }).pattern, .firstPosition)
        XCTAssertEqual(summary(matrix(T) { t in (0...t).map { ($0, 1.0) } }).pattern, .spreadEvenly)
        XCTAssertEqual(summary(matrix(T) { t in t == 1 ? [(0, 1), (1, 1)] : [(t - 2, 1), (t - 1, 1), (t, 1)] }).pattern, .recentCharacters)
        // Earlier copies of the query's character, where there are some (else itself).
        let same = matrix(T) { t in
            let copies = (0..<t).filter { text[$0] == text[t] }
            return copies.isEmpty ? [(t, 1)] : copies.map { ($0, 1.0) }
        }
        XCTAssertEqual(summary(same).pattern, .sameCharacterEarlier)
        let after = matrix(T) { t in
            let next = (0..<t).filter { text[$0] == text[t] }.map { $0 + 1 }.filter { $0 < t }
            return next.isEmpty ? [(t, 1)] : next.map { ($0, 1.0) }
        }
        XCTAssertEqual(summary(after).pattern, .afterSameCharacter)
        let lineStart = matrix(T) { t in
            let start: Int = (1...t).last(where: { text[$0 - 1] == 0 }) ?? 0
            return [(start, 1)]
        }
        XCTAssertEqual(summary(lineStart).pattern, .startOfLine)
        let wordStart = matrix(T) { t in
            let start: Int = (1...t).last(where: { text[$0 - 1] == 0 || text[$0 - 1] == 1 }) ?? 0
            return [(start, 1)]
        }
        XCTAssertEqual(summary(wordStart).pattern, .startOfWord)
        let lastSpace = matrix(T) { t in
            let space: Int = (0..<t).last(where: { text[$0] == 0 || text[$0] == 1 }) ?? t
            return [(space, 1)]
        }
        XCTAssertEqual(summary(lastSpace).pattern, .lastSpace)
        // A third each on the first position, the middle and itself: no majority, not the last
        // three characters, and not even (the rest of the row is empty).
        let split = summary(matrix(T) { t in [(0, 1), (t / 2, 1), (t, 1)] })
        XCTAssertEqual(split.pattern, .mixed)
        XCTAssertLessThan(split.share, HeadSummary.threshold)
        // A prompt without a newline has no start-of-line share at all.
        XCTAssertNil(HeadSummary(weights: matrix(4) { [($0 - 1, 1)] }, tokens: [2, 3, 4, 5], newline: 0).shares[.startOfLine])
    }
}
