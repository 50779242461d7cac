// Tests for Sampling/KVCache.swift and Sampling/Sampler.swift: the cached one-position-at-a-
// time pass against the full GPT.forward (before and after the cache wraps), greedy decoding
// against an argmax over full forward passes, seeded reproducibility, top-k / top-p cuts,
// temperature's effect on the distribution, and the settings' validation.

import Foundation
import XCTest
@testable import TinyGPT

final class SamplerTests: XCTestCase {
    // The cache runs matrix-vector products, the full pass tiled matrix products: the same
    // sums in another order, so Float rounding differs by a few ulps of the largest logit.
    static let tolerance = 1e-5

    static func config(gelu: GELUForm, contextLength: Int = 16) -> GPTConfig {
        GPTConfig(vocabSize: 23, contextLength: contextLength, layerCount: 2, headCount: 4, modelWidth: 32, gelu: gelu)
    }

    /// A model with every parameter drawn from N(0, scale²): far larger than GPT-2's init, so
    /// attention is sharp, logits spread out, and a wrong position or head would show.
    /// Tests that run many small passes use one thread (the pool's hand-offs would dominate).
    static func randomModel(_ config: GPTConfig, seed: UInt64, scale: Float = 0.5,
                            context: KernelContext = DeterminismPools.single) -> GPT {
        var rng = RandomGenerator(seed: seed)
        let values = (0..<ParameterLayout(config).totalCount).map { _ in rng.nextNormal() * scale }
        return GPT(config: config, parameters: values, context: context)
    }

    /// The logits of the last position of a full forward pass over `tokens` (batch of one).
    static func fullForwardLastLogits(_ model: GPT, _ tokens: [Int32]) -> [Float] {
        tokens.withUnsafeBufferPointer { model.forward(tokens: $0.baseAddress!, B: 1, T: tokens.count) }
        let V = model.config.vocabSize
        return Array(UnsafeBufferPointer(start: model.logits(row: tokens.count - 1), count: V))
    }

    // MARK: - KV cache against the full forward pass

    func testCacheMatchesFullForwardAtEveryPosition() {
        for gelu in GELUForm.allCases {
            let config = Self.config(gelu: gelu)
            let T = config.contextLength, V = config.vocabSize
            // The full pass on the shared pool: the parallel kernels that ship.
            let model = Self.randomModel(config, seed: 11, context: testContext)
            var rng = RandomGenerator(seed: 12)
            let tokens = randomTokens(T, below: V, &rng)
            tokens.withUnsafeBufferPointer { model.forward(tokens: $0.baseAddress!, B: 1, T: T) }
            let full = (0..<T).map { t in Array(UnsafeBufferPointer(start: model.logits(row: t), count: V)) }
            XCTAssertGreaterThan(full.flatMap { $0 }.map(abs).max() ?? 0, 1, "logits should be well away from zero")

            let cache = KVCache(model: model)
            for t in 0..<T {
                cache.feed(tokens[t])
                assertClose(cache.logits.array, full[t].doubles, rtol: Self.tolerance, "\(gelu.name) GELU, position \(t)")
            }
            // reset() starts over from position 0.
            cache.reset()
            cache.feed(tokens.prefix(5))
            assertClose(cache.logits.array, full[4].doubles, rtol: Self.tolerance, "\(gelu.name) GELU after reset")
        }
    }

    /// Once the cache is full, the next character triggers a re-encode of the newest T/4
    /// characters (that one included) at positions 0..<T/4; later characters append until the
    /// window is full again. The window is modelled here independently of the cache.
    func testCacheMatchesFullForwardOverTheKeptWindowAfterWrapping() {
        for (gelu, contextLength) in [(GELUForm.tanh, 16), (.exact, 16), (.tanh, 7)] {
            let config = Self.config(gelu: gelu, contextLength: contextLength)
            let T = config.contextLength
            let model = Self.randomModel(config, seed: 21)
            var rng = RandomGenerator(seed: 22)
            let tokens = randomTokens(3 * T + 5, below: config.vocabSize, &rng)
            let cache = KVCache(model: model)
            var window: [Int32] = []
            var wraps = 0
            for (i, token) in tokens.enumerated() {
                if window.count == T {
                    window = Array((window + [token]).suffix(max(1, T / 4)))
                    wraps += 1
                } else {
                    window.append(token)
                }
                cache.feed(token)
                assertClose(cache.logits.array, Self.fullForwardLastLogits(model, window).doubles, rtol: Self.tolerance,
                            "context \(T), \(gelu.name) GELU, after \(i + 1) characters (window of \(window.count))")
            }
            XCTAssertGreaterThanOrEqual(wraps, 3, "the test should cross several wraps")
        }
    }

