// One training run's moving parts: the model, AdamW, the data, and where the run stands (a
// TrainingState, whose generator draws batches and dropout masks). `trainStep()` is one
// optimizer step; `evaluate()` the validation loss over fixed windows. Saving and resuming
// through checkpoint files is in IO/Trainer+Checkpoint.swift.

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
    /// The models this run was fine-tuned from, oldest first (empty for a run from scratch).
    public let lineage: [LineageEntry]
    /// Where the run stands; its moments are views of `optimizer`'s buffers.
    private(set) var state: TrainingState<UnsafeBufferPointer<Float>>
    private let inputs: UnsafeMutablePointer<Int32>
    private let targets: UnsafeMutablePointer<Int32>

    public var settings: TrainingConfig { state.settings }
    public var step: Int { state.step }
    public var tokensSeen: Int { state.tokensSeen }
    public var bestValidationLoss: Float { state.bestValidationLoss }
    public var history: [HistoryEntry] { state.history }
    /// Draws batches and dropout masks; saved in checkpoints.
    public var rng: RandomGenerator { state.rng }

    public var B: Int { settings.batchSize }
    public var T: Int { model.config.contextLength }

    /// A new run of `plan` (already validated): the model initialised from its seed, or, for
    /// fine-tuning, given as `parameters` (of the plan's config) with its `lineage`, and the
    /// parameters `frozen` left alone by the optimizer.
    public convenience init(plan: TrainingPlan, tokenizer: CharTokenizer, tokens: TokenIds, corpusName: String,
                            parameters start: [Float]? = nil, lineage: [LineageEntry] = [], frozen: [Range<Int>] = [],
                            context: KernelContext = KernelContext()) throws {
        let config = plan.config, settings = plan.settings
        let data = try TokenDataset(tokens: tokens, validationFraction: settings.validationFraction,
                                    contextLength: config.contextLength, name: corpusName)
        let model: GPT
        if let start {
            model = GPT(config: config, parameters: start, context: context)
        } else {
            model = GPT(config: config, seed: settings.seed, context: context)
        }
        if let problem = TrainingState<[Float]>.frozenRangesProblem(frozen, count: model.parameterCount) {
            throw TinyGPTError.usage("cannot freeze these parameters: \(problem)")
        }
        // Batches draw from a generator of their own, derived from the seed.
        self.init(model: model, tokenizer: tokenizer, data: data,
                  state: TrainingState(settings: settings, step: 0, adamM: [], adamV: [],
                                       rng: RandomGenerator(seed: settings.seed ^ 0xB47C_4E55), tokensSeen: 0,
                                       bestValidationLoss: .infinity, corpusLength: data.tokens.count,
                                       corpusDigest: data.tokens.digest(), history: [], frozen: frozen),
                  lineage: lineage)
    }

    /// A new run: `config` and `settings` are validated (as `TrainingPlan` does), then the
    /// model is initialised from `settings.seed`.
    public convenience init(config: GPTConfig, settings: TrainingConfig, tokenizer: CharTokenizer,
                            tokens: TokenIds, corpusName: String, context: KernelContext = KernelContext()) throws {
        try self.init(plan: TrainingPlan(config: config, settings: settings), tokenizer: tokenizer, tokens: tokens,
                      corpusName: corpusName, context: context)
    }

    /// Continues a run from `state` with the model `parameters` (of a `config`-shaped model)
    /// on `tokens` (encoded with `tokenizer`), for `steps` total steps if given. The caller has
    /// checked the saved parts against each other, as reading a checkpoint does
    /// (`Trainer(resuming:)` in IO/Trainer+Checkpoint.swift).
    convenience init(config: GPTConfig, parameters: [Float], tokenizer: CharTokenizer,
                            resuming state: TrainingState<[Float]>, tokens: TokenIds, corpusName: String,
                            steps: Int? = nil, lineage: [LineageEntry] = [], context: KernelContext = KernelContext()) throws {
        var state = state
        if let steps { state.settings.steps = steps }
        let settings = state.settings
        _ = try TrainingPlan(config: config, settings: settings)
        if state.step >= settings.steps {
            throw TinyGPTError.usage("the checkpoint has already run \(state.step) of \(settings.steps) steps; pass a larger `steps` to continue")
        }
        let data = try TokenDataset(tokens: tokens, validationFraction: settings.validationFraction,
                                    contextLength: config.contextLength, name: corpusName)
        let model = GPT(config: config, parameters: parameters, context: context)
        // The run goes on with this corpus, whose length and digest later saves record.
        state.corpusLength = data.tokens.count
        state.corpusDigest = data.tokens.digest()
        self.init(model: model, tokenizer: tokenizer, data: data, state: state, lineage: lineage)
    }

    /// `state`'s moments are copied into the optimizer; empty moments mean zeros (a new run).
    private init(model: GPT, tokenizer: CharTokenizer, data: TokenDataset, state: TrainingState<[Float]>,
                 lineage: [LineageEntry]) {
        self.model = model
        self.tokenizer = tokenizer
        self.data = data
        self.lineage = lineage
        let optimizer = AdamW(layout: model.layout, frozen: state.frozen)
        precondition([state.adamM.count, state.adamV.count].allSatisfy { $0 == 0 || $0 == model.parameterCount },
                     "AdamW moments do not match the parameter count")
        for (moments, buffer) in [(state.adamM, optimizer.m), (state.adamV, optimizer.v)] where !moments.isEmpty {
            moments.withUnsafeBufferPointer { buffer.pointer.update(from: $0.baseAddress!, count: $0.count) }
        }
        self.optimizer = optimizer
        self.state = state.withMoments(UnsafeBufferPointer(optimizer.m.buffer), UnsafeBufferPointer(optimizer.v.buffer))
        let n = state.settings.batchSize * model.config.contextLength
        inputs = .allocate(capacity: n)
        targets = .allocate(capacity: n)
    }

    deinit {
        inputs.deallocate()
        targets.deallocate()
    }

    /// Whether the corpus matches the one `saved` was trained on.
    public func corpusMatches<M>(_ saved: TrainingState<M>) -> Bool {
        saved.corpusLength == state.corpusLength && saved.corpusDigest == state.corpusDigest
    }

    public var isFinished: Bool { step >= settings.steps }

    // MARK: - Before the first step

    /// Runs `body` (steps, evaluations, saves: a rehearsal that times them) and then puts the
    /// run back exactly as it was before its first step: the parameters, AdamW's moments (zero
    /// before any step), the random generator, the counters and the history. What follows is
    /// bit for bit the run that had no rehearsal.
    public func rehearse<R>(_ body: () throws -> R) rethrows -> R {
        precondition(step == 0, "a rehearsal runs before the first step")
        let parameters = Array(model.parameters.buffer)
        let saved = state
        defer {
            parameters.withUnsafeBufferPointer { model.parameters.pointer.update(from: $0.baseAddress!, count: $0.count) }
            optimizer.m.zero()
            optimizer.v.zero()
            model.zeroGradients()
            state = saved
        }
        return try body()
    }

    /// Gives the run, before its first step, the schedule of `plan`: its own plan with another
    /// length (`steps`) and what the rules derive from it (`warmupSteps`, `evalInterval`,
    /// `minLearningRate`), or a time budget (`minutes`) recorded. Nothing else may differ.
    public func setSchedule(_ plan: TrainingPlan) {
        precondition(step == 0, "the schedule is set before the first step")
        precondition(plan.config == model.config, "the schedule's plan has another model shape")
        var same = plan.settings
        same.steps = settings.steps
        same.warmupSteps = settings.warmupSteps
        same.evalInterval = settings.evalInterval
        same.minLearningRate = settings.minLearningRate
        same.minutes = settings.minutes
        precondition(same == settings, "only the schedule may change before the first step")
        state.settings = plan.settings
    }

    /// One optimizer step on a fresh random batch. A NaN or infinite loss or gradient norm
    /// leaves the parameters and the step count untouched and returns `applied: false`; the
    /// caller decides whether to stop or to `skipStep()` and go on.
    public func trainStep() -> StepResult {
        data.sampleBatch(inputs: inputs, targets: targets, B: B, T: T, validation: false, rng: &state.rng)
        model.zeroGradients()
        let loss = model.forward(tokens: inputs, targets: targets, B: B, T: T, dropout: settings.dropout, rng: &state.rng)
        let lr = settings.learningRate(at: step)
        guard loss.isFinite else {
            return StepResult(loss: loss, gradNorm: .nan, learningRate: lr, applied: false)
        }
        model.backward()
        // Frozen parameters take no part: their gradients are dropped before the norm and clip.
        for range in state.frozen {
            (model.gradients.pointer + range.lowerBound).update(repeating: 0, count: range.count)
        }
        let norm = AdamW.globalNorm(model.gradients.pointer, count: model.parameterCount, context: model.context)
        guard norm.isFinite else {
            return StepResult(loss: loss, gradNorm: norm, learningRate: lr, applied: false)
        }
        let clip = settings.gradClip
        let scale: Float = clip > 0 && norm > clip ? clip / norm : 1
        optimizer.update(parameters: model.parameters.pointer, gradients: model.gradients.pointer, gradScale: scale,
                         learningRate: lr, step: step + 1, settings: settings, context: model.context)
        state.step += 1
        state.tokensSeen += B * T
        return StepResult(loss: loss, gradNorm: norm, learningRate: lr, applied: true)
    }

    /// Counts a step whose batch was skipped (the schedule and data order move on).
    public func skipStep() {
        state.step += 1
        state.tokensSeen += B * T
    }

    /// Mean validation loss over all positions of `settings.evalWindows` windows drawn by a
    /// generator of their own, so every evaluation sees the same windows and training's
    /// random stream is untouched.
    public func evaluate() -> Float {
        meanLoss(validation: true, seed: settings.seed ^ 0x5EED_E7A1)
    }

    /// Mean training loss over all positions of `settings.evalWindows` windows of the training
    /// text, measured as `evaluate()` measures validation (fixed windows from a generator of
    /// their own, no dropout, no update), so the two numbers at an evaluation compare like with
    /// like: nanoGPT's estimate_loss averages both splits the same way. One batch's loss, what
    /// a step reports, is a noisier number of a different kind.
    public func estimateTrainingLoss() -> Float {
        meanLoss(validation: false, seed: settings.seed ^ 0x7EA1_5E7E)
    }

    private func meanLoss(validation: Bool, seed: UInt64) -> Float {
        var windowRNG = RandomGenerator(seed: seed)
        var total: Double = 0
        var remaining = settings.evalWindows
        while remaining > 0 {
            // Always a full batch (so activations keep their shape); only `used` rows count.
            data.sampleBatch(inputs: inputs, targets: targets, B: B, T: T, validation: validation, rng: &windowRNG)
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
        state.history.append(HistoryEntry(step: step, trainLoss: trainLoss, validationLoss: validationLoss ?? .nan,
                                          learningRate: learningRate))
        if let validationLoss, validationLoss < bestValidationLoss {
            state.bestValidationLoss = validationLoss
            return true
        }
        return false
    }
}
