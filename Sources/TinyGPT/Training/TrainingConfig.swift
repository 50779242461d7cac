// Settings of a training run (everything that is not the model's shape), with nanoGPT's
// defaults for its shakespeare_char example where it has one.

/// How to train: batch, schedule, optimizer, regularisation, evaluation.
public struct TrainingConfig: Equatable, Sendable {
    /// Sequences per step (B).
    public var batchSize: Int = 12
    /// Total optimizer steps of the run (nanoGPT's max_iters); the schedule is laid over it.
    public var steps: Int = 2000
    /// Peak learning rate, reached after warmup.
    public var learningRate: Float = 1e-3
    /// Learning rate at the end of the cosine decay.
    public var minLearningRate: Float = 1e-4
    /// Steps of linear warmup from 0 to `learningRate`.
    public var warmupSteps: Int = 100
    /// AdamW's decoupled weight decay, applied to matrices only.
    public var weightDecay: Float = 0.1
    public var beta1: Float = 0.9
    public var beta2: Float = 0.99
    public var epsilon: Float = 1e-8
    /// Global gradient-norm clip (0 turns clipping off).
    public var gradClip: Float = 1.0
    /// Dropout probability on embeddings and residual branches.
    public var dropout: Float = 0
    /// Seed for initialisation, batch sampling and dropout.
    public var seed: UInt64 = 1337
    /// Evaluate validation loss every this many steps (and at the last step).
    public var evalInterval: Int = 250
    /// Validation windows averaged per evaluation.
    public var evalWindows: Int = 200
    /// Fraction of the corpus held out for validation (the tail, as nanoGPT splits).
    public var validationFraction: Double = 0.1

    public init() {}

    /// Learning rate at `step` (0-based): linear warmup, then cosine decay that reaches
    /// `minLearningRate` at the run's last step (`steps - 1`).
    public func learningRate(at step: Int) -> Float {
        if step < warmupSteps { return learningRate * Float(step + 1) / Float(warmupSteps + 1) }
        if step >= steps - 1 { return minLearningRate }
        let progress = Double(step - warmupSteps) / Double(max(1, steps - 1 - warmupSteps))
        let coefficient = 0.5 * (1 + Math.cos(Double.pi * progress))
        return minLearningRate + Float(coefficient) * (learningRate - minLearningRate)
    }

    /// Throws a usage error naming the first setting out of range.
    public func validate() throws {
        func check(_ ok: Bool, _ message: @autoclosure () -> String) throws {
            if !ok { throw TinyGPTError.usage(message()) }
        }
        try check(batchSize >= 1 && batchSize <= 1 << 16, "`batchSize` must be between 1 and 65536, got \(batchSize)")
        try check(steps >= 1 && steps <= 1 << 40, "`steps` must be at least 1, got \(steps)")
        try check(learningRate.isFinite && learningRate > 0 && learningRate < 10, "`learningRate` must be a number in (0, 10), got \(learningRate)")
        try check(minLearningRate.isFinite && minLearningRate >= 0 && minLearningRate <= learningRate,
                  "`minLearningRate` must be between 0 and `learningRate` (\(learningRate)), got \(minLearningRate)")
        try check(warmupSteps >= 0, "`warmupSteps` must be 0 or more, got \(warmupSteps)")
        try check(weightDecay.isFinite && weightDecay >= 0 && weightDecay < 10, "`weightDecay` must be in [0, 10), got \(weightDecay)")
        try check(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "AdamW betas must be in [0, 1)")
        try check(epsilon.isFinite && epsilon > 0, "AdamW epsilon must be a positive number, got \(epsilon)")
        try check(gradClip.isFinite && gradClip >= 0, "`gradClip` must be 0 (off) or positive, got \(gradClip)")
        try check(dropout.isFinite && dropout >= 0 && dropout < 1, "`dropout` must be in [0, 1), got \(dropout)")
        try check(evalInterval >= 1, "`evalInterval` must be at least 1, got \(evalInterval)")
        try check(evalWindows >= 1 && evalWindows <= 1 << 20, "`evalWindows` must be between 1 and 1048576, got \(evalWindows)")
        try check(validationFraction > 0 && validationFraction < 1, "the validation fraction must be in (0, 1)")
    }
}
