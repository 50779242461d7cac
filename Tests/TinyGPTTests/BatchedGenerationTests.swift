// Tests for decoding several streams together (Sampling/KVCache.swift's streams,
// Sampler.generate over streams, GenerationSession's `streams:` and the temperature sweep):
// every stream's logits and text are bit for bit those of the stream decoded alone, and the
// prompt is run through the layers once however many streams share it.

import Foundation
import XCTest
@testable import TinyGPT

final class BatchedGenerationTests: XCTestCase {
    /// Each stream's logits equal a one-stream cache's fed the same characters, past several
    /// window wraps (context 16, 40 steps), with 1 and 2 threads.
    func testStreamLogitsAreBitIdenticalToOneStream() {
        for pool in [DeterminismPools.single, DeterminismPools.double] {
            let config = SamplerTests.config(gelu: .tanh)
            let model = SamplerTests.randomModel(config, seed: 5, context: pool)
            let streams = 5
            let batch = KVCache(model: model, streams: streams)
            let alone = (0..<streams).map { _ in KVCache(model: model) }
            let prompt: [Int32] = [3, 1, 4]
            batch.feed(prompt)
            batch.copyStreamZeroToAll()
            for cache in alone { cache.feed(prompt) }
            var rng = RandomGenerator(seed: 9)
            for step in 0..<40 {
                for s in 0..<streams {
                    let got = Array(UnsafeBufferPointer(start: batch.logits(stream: s), count: config.vocabSize))
                    XCTAssertEqual(got, alone[s].logits.array, "step \(step), stream \(s)")
                }
                XCTAssertEqual(batch.logits.array, alone[0].logits.array, "step \(step): `logits` is stream 0's")
                let next = (0..<streams).map { _ in Int32(rng.nextInt(below: config.vocabSize)) }
                batch.feed(streams: next)
                for s in 0..<streams { alone[s].feed(next[s]) }
            }
        }
    }

    static let settings: [SamplingSettings] = [
        SamplingSettings(temperature: 0),
        SamplingSettings(temperature: 0.7),
        SamplingSettings(temperature: 1.3, topK: 4),
        SamplingSettings(temperature: 1, topP: 0.8),
        SamplingSettings(temperature: 2, topK: 6, topP: 0.95),
    ]

    /// Streams with their own settings and generators give each stream's solo ids.
    func testEachStreamEqualsItsSoloRun() throws {
        let session = try GenerationSessionTests.session()
        let prompt = try session.encodePrompt("ab")
        let streams = Self.settings.count, count = 30  // context 12: the windows wrap
        var rngs = (0..<streams).map { RandomGenerator(seed: 100 + UInt64($0)) }
        var got = [[Int32]](repeating: [], count: streams)
        Sampler.generate(cache: KVCache(model: session.model, streams: streams), prompt: prompt, count: count,
                         settings: Self.settings, rngs: &rngs) { got[$0].append($1) }
        for s in 0..<streams {
            var rng = RandomGenerator(seed: 100 + UInt64(s))
            var solo: [Int32] = []
            Sampler.generate(cache: KVCache(model: session.model), prompt: prompt, count: count, settings: Self.settings[s],
                             rng: &rng) { solo.append($0) }
            XCTAssertEqual(got[s], solo, "stream \(s): \(Self.settings[s])")
            XCTAssertEqual(rngs[s], rng, "stream \(s) used its generator as alone")
        }
    }

    /// `generate(streams:)` decodes together yet gives what the streams in turn from one
    /// generator gave, for every kind of settings; stream 0's characters come first.
    func testSessionStreamsMatchTheSequentialDraws() throws {
        let session = try GenerationSessionTests.session()
        let prompt = try session.encodePrompt("ab")
        for settings in Self.settings {
            var order: [Int] = []
            var streamed = [[Int32]](repeating: [], count: 4)
            try session.generate(prompt, count: 25, settings: settings, seed: 21, streams: 4) { c in
                XCTAssertEqual(c.position, streamed[c.stream].count)
                streamed[c.stream].append(c.id)
                order.append(c.stream)
            }
            XCTAssertEqual(order, (0..<4).flatMap { Array(repeating: $0, count: 25) }, "\(settings)")
            var rng = RandomGenerator(seed: 21)
            for s in 0..<4 {
                var expected: [Int32] = []
                Sampler.generate(cache: KVCache(model: session.model), prompt: prompt, count: 25, settings: settings,
                                 rng: &rng) { expected.append($0) }
                XCTAssertEqual(streamed[s], expected, "stream \(s), \(settings)")
            }
        }
    }