    /// A prompt fed in one call goes through each weight panel row by row; fed a character at
    /// a time it goes one row per call; on one thread or two the panels and heads are shared
    /// out differently. None of that may change a single bit of any position's logits,
    /// including across wraps (context 16 with a width that leaves a partial 64-column panel).
    func testCacheLogitsDoNotDependOnBatchingOrThreads() {
        for gelu in GELUForm.allCases {
            let config = GPTConfig(vocabSize: 71, contextLength: 16, layerCount: 2, headCount: 3, modelWidth: 48,
                                   gelu: gelu)
            var rng = RandomGenerator(seed: 41)
            let tokens = randomTokens(45, below: config.vocabSize, &rng)
            var runs: [[[Float]]] = []
            for pool in [DeterminismPools.single, DeterminismPools.double] {
                let cache = KVCache(model: Self.randomModel(config, seed: 42, context: pool))
                var oneByOne: [[Float]] = []
                for token in tokens {
                    cache.feed(token)
                    oneByOne.append(cache.logits.array)
                }
                runs.append(oneByOne)
                // Each prefix fed in one call ends on the same logits as feeding it one by one.
                for count in [1, 7, 16, 17, 30, 45] {
                    cache.reset()
                    cache.feed(tokens.prefix(count))
                    XCTAssertEqual(cache.logits.array, oneByOne[count - 1], "\(gelu.name): prefix of \(count) in one call")
                }
            }
            XCTAssertEqual(runs[0], runs[1], "\(gelu.name): one thread and two threads differ")
            XCTAssertNotEqual(runs[0][0], runs[0][1], "logits should change from one position to the next")
        }
    }

    // MARK: - Greedy decoding

    func testGreedyIsDeterministicAndPicksTheArgmax() {
        let config = Self.config(gelu: .tanh)
        let model = Self.randomModel(config, seed: 31)
        let cache = KVCache(model: model)
        let prompt: [Int32] = [3, 14, 15]
        let count = 40  // beyond the context, so the window wraps during generation
        func generate(seed: UInt64) -> [Int32] {
            var out: [Int32] = []
            var rng = RandomGenerator(seed: seed)
            Sampler.generate(cache: cache, prompt: prompt, count: count, settings: SamplingSettings(temperature: 0),
                             rng: &rng) { out.append($0) }
            return out
        }
        let first = generate(seed: 1)
        XCTAssertEqual(first.count, count)
        XCTAssertEqual(generate(seed: 1), first, "greedy decoding must repeat itself")
        XCTAssertEqual(generate(seed: 999), first, "greedy decoding draws nothing from the generator")
        XCTAssertGreaterThan(Set(first).count, 1, "a random model should not emit one character only")

        // Each generated id must be the argmax of a full forward pass over the characters the
        // model sees at that point (the prompt and what was generated, within the first window).
        let T = config.contextLength
        var context = prompt
        for (i, id) in first.enumerated() where context.count <= T {
            let logits = Self.fullForwardLastLogits(model, context)
            let best = logits.max() ?? 0
            let spread = logits.map(abs).max() ?? 0
            // Allow a near-tie decided by rounding, never a clearly worse choice.
            XCTAssertGreaterThanOrEqual(logits[Int(id)], best - Float(Self.tolerance) * spread,
                                        "step \(i): picked \(id) (logit \(logits[Int(id)])) but the maximum is \(best)")
            context.append(id)
        }
        XCTAssertGreaterThan(context.count, T, "the argmax check should cover the whole first window")
    }

    // MARK: - Seeded sampling

