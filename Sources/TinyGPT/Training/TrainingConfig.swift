// Settings of a training run (everything that is not the model's shape), with nanoGPT's
// defaults for its shakespeare_char example where it has one. Each field's default is written
// here and only here; its range, help text and resume rule are its row in TrainingSetting.all
// (see there how to add a setting).

/// How to train: batch, schedule, optimizer, regularisation, evaluation.
public struct TrainingConfig: Equatable, Sendable {
    /// Sequences per step (B).
    public var batchSize: Int = 12
    /// Total optimizer steps of the run (nanoGPT's max_iters); the schedule is laid over it.
    public var steps: Int = 2000
    /// A time budget in minutes, counted from the start of the command (0: none, `steps`
    /// rules). A run with a budget chooses `steps` from a short measured warm-up
    /// (`TimeBudget`) before its first step; the count is then fixed and recorded, so the run
    /// resumes and repeats exactly. Kept as a record of what the run was asked for.
    public var minutes: Double = 0
    /// Peak learning rate, reached after warmup.
    public var learningRate: Float = 1e-3
    /// Learning rate at the end of the cosine decay.
    public var minLearningRate: Float = 1e-4
    /// Steps of linear warmup from 0 to `learningRate`.
    public var warmupSteps: Int = 100
    /// AdamW's decoupled weight decay, applied to matrices only.
    public var weightDecay: Float = 0.1
    /// AdamW's decay rate of its running mean of gradients.
    public var beta1: Float = 0.9
    /// AdamW's decay rate of its running mean of squared gradients.
    public var beta2: Float = 0.99
    /// AdamW's ε, added to the square root of the mean squared gradient.
    public var epsilon: Float = 1e-8
    /// Global gradient-norm clip (0 turns clipping off).
    public var gradClip: Float = 1.0
    /// Dropout probability on embeddings and residual branches.
    public var dropout: Float = 0
    /// Seed for initialisation, batch sampling and dropout.
    public var seed: UInt64 = RandomGenerator.defaultSeed
    /// Evaluate validation loss every this many steps (and at the last step).
    public var evalInterval: Int = 250
    /// Validation windows averaged per evaluation.
    public var evalWindows: Int = 200
    /// Fraction of the corpus held out for validation (the tail, as nanoGPT splits).
    public var validationFraction: Double = 0.1

    public init() {}

    /// Whether the run's length is a time budget (`minutes` above 0) rather than `steps`.
    public var hasTimeBudget: Bool { minutes > 0 }

    /// Learning rate at `step` (0-based): linear warmup, then cosine decay that reaches
    /// `minLearningRate` at the run's last step (`steps - 1`).
    public func learningRate(at step: Int) -> Float {
        if step < warmupSteps { return learningRate * Float(step + 1) / Float(warmupSteps + 1) }
        if step >= steps - 1 { return minLearningRate }
        let progress = Double(step - warmupSteps) / Double(max(1, steps - 1 - warmupSteps))
        let coefficient = 0.5 * (1 + Math.cos(Double.pi * progress))
        return minLearningRate + Float(coefficient) * (learningRate - minLearningRate)
    }

    /// Throws a usage error naming the first setting out of its range (`TrainingSetting.all`).
    public func validate() throws {
        let shape = GPTConfig(vocabSize: 1)
        for setting in TrainingSetting.all where !setting.isModel {
            try setting.check(setting.value(shape, self))
        }
        if minLearningRate > learningRate {
            throw TinyGPTError.usage("`minLearningRate` must be between 0 and `learningRate` (\(learningRate)), got \(minLearningRate)")
        }
    }
}
