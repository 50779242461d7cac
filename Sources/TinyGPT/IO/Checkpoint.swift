// What a checkpoint holds: a model and, for a run that can resume, its TrainingState
// (Training/TrainingState.swift), and its provenance: the tinygpt that wrote it and the chain of
// checkpoints it was fine-tuned from. The byte layout and its reading and writing are in
// Checkpoint+Format.swift; Docs/FORMAT.md documents it byte by byte.

/// A saved model: its shape, vocabulary and weights, and (for training checkpoints) the state
/// that lets a run resume to the bit.
public struct Checkpoint: Equatable, Sendable {
    public var config: GPTConfig
    /// The tokenizer's scalars in id order.
    public var vocabulary: [UInt32]
    /// All parameters in `ParameterLayout(config)` order.
    public var parameters: [Float]
    /// Nil for a weights-only checkpoint (e.g. imported from safetensors).
    public var training: TrainingState<[Float]>?
    /// The models this one was fine-tuned from, oldest first; empty for a model trained from
    /// scratch (`tinygpt train --init-from` appends its source).
    public var lineage: [LineageEntry]
    /// The tinygpt version that wrote the file (`TinyGPTVersion.string` for a checkpoint made in
    /// this process); nil for a format-1 file, which did not record it.
    public var writtenBy: String?

    public init(config: GPTConfig, vocabulary: [UInt32], parameters: [Float], training: TrainingState<[Float]>?,
                lineage: [LineageEntry] = [], writtenBy: String? = TinyGPTVersion.string) {
        self.config = config
        self.vocabulary = vocabulary
        self.parameters = parameters
        self.training = training
        self.lineage = lineage
        self.writtenBy = writtenBy
    }
}

/// One model a run started from: `tinygpt train --init-from FILE` records FILE here.
public struct LineageEntry: Equatable, Sendable {
    /// The source file's name with its folder (`fables/best.ckpt`), never a longer path.
    public var name: String
    /// CRC-32 of the source file's bytes, so a later reader can tell whether a file is that one.
    public var fileDigest: UInt32
    /// The source run's optimizer step (0 for weights only, e.g. an imported model).
    public var step: Int
    /// The source run's last measured validation loss, on its own text; NaN when unknown.
    public var validationLoss: Float
    /// Characters the fine-tuning text added to the source's vocabulary.
    public var addedCharacters: Int

    public init(name: String, fileDigest: UInt32, step: Int, validationLoss: Float, addedCharacters: Int) {
        self.name = name
        self.fileDigest = fileDigest
        self.step = step
        self.validationLoss = validationLoss
        self.addedCharacters = addedCharacters
    }

    /// NaN losses compare equal, so a decoded entry equals the one encoded.
    public static func == (a: LineageEntry, b: LineageEntry) -> Bool {
        a.name == b.name && a.fileDigest == b.fileDigest && a.step == b.step && a.addedCharacters == b.addedCharacters
            && a.validationLoss.bitPattern == b.validationLoss.bitPattern
    }

    /// "fables/best.ckpt (step 600, val loss 1.8123, CRC 1a2b3c4d, +5 characters)".
    public var summary: String {
        var parts = ["step \(step)"]
        if validationLoss.isFinite { parts.append("val loss \(formatLoss(validationLoss))") }
        parts.append("CRC \(hex8(fileDigest))")
        if addedCharacters > 0 { parts.append("+\(addedCharacters) character\(addedCharacters == 1 ? "" : "s")") }
        return "\(name) (\(parts.joined(separator: ", ")))"
    }

    private func formatLoss(_ x: Float) -> String {
        let scaled = (Double(x) * 10_000).rounded() / 10_000
        var text = "\(scaled)"
        if let dot = text.firstIndex(of: ".") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            if decimals < 4 { text += String(repeating: "0", count: 4 - decimals) }
        }
        return text
    }

    private func hex8(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
