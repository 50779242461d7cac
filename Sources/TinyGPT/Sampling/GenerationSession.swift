// A trained model ready to write: a checkpoint's tokenizer and weights, with a KV cache built
// on first use. It turns a prompt into streamed characters (temperature or greedy, top-k,
// top-p, a seed, one stream or several), and is what `tinygpt sample`, `compare`, `eval`,
// `attention` and `export` (its logits of a prompt) load. Generation follows nanoGPT's sample.py: crop to the
// context, divide the logits by the temperature, optionally cut to the top k, draw.

/// One character as it is generated.
public struct GeneratedCharacter: Equatable, Sendable {
    /// Which stream it belongs to (0-based).
    public var stream: Int
    /// Its place in the stream's continuation (0-based; the prompt is not counted).
    public var position: Int
    public var id: Int32
    /// The character itself.
    public var text: String
}

/// A checkpoint's model and tokenizer, loaded for generation and inspection.
public final class GenerationSession {
    public let tokenizer: CharTokenizer
    public let model: GPT
    /// The incremental-inference cache; built (copying the weights into panels) when first used.
    public private(set) lazy var cache = KVCache(model: model)
    /// The last cache made for several streams at once, kept while the stream count stays.
    private var batchCache: KVCache?

    /// A cache holding `streams` streams (1: `cache`).
    func cache(streams: Int) -> KVCache {
        if streams == 1 { return cache }
        if let batchCache, batchCache.streams == streams { return batchCache }
        batchCache = nil  // let the old one go before the new copy of the weights is made
        let made = KVCache(model: model, streams: streams)
        batchCache = made
        return made
    }

    public init(checkpoint: Checkpoint, context: KernelContext = KernelContext()) throws {
        tokenizer = try CharTokenizer(vocabulary: checkpoint.vocabulary)
        model = GPT(config: checkpoint.config, parameters: checkpoint.parameters, context: context)
    }

    public var config: GPTConfig { model.config }

    /// The character of each token id.
    public var vocabulary: [String] { (0..<tokenizer.vocabSize).map { tokenizer.character($0) } }

    /// The prompt's ids; without a prompt, a newline (or the first character of the vocabulary
    /// when it has no newline). Throws naming the first character the vocabulary lacks.
    public func encodePrompt(_ text: String? = nil) throws -> [Int32] {
        guard let text else {
            return [tokenizer.id(of: 0x0A) ?? 0]
        }
        return try tokenizer.encode(text)
    }

    // MARK: - Generating

    /// `count` characters after `prompt` (non-empty), drawn from `rng` unless greedy;
    /// `emit` receives each id as soon as it is chosen.
    public func generate(_ prompt: [Int32], count: Int, settings: SamplingSettings, rng: inout RandomGenerator,
                         emit: (Int32) -> Void) {
        Sampler.generate(cache: cache, prompt: prompt, count: count, settings: settings, rng: &rng, emit: emit)
    }

    /// `streams` continuations of `prompt`, each `count` characters long, calling `onCharacter`
    /// with every character: stream 0's as they are chosen, then each other stream's in turn.
    /// The streams draw in turn from one generator seeded with `seed`: stream 1 goes on from
    /// where stream 0's draws ended, so stream 0 alone is what `streams: 1` gives. They are
    /// decoded together (one pass over the weights per step for all of them); each draw takes
    /// one number, so stream s starts its own copy of the generator s·count numbers in.
    /// Throws for invalid `settings`.
    public func generate(_ prompt: [Int32], count: Int, settings: SamplingSettings = SamplingSettings(),
                         seed: UInt64 = RandomGenerator.defaultSeed, streams: Int = 1,
                         onCharacter: (GeneratedCharacter) -> Void) throws {
        try settings.validate()
        precondition(count >= 0 && streams >= 0, "counts are never negative")
        func character(_ stream: Int, _ position: Int, _ id: Int32) -> GeneratedCharacter {
            GeneratedCharacter(stream: stream, position: position, id: id, text: tokenizer.character(Int(id)))
        }
        var rng = RandomGenerator(seed: seed)
        if streams <= 1 || count == 0 {
            for stream in 0..<streams {
                var position = 0
                generate(prompt, count: count, settings: settings, rng: &rng) { id in
                    onCharacter(character(stream, position, id))
                    position += 1
                }
            }
            return
        }
        var rngs: [RandomGenerator] = []
        for _ in 0..<streams {
            rngs.append(rng)
            // Sampler.pick draws one number per character unless greedy.
            if !settings.isGreedy { for _ in 0..<count { _ = rng.next() } }
        }
        var later = [[Int32]](repeating: [], count: streams)
        var position = 0
        Sampler.generate(cache: cache(streams: streams), prompt: prompt, count: count,
                         settings: Array(repeating: settings, count: streams), rngs: &rngs) { stream, id in
            if stream == 0 {
                onCharacter(character(0, position, id))
                position += 1
            } else {
                later[stream].append(id)
            }
        }
        for stream in 1..<streams {
            for (position, id) in later[stream].enumerated() { onCharacter(character(stream, position, id)) }
        }
    }

    /// The continuations of `prompt` (default: a newline) as text, without the prompt; the
    /// same characters `generate` streams.
    public func sample(_ prompt: String? = nil, count: Int, settings: SamplingSettings = SamplingSettings(),
                       seed: UInt64 = RandomGenerator.defaultSeed, streams: Int = 1) throws -> [String] {
        let ids = try encodePrompt(prompt)
        var texts = [String](repeating: "", count: streams)
        try generate(ids, count: count, settings: settings, seed: seed, streams: streams) { texts[$0.stream] += $0.text }
        return texts
    }

    // MARK: - Looking inside

    /// The next-character logits after each of the first `contextLength` ids of `ids`: one row
    /// of `vocabSize` per position, from the full forward pass.
    public func logits(_ ids: [Int32]) -> [[Float]] {
        let T = min(ids.count, config.contextLength)
        guard T > 0 else { return [] }
        let window = Array(ids.prefix(T))
        window.withUnsafeBufferPointer { model.forward(tokens: $0.baseAddress!, B: 1, T: T) }
        return (0..<T).map { Array(UnsafeBufferPointer(start: model.logits(row: $0), count: config.vocabSize)) }
    }

    /// The attention weights of `ids` (1...contextLength of them): for each layer and head,
    /// the (T, T) matrix row by row, row q holding how much position q attends to each key.
    public func attentionWeights(_ ids: [Int32]) -> [[[Float]]] {
        let T = ids.count
        precondition(T >= 1 && T <= config.contextLength, "1...contextLength ids")
        ids.withUnsafeBufferPointer { model.forward(tokens: $0.baseAddress!, B: 1, T: T) }
        return (0..<config.layerCount).map { l in
            let att = model.attention(layer: l)
            return (0..<config.headCount).map { h in Array(att[(h * T * T)..<((h + 1) * T * T)]) }
        }
    }
}
