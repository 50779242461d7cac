// One training run's moving parts: the model, AdamW, the data and the generator that draws
// batches and dropout masks. `step()` is one optimizer step; `evaluate()` the validation loss
// over fixed windows; `checkpoint()` everything needed to resume to the bit, which
// `writeCheckpoint(to:)` saves without copying the weights.

/// What one optimizer step did.
public struct StepResult: Sendable {
    public var loss: Float
    public var gradNorm: Float
    public var learningRate: Float
    /// False when the loss or a gradient was NaN or infinite and the update was not applied.
    public var applied: Bool
}

/// Trains a GPT on a token dataset.
public final class Trainer {
    public let model: GPT
    public let optimizer: AdamW
    public let tokenizer: CharTokenizer
    public let data: TokenDataset
    public private(set) var settings: TrainingConfig
    public private(set) var step = 0
    public private(set) var tokensSeen = 0
    public private(set) var bestValidationLoss = Float.infinity
    public private(set) var history: [HistoryEntry] = []
    /// Draws batches and dropout masks; saved in checkpoints.
    public private(set) var rng: RandomGenerator
    private let inputs: UnsafeMutablePointer<Int32>
    private let targets: UnsafeMutablePointer<Int32>
    private let corpusDigest: UInt32

    public var B: Int { settings.batchSize }
    public var T: Int { model.config.contextLength }

    /// A new run of `plan` (already validated): the model initialised from its seed.
    public convenience init(plan: TrainingPlan, tokenizer: CharTokenizer, tokens: TokenIds, corpusName: String,
                            context: KernelContext = KernelContext()) throws {
        let config = plan.config, settings = plan.settings
        let data = try TokenDataset(tokens: tokens, validationFraction: settings.validationFraction,
                                    contextLength: config.contextLength, name: corpusName)
        let model = GPT(config: config, seed: settings.seed, context: context)
        // Batches draw from a generator of their own, derived from the seed.
        self.init(model: model, settings: settings, tokenizer: tokenizer, data: data,
                  rng: RandomGenerator(seed: settings.seed ^ 0xB47C_4E55))
    }

    /// A new run: `config` and `settings` are validated (as `TrainingPlan` does), then the
    /// model is initialised from `settings.seed`.
    public convenience init(config: GPTConfig, settings: TrainingConfig, tokenizer: CharTokenizer,
                            tokens: TokenIds, corpusName: String, context: KernelContext = KernelContext()) throws {
        try self.init(plan: TrainingPlan(config: config, settings: settings), tokenizer: tokenizer, tokens: tokens,
                      corpusName: corpusName, context: context)
    }

    /// Continues the run saved in `checkpoint` on `tokens` (encoded with the checkpoint's
    /// vocabulary), for `steps` total steps if given.
    public convenience init(resuming checkpoint: Checkpoint, tokens: TokenIds, corpusName: String,
                            steps: Int? = nil, context: KernelContext = KernelContext()) throws {
        guard let state = checkpoint.training else {
            throw TinyGPTError.runtime("this checkpoint holds weights only (no optimizer state), so it cannot be resumed; start a new run instead")
        }
        var settings = state.settings
        if let steps { settings.steps = steps }
        _ = try TrainingPlan(config: checkpoint.config, settings: settings)
        if state.step >= settings.steps {
            throw TinyGPTError.usage("the checkpoint has already run \(state.step) of \(settings.steps) steps; pass a larger `steps` to continue")
        }
        let data = try TokenDataset(tokens: tokens, validationFraction: settings.validationFraction,
                                    contextLength: checkpoint.config.contextLength, name: corpusName)
        let model = GPT(config: checkpoint.config, parameters: checkpoint.parameters, context: context)
        self.init(model: model, settings: settings, tokenizer: try CharTokenizer(vocabulary: checkpoint.vocabulary),
                  data: data, rng: state.rng)
        step = state.step
        tokensSeen = state.tokensSeen
        bestValidationLoss = state.bestValidationLoss
        history = state.history
        state.adamM.withUnsafeBufferPointer { optimizer.m.pointer.update(from: $0.baseAddress!, count: $0.count) }
        state.adamV.withUnsafeBufferPointer { optimizer.v.pointer.update(from: $0.baseAddress!, count: $0.count) }
    }

    private init(model: GPT, settings: TrainingConfig, tokenizer: CharTokenizer, data: TokenDataset, rng: RandomGenerator) {
        self.model = model
        self.settings = settings
        self.tokenizer = tokenizer
        self.data = data
        self.rng = rng
        self.optimizer = AdamW(layout: model.layout)
        let n = settings.batchSize * model.config.contextLength
        inputs = .allocate(capacity: n)
        targets = .allocate(capacity: n)
        corpusDigest = data.tokens.digest()
    }

