// What a checkpoint holds: a model and, for a run that can resume, its TrainingState
// (Training/TrainingState.swift). The byte layout and its reading and writing are in
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

    public init(config: GPTConfig, vocabulary: [UInt32], parameters: [Float], training: TrainingState<[Float]>?) {
        self.config = config
        self.vocabulary = vocabulary
        self.parameters = parameters
        self.training = training
    }
}
