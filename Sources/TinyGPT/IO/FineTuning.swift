// Fine-tuning: a new run that starts from a trained model's weights (the train command's init-from option).
// The vocabulary grows to the union of the model's and the new text's characters: a character
// the model knew keeps its embedding row (its id may move, since ids follow scalar order), a new
// character gets a fresh row drawn as GPT-2 initialises them, N(0, 0.02), and the tied output
// head follows because it is the same matrix. Everything after the token embedding is copied
// as it is. The new run keeps a lineage (the source's own, then the source) and may freeze the
// embeddings of the known characters and the first blocks. Docs/FINE-TUNING.md has a worked
// example and the measurements behind the defaults.

/// Helpers of fine-tuning runs. A fine-tuning run takes its learning rate from the preset like
/// any run: on fables → lighthouse, 300 steps, the preset's 1e-3 beat 3e-4 and 1e-4
/// (Docs/FINE-TUNING.md), so it is lowered only when asked.
public enum FineTuning {

    /// How lineage names a file: its name with its folder (`fables/best.ckpt`), never a longer
    /// path, so the bytes do not depend on where the runs live.
    public static func lineageName(forPath path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).suffix(2)
        let name = parts.joined(separator: "/")
        return name.isEmpty ? path : name
    }
}

/// Which parameters a fine-tuning run keeps as they are: the embeddings, the first blocks, or
/// both, written "embeddings", "2" or "embeddings,2".
public struct FreezeSpec: Equatable, Sendable {
    /// The position embedding and the token-embedding rows of the characters the source knew
    /// (rows of characters the new text added still train, or they would stay random).
    public var embeddings: Bool
    /// The first this many blocks.
    public var blocks: Int

    public init(embeddings: Bool = false, blocks: Int = 0) {
        self.embeddings = embeddings
        self.blocks = blocks
    }

    /// Parses a comma-separated list of the word "embeddings" and a block count.
    public init(parsing text: String) throws {
        self.init()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let word = part.trimmingSpaces()
            if word == "embeddings" {
                embeddings = true
            } else if let n = Int(word), n >= 0 {
                blocks = n
            } else {
                throw TinyGPTError.usage("what to freeze is \"embeddings\", a number of blocks, or both (\"embeddings,2\"), got \"\(text)\"")
            }
        }
    }

    public var isEmpty: Bool { !embeddings && blocks == 0 }

    /// "embeddings and the first 2 blocks".
    public var description: String {
        let blockWords = blocks == 0 ? nil : blocks == 1 ? "the first block" : "the first \(blocks) blocks"
        return [embeddings ? "embeddings" : nil, blockWords].compactMap { $0 }.joined(separator: " and ")
    }
}

/// Where a fine-tuning run starts: the source model grown to the union vocabulary.
public struct FineTuneStart: Sendable {
    /// The grown model, weights only, its lineage ending with the source.
    public let checkpoint: Checkpoint
    /// The characters the new text added, in scalar order.
    public let addedCharacters: [UInt32]
    /// The new ids of the characters the source knew, in the source's id order.
    public let knownIds: [Int]

    /// Grows `source` to cover `characters` (the new text's), recording it in the lineage as
    /// `name` with file CRC `fileDigest`. New rows are drawn from `seed`.
    public init(source: Checkpoint, name: String, fileDigest: UInt32, characters: [UInt32], seed: UInt64) throws {
        let old = source.vocabulary
        let union = Array(Set(old).union(characters)).sorted()
        try CharTokenizer.validate(vocabulary: union)
        var config = source.config
        config.vocabSize = union.count
        do {
            try config.validate()
        } catch let error as TinyGPTError {
            throw TinyGPTError.usage("the model cannot grow to \(union.count) characters: \(error.message)")
        }
        let C = config.modelWidth
        let oldRows = old.count * C
        let tokenizer = try CharTokenizer(vocabulary: union)
        let knownIds = old.map { Int(tokenizer.id(of: $0)!) }
        var isKnown = [Bool](repeating: false, count: union.count)
        for id in knownIds { isKnown[id] = true }

        var parameters = [Float](repeating: 0, count: ParameterLayout(config).totalCount)
        // Known rows move to their new ids; the rest of the model follows the embedding as it is.
        for (oldId, newId) in knownIds.enumerated() {
            for c in 0..<C { parameters[newId * C + c] = source.parameters[oldId * C + c] }
        }
        var rng = RandomGenerator(seed: seed ^ 0xF1AE_7C0D)
        var added: [UInt32] = []
        for id in 0..<union.count where !isKnown[id] {
            added.append(union[id])
            for c in 0..<C { parameters[id * C + c] = rng.nextNormal() * 0.02 }
        }
        let rest = source.parameters.count - oldRows
        for i in 0..<rest { parameters[union.count * C + i] = source.parameters[oldRows + i] }

        let lastLoss = source.training?.history.last(where: { !$0.validationLoss.isNaN })?.validationLoss ?? .nan
        let entry = LineageEntry(name: name, fileDigest: fileDigest, step: source.training?.step ?? 0,
                                 validationLoss: lastLoss, addedCharacters: added.count)
        checkpoint = Checkpoint(config: config, vocabulary: union, parameters: parameters, training: nil,
                                lineage: source.lineage + [entry])
        addedCharacters = added
        self.knownIds = knownIds
    }

    /// The parameter ranges `spec` freezes in the grown model: sorted, separate, merged where
    /// they touch. Throws when it asks for more blocks than the model has.
    public func frozenRanges(_ spec: FreezeSpec) throws -> [Range<Int>] {
        let config = checkpoint.config
        let layout = ParameterLayout(config)
        guard spec.blocks <= config.layerCount else {
            throw TinyGPTError.usage("freezing \(spec.blocks) blocks asks for more blocks than the model's \(config.layerCount); give at most \(config.layerCount)")
        }
        let C = config.modelWidth
        var ranges: [Range<Int>] = []
        if spec.embeddings {
            for id in knownIds.sorted() { ranges.append(layout.tokenEmbedding + id * C..<layout.tokenEmbedding + (id + 1) * C) }
            ranges.append(layout.positionEmbedding..<layout.positionEmbedding + config.contextLength * C)
        }
        if spec.blocks > 0 {
            let end = spec.blocks < config.layerCount ? layout.blocks[spec.blocks].ln1.weight : layout.finalNorm.weight
            ranges.append(layout.blocks[0].ln1.weight..<end)
        }
        // Merge: sorted input, touching or overlapping ranges become one.
        var merged: [Range<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}

private extension Substring {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

extension Trainer {
    /// A fine-tuning run of `plan` from `start` (whose config must be the plan's, and its
    /// vocabulary the tokenizer's), with the parameters `frozen` left alone by the optimizer.
    public convenience init(plan: TrainingPlan, tokenizer: CharTokenizer, tokens: TokenIds, corpusName: String,
                            start: FineTuneStart, frozen: [Range<Int>] = [], context: KernelContext = KernelContext()) throws {
        precondition(start.checkpoint.config == plan.config, "the plan's config is not the fine-tuning start's")
        precondition(start.checkpoint.vocabulary == tokenizer.scalars, "the tokenizer is not the fine-tuning start's")
        try self.init(plan: plan, tokenizer: tokenizer, tokens: tokens, corpusName: corpusName,
                      parameters: start.checkpoint.parameters, lineage: start.checkpoint.lineage, frozen: frozen,
                      context: context)
    }
}