    deinit {
        inputs.deallocate()
        targets.deallocate()
    }

    /// Whether the corpus matches the one the checkpoint was trained on.
    public func corpusMatches(_ state: TrainingState) -> Bool {
        state.corpusLength == data.tokens.count && state.corpusDigest == corpusDigest
    }

    public var isFinished: Bool { step >= settings.steps }

    /// One optimizer step on a fresh random batch. A NaN or infinite loss or gradient norm
    /// leaves the parameters and the step count untouched and returns `applied: false`; the
    /// caller decides whether to stop or to `skipStep()` and go on.
    public func trainStep() -> StepResult {
        data.sampleBatch(inputs: inputs, targets: targets, B: B, T: T, validation: false, rng: &rng)
        model.zeroGradients()
        let loss = model.forward(tokens: inputs, targets: targets, B: B, T: T, dropout: settings.dropout, rng: &rng)
        let lr = settings.learningRate(at: step)
        guard loss.isFinite else {
            return StepResult(loss: loss, gradNorm: .nan, learningRate: lr, applied: false)
        }
        model.backward()
        let norm = AdamW.globalNorm(model.gradients.pointer, count: model.parameterCount, context: model.context)
        guard norm.isFinite else {
            return StepResult(loss: loss, gradNorm: norm, learningRate: lr, applied: false)
        }
        let clip = settings.gradClip
        let scale: Float = clip > 0 && norm > clip ? clip / norm : 1
        optimizer.update(parameters: model.parameters.pointer, gradients: model.gradients.pointer, gradScale: scale,
                         learningRate: lr, step: step + 1, settings: settings, context: model.context)
        step += 1
        tokensSeen += B * T
        return StepResult(loss: loss, gradNorm: norm, learningRate: lr, applied: true)
    }

    /// Counts a step whose batch was skipped (the schedule and data order move on).
    public func skipStep() {
        step += 1
        tokensSeen += B * T
    }

    /// Mean validation loss over all positions of `settings.evalWindows` windows drawn by a
    /// generator of their own, so every evaluation sees the same windows and training's
    /// random stream is untouched.
    public func evaluate() -> Float {
        var windowRNG = RandomGenerator(seed: settings.seed ^ 0x5EED_E7A1)
        var total: Double = 0
        var remaining = settings.evalWindows
        while remaining > 0 {
            // Always a full batch (so activations keep their shape); only `used` rows count.
            data.sampleBatch(inputs: inputs, targets: targets, B: B, T: T, validation: true, rng: &windowRNG)
            model.forward(tokens: inputs, targets: targets, B: B, T: T, rng: &windowRNG)
            let used = min(B, remaining)
            let losses = model.positionLosses
            for i in 0..<used * T { total += Double(losses[i]) }
            remaining -= used
        }
        return Float(total / Double(settings.evalWindows * T))
    }

    /// Records a history point; returns true when `validationLoss` is a new best.
    @discardableResult
    public func record(trainLoss: Float, validationLoss: Float?, learningRate: Float) -> Bool {
        history.append(HistoryEntry(step: step, trainLoss: trainLoss, validationLoss: validationLoss ?? .nan,
                                    learningRate: learningRate))
        if let validationLoss, validationLoss < bestValidationLoss {
            bestValidationLoss = validationLoss
            return true
        }
        return false
    }

    /// Everything needed to sample from this model or to resume this run exactly.
    public func checkpoint() -> Checkpoint {
        withCheckpointContents { Checkpoint(copying: $0) }
    }

    /// Writes `checkpoint()` atomically to each of `paths`, streaming the weights and moments
    /// straight from the live buffers rather than copying them. Throws, leaving any old files
    /// untouched, when the checkpoint could not be read back (e.g. NaN weights).
    public func writeCheckpoint(to paths: [String]) throws {
        try withCheckpointContents { try $0.write(to: paths) }
    }

    /// Calls `body` with the checkpoint contents, viewing the model's and optimizer's buffers.
    private func withCheckpointContents<R>(_ body: (CheckpointContents) throws -> R) rethrows -> R {
        let training = TrainingContents(
            settings: settings, step: step, adamM: UnsafeBufferPointer(optimizer.m.buffer),
            adamV: UnsafeBufferPointer(optimizer.v.buffer), rng: rng, tokensSeen: tokensSeen,
            bestValidationLoss: bestValidationLoss, corpusLength: data.tokens.count, corpusDigest: corpusDigest,
            history: history)
        let contents = CheckpointContents(config: model.config, vocabulary: tokenizer.scalars,
                                          parameters: UnsafeBufferPointer(model.parameters.buffer), training: training)
        return try withExtendedLifetime((model, optimizer)) { try body(contents) }
    }
}