    func testSameSeedSameTextDifferentSeedDifferentText() {
        let model = Self.randomModel(Self.config(gelu: .exact), seed: 41)
        let cache = KVCache(model: model)
        func sample(seed: UInt64, settings: SamplingSettings = SamplingSettings(temperature: 1)) -> [Int32] {
            var out: [Int32] = []
            var rng = RandomGenerator(seed: seed)
            Sampler.generate(cache: cache, prompt: [0], count: 64, settings: settings, rng: &rng) { out.append($0) }
            return out
        }
        let a = sample(seed: 7)
        XCTAssertEqual(sample(seed: 7), a)
        XCTAssertNotEqual(sample(seed: 8), a, "64 draws at temperature 1 from another seed should differ")
        let filtered = SamplingSettings(temperature: 0.8, topK: 5, topP: 0.9)
        XCTAssertEqual(sample(seed: 9, settings: filtered), sample(seed: 9, settings: filtered))
    }

    func testTopKOneAndTinyTopPEqualGreedy() {
        let model = Self.randomModel(Self.config(gelu: .tanh), seed: 51)
        let cache = KVCache(model: model)
        func sample(_ settings: SamplingSettings, seed: UInt64) -> [Int32] {
            var out: [Int32] = []
            var rng = RandomGenerator(seed: seed)
            Sampler.generate(cache: cache, prompt: [1, 2], count: 30, settings: settings, rng: &rng) { out.append($0) }
            return out
        }
        let greedy = sample(SamplingSettings(temperature: 0), seed: 0)
        for seed: UInt64 in [1, 2, 3] {
            XCTAssertEqual(sample(SamplingSettings(temperature: 1, topK: 1), seed: seed), greedy, "top-k 1, seed \(seed)")
            XCTAssertEqual(sample(SamplingSettings(temperature: 1.5, topP: 1e-6), seed: seed), greedy, "top-p 1e-6, seed \(seed)")
        }
    }

    // MARK: - The distribution pick draws from

    /// Empirical frequencies of `pick` over many draws.
    private func frequencies(_ logits: [Float], _ settings: SamplingSettings, draws: Int, seed: UInt64) -> [Double] {
        var counts = [Int](repeating: 0, count: logits.count)
        var rng = RandomGenerator(seed: seed)
        logits.withUnsafeBufferPointer { l in
            for _ in 0..<draws {
                counts[Int(Sampler.pick(l.baseAddress!, count: logits.count, settings: settings, rng: &rng))] += 1
            }
        }
        return counts.map { Double($0) / Double(draws) }
    }

    func testPickFollowsTheDistributionAndItsCuts() {
        // Probabilities 0.05, 0.5, 0.15, 0.3 (shuffled so rank and id differ).
        let p: [Double] = [0.05, 0.5, 0.15, 0.3]
        let logits = p.map { Float(log($0)) + 2 }
        let draws = 40_000
        // A frequency's standard deviation is at most √(0.25/40000) = 0.0025; allow 5 of those.
        let slack = 0.0125
        let plain = frequencies(logits, SamplingSettings(temperature: 1), draws: draws, seed: 61)
        for i in 0..<4 { XCTAssertEqual(plain[i], p[i], accuracy: slack, "T = 1, id \(i)") }

        // Top-k 2 keeps ids 1 and 3 (0.5 and 0.3), renormalised to 0.625 and 0.375.
        let topK = frequencies(logits, SamplingSettings(temperature: 1, topK: 2), draws: draws, seed: 62)
        XCTAssertEqual(topK[0], 0)
        XCTAssertEqual(topK[2], 0)
        XCTAssertEqual(topK[1], 0.625, accuracy: slack)
        XCTAssertEqual(topK[3], 0.375, accuracy: slack)

        // Top-p 0.85: 0.5 + 0.3 = 0.8 falls short, so 0.15 joins; 0.05 is cut.
        let topP = frequencies(logits, SamplingSettings(temperature: 1, topP: 0.85), draws: draws, seed: 63)
        XCTAssertEqual(topP[0], 0)
        XCTAssertEqual(topP[1], 0.5 / 0.95, accuracy: slack)
        XCTAssertEqual(topP[2], 0.15 / 0.95, accuracy: slack)
        XCTAssertEqual(topP[3], 0.3 / 0.95, accuracy: slack)

        // Temperature 0.5 squares the probabilities before renormalising.
        let squares = p.map { $0 * $0 }, total = squares.reduce(0, +)
        let cold = frequencies(logits, SamplingSettings(temperature: 0.5), draws: draws, seed: 64)
        for i in 0..<4 { XCTAssertEqual(cold[i], squares[i] / total, accuracy: slack, "T = 0.5, id \(i)") }
    }

