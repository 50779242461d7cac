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
    /// scratch (a fine-tuning run appends its source).
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
