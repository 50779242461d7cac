// Tests for the KV cache's attention kernels (Ops/Attention+Cached.swift): they give bit for
// bit what FastMath.weightedSum, the cache's kernel before them, gives for every number of
// positions, and a cache running on them keeps each stream's logits equal to its solo run.

import XCTest
@testable import TinyGPT

final class CachedAttentionTests: XCTestCase {
    private func random(_ count: Int, _ rng: inout RandomGenerator) -> [Float] {
        (0..<count).map { _ in rng.nextNormal() }
    }

    /// Scores for n = 1...T, with Kᵀ's row stride T = 64 and 128 (blocks of 64, the partial
    /// vector riding along) and T = 24 (the plain kernel), against weightedSum.
    func testScoresEqualWeightedSumBitForBit() {
        var rng = RandomGenerator(seed: 31)
        for (hs, T) in [(32, 64), (64, 128), (8, 64), (16, 24)] {
            let kt = random(hs * T, &rng), q = random(hs, &rng)
            for n in 1...T {
                var got = [Float](repeating: .nan, count: T), expected = [Float](repeating: .nan, count: T)
                Attention.cachedScores(&got, q, kt, hs: hs, T: T, n: n)
                FastMath.weightedSum(&expected, q, wStride: 1, kt, xStride: T, count: hs, n: n, readable: T)
                XCTAssertEqual(got.prefix(n).map(\.bitPattern), expected.prefix(n).map(\.bitPattern), "hs \(hs), T \(T), n \(n)")
            }
        }
    }

    /// Two weighted sums of values at once, with equal and unequal lengths, against each alone.
    func testPairedWeightedValuesEqualWeightedSumBitForBit() {
        var rng = RandomGenerator(seed: 32)
        let C = 96, T = 40
        let v = random(T * C, &rng), s = random(2 * T, &rng)
        for (na, nb) in [(1, 1), (7, 7), (40, 40), (13, 14), (30, 2), (1, 40)] {
            var got = [Float](repeating: .nan, count: 64), expected = [Float](repeating: .nan, count: 64)
            got.withUnsafeMutableBufferPointer { y in
                s.withUnsafeBufferPointer { s in
                    v.withUnsafeBufferPointer { v in
                        Attention.cachedWeightedValues(.init(y: y.baseAddress!, s: s.baseAddress!, v: v.baseAddress! + 3, n: na),
                                                       .init(y: y.baseAddress! + 32, s: s.baseAddress! + T, v: v.baseAddress! + 50, n: nb),
                                                       stride: C)
                    }
                }
            }
            expected.withUnsafeMutableBufferPointer { y in
                s.withUnsafeBufferPointer { s in
                    v.withUnsafeBufferPointer { v in
                        FastMath.weightedSum(y.baseAddress!, s.baseAddress!, wStride: 1, v.baseAddress! + 3, xStride: C, count: na, n: 32)
                        FastMath.weightedSum(y.baseAddress! + 32, s.baseAddress! + T, wStride: 1, v.baseAddress! + 50, xStride: C,
                                             count: nb, n: 32)
                    }
                }
            }
            XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "lengths \(na), \(nb)")
        }
    }

    /// A cache on the new kernels (context 64; head sizes 32 and 64; width 128 with 4 heads,
    /// where two threads take whole panels of c_attn and skip a barrier): every stream's logits
    /// equal a one-stream cache's, past a window wrap, and are the same bits on 1 and 2 threads;
    /// the first window's logits are the full forward pass's, to rounding.
    func testStreamsOnTheCachedKernelsEqualTheirSoloRuns() {
        for (width, heads) in [(64, 2), (64, 1), (128, 4)] {
            var runs: [[[Float]]] = []
            for pool in [DeterminismPools.single, DeterminismPools.double] {
                let config = GPTConfig(vocabSize: 23, contextLength: 64, layerCount: 2, headCount: heads, modelWidth: width,
                                       gelu: .tanh)
                let model = SamplerTests.randomModel(config, seed: 8, scale: 0.3, context: pool)
                let streams = 3
                let batch = KVCache(model: model, streams: streams)
                let alone = (0..<streams).map { _ in KVCache(model: model) }
                let prompt: [Int32] = [3, 1, 4, 1, 5]
                batch.feed(prompt)
                batch.copyStreamZeroToAll()
                for cache in alone { cache.feed(prompt) }
                var rng = RandomGenerator(seed: 10)
                var fed = [prompt, prompt, prompt]
                var run: [[Float]] = []
                for step in 0..<75 {
                    for s in 0..<streams {
                        let got = Array(UnsafeBufferPointer(start: batch.logits(stream: s), count: config.vocabSize))
                        XCTAssertEqual(got, alone[s].logits.array, "width \(width), heads \(heads), step \(step), stream \(s)")
                        run.append(got)
                    }
                    if step == 40 {
                        // Still in the first window: the full forward pass's last row.
                        let ids = fed[1]
                        ids.withUnsafeBufferPointer { model.forward(tokens: $0.baseAddress!, B: 1, T: ids.count) }
                        let full = Array(UnsafeBufferPointer(start: model.logits(row: ids.count - 1), count: config.vocabSize))
                        assertClose(Array(UnsafeBufferPointer(start: batch.logits(stream: 1), count: config.vocabSize)),
                                    full.map(Double.init), rtol: 1e-4, atol: 1e-4)
                    }
                    let next = (0..<streams).map { _ in Int32(rng.nextInt(below: config.vocabSize)) }
                    batch.feed(streams: next)
                    for s in 0..<streams { alone[s].feed(next[s]); fed[s].append(next[s]) }
                }
                runs.append(run)
            }
            XCTAssertEqual(runs[0], runs[1], "width \(width), heads \(heads): 1 and 2 threads")
        }
    }
}
