// One prompt continued at several temperatures from the same seeds, with the log-probability
// the model (at T = 1) gives each generated character: the numbers behind `tinygpt compare`
// and its report. Temperature scaling as in nanoGPT's sample.py (logits / T before softmax).

import Foundation

/// One sampled continuation and its statistics.
public struct TemperatureSample: Equatable, Sendable {
    /// The generated text, without the prompt.
    public var text: String
    /// Mean natural-log probability per generated character under the model at T = 1,
    /// or nil when the caller did not measure it.
    public var meanLogProbability: Double?
    /// Distinct characters / characters of `text`.
    public var distinctCharacterRatio: Double
    /// Length of the longest substring of `text` that occurs twice.
    public var longestRepeat: Int

    /// `logProbabilities`: log p (natural log, under the model at T = 1) of each generated
    /// character; its mean becomes `meanLogProbability`.
    public init(text: String, logProbabilities: [Double]? = nil) {
        self.text = text
        if let logProbabilities, !logProbabilities.isEmpty {
            meanLogProbability = logProbabilities.reduce(0, +) / Double(logProbabilities.count)
        } else {
            meanLogProbability = nil
        }
        distinctCharacterRatio = TextStatistics.distinctCharacterRatio(text)
        longestRepeat = TextStatistics.longestRepeatedSubstringLength(text)
    }
}

/// Continuations of one prompt at several temperatures.
public struct TemperatureSweep: Sendable {
    /// The prompt as text.
    public var prompt: String
    /// The character of each token id.
    public var vocabulary: [String]
    /// The raw next-character logits after the prompt.
    public var logits: [Float]
    public var temperatures: [Float]
    /// Per temperature (in the order of `temperatures`), the continuations.
    public var samples: [[TemperatureSample]]
}

extension GenerationSession {
    /// Continues `prompt` (non-empty) for `count` characters at each temperature (0: greedy),
    /// `samplesPerTemperature` times. Continuation s at every temperature draws from a
    /// generator seeded with `seed + s`, so the columns differ only by temperature. All the
    /// continuations are decoded together (the prompt once, then one pass over the weights per
    /// step), each exactly as it would be alone.
    public func temperatureSweep(_ prompt: [Int32], temperatures: [Float], count: Int, samplesPerTemperature: Int = 1,
                                 seed: UInt64 = RandomGenerator.defaultSeed) throws -> TemperatureSweep {
        for t in temperatures { try SamplingSettings(temperature: t).validate() }
        precondition(count >= 0 && samplesPerTemperature >= 0, "counts are never negative")
        let V = config.vocabSize, perT = samplesPerTemperature, streams = temperatures.count * perT
        // One cache holds every continuation; the prompt is fed once, to stream 0, whose logits
        // are the sweep's, and copied to the others.
        let batch = cache(streams: max(1, streams))
        batch.reset()
        batch.feed(prompt)
        let logits = Array(UnsafeBufferPointer(start: batch.logits(stream: 0), count: V))
        var ids = [[Int32]](repeating: [], count: streams)
        var logProbabilities = [[Double]](repeating: [], count: streams)
        if streams > 0 {
            // Stream t·perT + s: temperature t, seed + s.
            let settings = temperatures.flatMap { t in Array(repeating: SamplingSettings(temperature: t), count: perT) }
            var rngs = (0..<streams).map { RandomGenerator(seed: seed &+ UInt64($0 % perT)) }
            Sampler.generate(continuing: batch, count: count, settings: settings, rngs: &rngs) { s, id in
                // The stream's logits are still the ones `id` was drawn from.
                let p = Softmax.probabilities(batch.logits(stream: s), count: V, temperature: 1)
                logProbabilities[s].append(Foundation.log(max(p[Int(id)], 1e-300)))
                ids[s].append(id)
            }
        }
        let samples = temperatures.indices.map { t in
            (0..<perT).map { s in
                TemperatureSample(text: tokenizer.decode(ids[t * perT + s]), logProbabilities: logProbabilities[t * perT + s])
            }
        }
        return TemperatureSweep(prompt: tokenizer.decode(prompt), vocabulary: vocabulary, logits: logits,
                                temperatures: temperatures, samples: samples)
    }
}
