// The time-lapse: at each evaluation, what the model makes of one fixed probe prompt: its
// greedy continuation, a continuation sampled at temperature 1, and its probabilities for
// the next character. Read in order, the records show the model going from noise to words.
// The sample draws from a generator of its own, seeded from the run's seed and the step, so
// a run's time-lapse is the same every time and the training generator is never touched.

/// One line of timelapse.jsonl.
public struct TimeLapseRecord: Codable, Sendable, Equatable {
    public struct NextCharacter: Codable, Sendable, Equatable {
        public var character: String
        public var probability: Double
    }

    public var step: Int
    public var probe: String
    /// The most likely character at every position (temperature 0).
    public var greedy: String
    /// Characters drawn from the model's distribution (temperature 1).
    public var sampled: String
    /// The most likely next characters after the probe, most likely first.
    public var next: [NextCharacter]
}

/// Makes time-lapse records for a probe.
public struct TimeLapse: Sendable {
    /// The probe's ids (non-empty).
    public let probe: [Int32]
    /// Characters generated per continuation.
    public var length = 80
    /// Candidates kept for the next-character distribution.
    public var candidates = 8

    /// Characters of the validation text used as the probe when none is given.
    public static let defaultProbeLength = 32

    /// A time-lapse of `text`, which must be non-empty and in the vocabulary of `tokenizer`.
    public init(probe text: String, tokenizer: CharTokenizer) throws {
        guard !text.isEmpty else { throw TinyGPTError.usage("probe is empty; give it at least one character") }
        probe = try tokenizer.encode(text)
    }

    /// The first `defaultProbeLength` characters of `data`'s validation part.
    public init(defaultFor data: TokenDataset) {
        let start = data.trainCount
        probe = (start..<min(data.tokens.count, start + Self.defaultProbeLength)).map { data.tokens[$0] }
    }

    /// The record for `model` at `step` of a run seeded with `seed`.
    public func record(model: GPT, tokenizer: CharTokenizer, step: Int, seed: UInt64) -> TimeLapseRecord {
        let cache = KVCache(model: model)
        var greedy: [Int32] = [], sampled: [Int32] = []
        var unused = RandomGenerator(seed: 0)
        Sampler.generate(cache: cache, prompt: probe, count: length, settings: SamplingSettings(temperature: 0),
                         rng: &unused) { greedy.append($0) }
        var rng = Self.generator(seed: seed, step: step)
        Sampler.generate(cache: cache, prompt: probe, count: length, settings: SamplingSettings(temperature: 1),
                         rng: &rng) { sampled.append($0) }
        cache.reset()
        cache.feed(probe)
        let p = Softmax.probabilities(cache.logits.pointer, count: model.config.vocabSize, temperature: 1)
        let order = p.indices.sorted { p[$0] != p[$1] ? p[$0] > p[$1] : $0 < $1 }
        let next = order.prefix(candidates).map {
            TimeLapseRecord.NextCharacter(character: tokenizer.decode([Int32($0)]), probability: p[$0])
        }
        return TimeLapseRecord(step: step, probe: tokenizer.decode(probe), greedy: tokenizer.decode(greedy),
                               sampled: tokenizer.decode(sampled), next: next)
    }

    /// The sampling generator for one step: from the run's seed and the step only.
    static func generator(seed: UInt64, step: Int) -> RandomGenerator {
        RandomGenerator(seed: seed ^ 0x7131_E1A9_5E00_0000 ^ (UInt64(step) &* 0x9E37_79B9_7F4A_7C15))
    }
}