    /// The sweep's continuations are each the solo run at its temperature with seed + s.
    func testTemperatureSweepEqualsSoloRuns() throws {
        let session = try GenerationSessionTests.session()
        let prompt = try session.encodePrompt("ab")
        let temperatures: [Float] = [0, 0.5, 1, 1.7]
        let sweep = try session.temperatureSweep(prompt, temperatures: temperatures, count: 20, samplesPerTemperature: 3,
                                                 seed: 40)
        let V = session.config.vocabSize
        for (t, temperature) in temperatures.enumerated() {
            for s in 0..<3 {
                let cache = KVCache(model: session.model)
                var rng = RandomGenerator(seed: 40 + UInt64(s))
                var ids: [Int32] = []
                var logs: [Double] = []
                Sampler.generate(cache: cache, prompt: prompt, count: 20, settings: SamplingSettings(temperature: temperature),
                                 rng: &rng) { id in
                    logs.append(log(max(Softmax.probabilities(cache.logits.pointer, count: V, temperature: 1)[Int(id)], 1e-300)))
                    ids.append(id)
                }
                XCTAssertEqual(sweep.samples[t][s], TemperatureSample(text: session.tokenizer.decode(ids), logProbabilities: logs),
                               "temperature \(temperature), sample \(s)")
            }
        }
    }

    /// The prompt runs through the layers once: then one position per stream and step.
    func testPromptIsEncodedOnce() {
        let config = SamplerTests.config(gelu: .tanh, contextLength: 64)
        let model = SamplerTests.randomModel(config, seed: 2)
        let streams = 6, count = 20
        let prompt: [Int32] = Array(repeating: 1, count: 10)
        let cache = KVCache(model: model, streams: streams)
        var rngs = (0..<streams).map { RandomGenerator(seed: UInt64($0)) }
        Sampler.generate(cache: cache, prompt: prompt, count: count, settings: Array(repeating: SamplingSettings(), count: streams),
                         rngs: &rngs) { _, _ in }
        XCTAssertEqual(cache.encodedPositions, prompt.count + (count - 1) * streams)
    }

    /// The temperature sweep runs its prompt through the layers once for all its streams (it
    /// used to run it a second time, for the sweep's logits), and those logits are the prompt's.
    func testTemperatureSweepEncodesThePromptOnce() throws {
        let session = try GenerationSessionTests.session()
        let prompt = try session.encodePrompt("ab")
        let temperatures: [Float] = [0, 0.5, 1, 1.7], perT = 2, count = 6  // no wrap (context 12)
        let sweep = try session.temperatureSweep(prompt, temperatures: temperatures, count: count, samplesPerTemperature: perT)
        let streams = temperatures.count * perT
        // Both caches the session holds: the one-stream one and the sweep's.
        XCTAssertEqual(session.cache.encodedPositions + session.cache(streams: streams).encodedPositions,
                       prompt.count + (count - 1) * streams)
        let alone = KVCache(model: session.model)
        alone.feed(prompt)
        XCTAssertEqual(sweep.logits, alone.logits.array)
    }

    /// Streams that wrap together are re-encoded together: every step, wrap or not, is one pass
    /// through the layers (before, a wrap cost one pass per stream), and the logits stay each
    /// stream's solo ones (testStreamLogitsAreBitIdenticalToOneStream runs past the same wraps).
    func testWrappedWindowsAreReencodedInOnePass() {
        let config = SamplerTests.config(gelu: .tanh)  // context 16: a wrap every 13 steps
        let model = SamplerTests.randomModel(config, seed: 3)
        let streams = 5, count = 40
        let cache = KVCache(model: model, streams: streams)
        var rngs = (0..<streams).map { RandomGenerator(seed: UInt64($0)) }
        Sampler.generate(cache: cache, prompt: [1, 2], count: count, settings: Array(repeating: SamplingSettings(), count: streams),
                         rngs: &rngs) { _, _ in }
        XCTAssertEqual(cache.passes, 1 + (count - 1), "the prompt, then one pass per step")
        // Each wrap re-encodes the newest 4 characters of every stream instead of one new one.
        let wraps = 2  // at feeds 15 and 28, when a window passes 16 characters (4 kept)
        XCTAssertEqual(cache.encodedPositions, 2 + (count - 1 - wraps) * streams + wraps * 4 * streams)
    }
}
