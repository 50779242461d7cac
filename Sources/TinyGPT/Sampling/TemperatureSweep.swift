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
    /// generator seeded with `seed + s`, so the columns differ only by temperature.
    public func temperatureSweep(_ prompt: [Int32], temperatures: [Float], count: Int, samplesPerTemperature: Int = 1,
                                 seed: UInt64 = 1337) throws -> TemperatureSweep {
        for t in temperatures { try SamplingSettings(temperature: t).validate() }
        let V = config.vocabSize
        cache.reset()
        cache.feed(prompt)
        let logits = Array(cache.logits.buffer)
        var samples: [[TemperatureSample]] = []
        for t in temperatures {
            var perTemperature: [TemperatureSample] = []
            for s in 0..<samplesPerTemperature {
                var rng = RandomGenerator(seed: seed &+ UInt64(s))
                var ids: [Int32] = []
                var logProbabilities: [Double] = []
                generate(prompt, count: count, settings: SamplingSettings(temperature: t), rng: &rng) { id in
                    // The cache's logits are still the ones `id` was drawn from.
                    let p = Sampler.probabilities(cache.logits.pointer, count: V, temperature: 1)
                    logProbabilities.append(Foundation.log(max(p[Int(id)], 1e-300)))
                    ids.append(id)
                }
                perTemperature.append(TemperatureSample(text: tokenizer.decode(ids), logProbabilities: logProbabilities))
            }
            samples.append(perTemperature)
        }
        return TemperatureSweep(prompt: tokenizer.decode(prompt), vocabulary: vocabulary, logits: logits,
                                temperatures: temperatures, samples: samples)
    }
}