    func testProbabilitiesSumToOneAndSharpenAsTemperatureFalls() {
        var rng = RandomGenerator(seed: 71)
        let logits = randomFloats(50, scale: 4, &rng)
        let best = logits.indices.max { logits[$0] < logits[$1] } ?? 0
        func entropy(_ p: [Double]) -> Double { -p.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) } }
        var previous = Double.infinity
        for temperature: Float in [100, 5, 2, 1, 0.7, 0.4, 0.2, 0.1] {
            let p = logits.withUnsafeBufferPointer { Softmax.probabilities($0.baseAddress!, count: 50, temperature: Double(temperature)) }
            XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-12, "T = \(temperature)")
            XCTAssertTrue(p.allSatisfy { $0 >= 0 && $0 <= 1 })
            // softmax(l / T)_i ∝ exp(l_i / T): check the ratio to the most likely id directly.
            for i in [0, 17, 49] {
                XCTAssertEqual(log(p[i] / p[best]), Double(logits[i] - logits[best]) / Double(temperature),
                               accuracy: 1e-9 * (1 + abs(Double(logits[i] - logits[best])) / Double(temperature)))
            }
            let h = entropy(p)
            XCTAssertLessThan(h, previous, "entropy must fall as the temperature falls (T = \(temperature))")
            previous = h
        }
        XCTAssertGreaterThan(previous, 0)
        XCTAssertLessThan(log(50.0) - entropy(logits.withUnsafeBufferPointer {
            Softmax.probabilities($0.baseAddress!, count: 50, temperature: 100)
        }), 0.05, "a high temperature is close to uniform")
        let greedy = logits.withUnsafeBufferPointer { Softmax.probabilities($0.baseAddress!, count: 50, temperature: 0) }
        XCTAssertEqual(greedy[best], 1)
        XCTAssertEqual(greedy.reduce(0, +), 1)
    }

    func testArgmaxPrefersTheLowestIndexOnTies() {
        let logits: [Float] = [0, 3, 1, 3, -2]
        XCTAssertEqual(logits.withUnsafeBufferPointer { Sampler.argmax($0.baseAddress!, count: 5) }, 1)
        var rng = RandomGenerator(seed: 1)
        let topOne = logits.withUnsafeBufferPointer {
            Sampler.pick($0.baseAddress!, count: 5, settings: SamplingSettings(temperature: 1, topK: 1), rng: &rng)
        }
        XCTAssertEqual(topOne, 1, "top-k 1 must break the tie as greedy does")
    }

    // MARK: - Settings

    func testSettingsValidation() {
        func rejects(_ settings: SamplingSettings, _ flag: String, line: UInt = #line) {
            do {
                try settings.validate()
                XCTFail("\(settings) should be rejected", line: line)
            } catch let error as TinyGPTError {
                XCTAssertEqual(error.kind, .usage, line: line)
                XCTAssertTrue(error.message.contains(flag), "\"\(error.message)\" lacks \(flag)", line: line)
            } catch {
                XCTFail("unexpected error \(error)", line: line)
            }
        }
        rejects(SamplingSettings(temperature: -0.5), "`temperature`")
        rejects(SamplingSettings(temperature: .nan), "`temperature`")
        rejects(SamplingSettings(temperature: .infinity), "`temperature`")
        rejects(SamplingSettings(temperature: 1, topK: 0), "`topK`")
        rejects(SamplingSettings(temperature: 1, topK: -3), "`topK`")
        rejects(SamplingSettings(temperature: 1, topP: 0), "`topP`")
        rejects(SamplingSettings(temperature: 1, topP: -0.1), "`topP`")
        rejects(SamplingSettings(temperature: 1, topP: 1.01), "`topP`")
        rejects(SamplingSettings(temperature: 1, topP: .nan), "`topP`")
        XCTAssertNoThrow(try SamplingSettings().validate())
        XCTAssertNoThrow(try SamplingSettings(temperature: 0).validate())
        XCTAssertNoThrow(try SamplingSettings(temperature: 0.7, topK: 1, topP: 1).validate())
        XCTAssertTrue(SamplingSettings(temperature: 0).isGreedy)
        XCTAssertFalse(SamplingSettings(temperature: 0.01).isGreedy)
    }
}
