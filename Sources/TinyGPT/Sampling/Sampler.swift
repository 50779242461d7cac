// Choosing the next character from the logits: greedy (argmax), or a draw from
// softmax(logits / T), optionally cut to the k most likely (top-k, Fan et al. 2018) or to
// the smallest set whose probability reaches p (top-p / nucleus, Holtzman et al. 2020).

/// How to pick each next character.
public struct SamplingSettings: Equatable, Sendable {
    /// Softmax temperature; 0 means greedy (argmax).
    public var temperature: Float = 1
    /// Keep only the k most likely characters (nil: all).
    public var topK: Int? = nil
    /// Keep the smallest set of most likely characters whose probability reaches p (nil: all).
    public var topP: Float? = nil

    public init(temperature: Float = 1, topK: Int? = nil, topP: Float? = nil) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }

    public var isGreedy: Bool { temperature == 0 }

    /// The valid ranges, read by `validate` and by the command line's flags.
    public static let temperatureRange = FloatRange.closed(0, 100)
    public static let topKRange = 1...Int.max
    public static let topPRange = FloatRange.openClosed(0, 1)

    public func validate() throws {
        if !Self.temperatureRange.contains(Double(temperature)) {
            throw TinyGPTError.usage("`temperature` must be between 0 and 100 (0 means greedy), got \(temperature)")
        }
        if let topK, !Self.topKRange.contains(topK) { throw TinyGPTError.usage("`topK` must be at least 1, got \(topK)") }
        if let topP, !Self.topPRange.contains(Double(topP)) { throw TinyGPTError.usage("`topP` must be in (0, 1], got \(topP)") }
    }
}

public enum Sampler {
    /// The index of the largest logit (the lowest index among ties).
    public static func argmax(_ logits: UnsafePointer<Float>, count V: Int) -> Int {
        Softmax.argmax(logits, count: V)
    }

    /// Picks the next token id from `logits` with `settings`, drawing from `rng` unless greedy.
    public static func pick(_ logits: UnsafePointer<Float>, count V: Int, settings: SamplingSettings,
                            rng: inout RandomGenerator) -> Int32 {
        if settings.isGreedy { return Int32(argmax(logits, count: V)) }
        let p = distribution(logits, count: V, settings: settings)
        let u = Double(rng.nextFloat())
        var cumulative = 0.0
        var last = 0
        for i in 0..<V where p[i] > 0 {
            cumulative += p[i]
            last = i
            if u < cumulative { return Int32(i) }
        }
        return Int32(last)  // rounding left u just above the total
    }

    /// Generates `count` characters after `prompt` (which must be non-empty), calling
    /// `emit` with each new id as soon as it is chosen.
    public static func generate(cache: KVCache, prompt: [Int32], count: Int, settings: SamplingSettings,
                                rng: inout RandomGenerator, emit: (Int32) -> Void) {
        precondition(!prompt.isEmpty, "generation needs at least one prompt character")
        cache.reset()
        cache.feed(prompt)
        let V = cache.model.config.vocabSize
        for i in 0..<count {
            let next = pick(cache.logits.pointer, count: V, settings: settings, rng: &rng)
            emit(next)
            if i + 1 < count { cache.feed(next) }
        }
    }

    /// Generates `count` characters after `prompt` (non-empty) in every stream of `cache` at
    /// once: stream s picks with `settings[s]` from `rngs[s]`, and `emit(s, id)` receives each id
    /// as soon as it is chosen (at each step, streams in order; `cache.logits(stream: s)` still
    /// holds the logits it was drawn from). The prompt is fed once and copied to every stream;
    /// each step is one pass over the weights. Stream s's ids are exactly those of `generate`
    /// on a one-stream cache with `settings[s]` and `rngs[s]`.
    public static func generate(cache: KVCache, prompt: [Int32], count: Int, settings: [SamplingSettings],
                                rngs: inout [RandomGenerator], emit: (Int, Int32) -> Void) {
        precondition(!prompt.isEmpty, "generation needs at least one prompt character")
        cache.reset()
        cache.feed(prompt)
        generate(continuing: cache, count: count, settings: settings, rngs: &rngs, emit: emit)
    }

    /// As `generate(cache:prompt:…)` above, with the prompt already fed to stream 0 of `cache`
    /// (and nothing else fed since): it is copied to every stream, not encoded again.
    public static func generate(continuing cache: KVCache, count: Int, settings: [SamplingSettings],
                                rngs: inout [RandomGenerator], emit: (Int, Int32) -> Void) {
        precondition(settings.count == cache.streams && rngs.count == cache.streams, "one setting and generator per stream")
        cache.copyStreamZeroToAll()
        let V = cache.model.config.vocabSize
        var next = [Int32](repeating: 0, count: cache.streams)
        for i in 0..<count {
            for s in 0..<cache.streams {
                next[s] = pick(cache.logits(stream: s), count: V, settings: settings[s], rng: &rngs[s])
                emit(s, next[s])
            }
            if i + 1 < count { cache.feed(streams: next) }
        }
    }
}
