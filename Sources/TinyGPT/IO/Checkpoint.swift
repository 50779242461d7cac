// What a checkpoint holds. The byte layout and its reading and writing are in
// Checkpoint+Format.swift; Docs/FORMAT.md documents it byte by byte.

/// One point of a run's history, as written into the checkpoint and the training log.
public struct HistoryEntry: Equatable, Sendable {
    public var step: Int
    public var trainLoss: Float
    /// Validation loss at this step, or NaN where none was measured.
    public var validationLoss: Float
    public var learningRate: Float

    public init(step: Int, trainLoss: Float, validationLoss: Float, learningRate: Float) {
        self.step = step
        self.trainLoss = trainLoss
        self.validationLoss = validationLoss
        self.learningRate = learningRate
    }
}

/// Everything a resumed run needs beyond the weights. Nothing here depends on the wall clock
/// or on paths, so the same run gives the same bytes.
public struct TrainingState: Equatable, Sendable {
    public var settings: TrainingConfig
    /// Optimizer steps completed.
    public var step: Int
    /// AdamW first and second moments, in parameter layout order.
    public var adamM: [Float]
    public var adamV: [Float]
    /// The generator that draws batches and dropout masks, as it stands after `step` steps.
    public var rng: RandomGenerator
    /// Training tokens consumed (step × batch × context).
    public var tokensSeen: Int
    /// Lowest validation loss so far (infinity before the first evaluation).
    public var bestValidationLoss: Float
    /// Length in characters and CRC32 of the training corpus's token ids, to warn when a
    /// resume uses different data.
    public var corpusLength: Int
    public var corpusDigest: UInt32
    public var history: [HistoryEntry]

    public init(settings: TrainingConfig, step: Int, adamM: [Float], adamV: [Float], rng: RandomGenerator,
                tokensSeen: Int, bestValidationLoss: Float, corpusLength: Int, corpusDigest: UInt32,
                history: [HistoryEntry]) {
        self.settings = settings
        self.step = step
        self.adamM = adamM
        self.adamV = adamV
        self.rng = rng
        self.tokensSeen = tokensSeen
        self.bestValidationLoss = bestValidationLoss
        self.corpusLength = corpusLength
        self.corpusDigest = corpusDigest
        self.history = history
    }
}

/// A saved model: its shape, vocabulary and weights, and (for training checkpoints) the state
/// that lets a run resume to the bit.
public struct Checkpoint: Equatable, Sendable {
    public var config: GPTConfig
    /// The tokenizer's scalars in id order.
    public var vocabulary: [UInt32]
    /// All parameters in `ParameterLayout(config)` order.
    public var parameters: [Float]
    /// Nil for a weights-only checkpoint (e.g. imported from safetensors).
    public var training: TrainingState?

    public init(config: GPTConfig, vocabulary: [UInt32], parameters: [Float], training: TrainingState?) {
        self.config = config
        self.vocabulary = vocabulary
        self.parameters = parameters
        self.training = training
    }
}
