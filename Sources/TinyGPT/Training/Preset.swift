// Named model shapes and schedules that fit a laptop CPU, and the rules that turn a preset and
// the settings someone chose into a run: `TrainingPlan`, validated once. `tinygpt train` is
// these rules with flags for the overrides. The shapes follow nanoGPT's shakespeare_char
// configs (config/train_shakespeare_char.py and its CPU variant in nanoGPT's README).

/// A named model shape with a training schedule.
public struct Preset: Equatable, Sendable {
    public var name: String
    /// One line for help text: what the preset is for and its numbers.
    public var summary: String
    public var contextLength: Int
    public var layerCount: Int
    public var headCount: Int
    public var modelWidth: Int
    /// The schedule. `TrainingPlan` derives `minLearningRate` from the learning rate and caps
    /// `warmupSteps` and `evalInterval` by the run's length.
    public var settings: TrainingConfig

    public init(name: String, summary: String, contextLength: Int, layerCount: Int, headCount: Int, modelWidth: Int,
                batchSize: Int, steps: Int, learningRate: Float, dropout: Float = 0, evalInterval: Int = 250) {
        self.name = name
        self.summary = summary
        self.contextLength = contextLength
        self.layerCount = layerCount
        self.headCount = headCount
        self.modelWidth = modelWidth
        var s = TrainingConfig()
        s.batchSize = batchSize
        s.steps = steps
        s.learningRate = learningRate
        s.minLearningRate = learningRate / 10
        s.dropout = dropout
        s.evalInterval = evalInterval
        settings = s
    }

    /// This shape for a vocabulary of `vocabSize` characters.
    public func config(vocabSize: Int, gelu: GELUForm = .tanh) -> GPTConfig {
        GPTConfig(vocabSize: vocabSize, contextLength: contextLength, layerCount: layerCount, headCount: headCount,
                  modelWidth: modelWidth, gelu: gelu)
    }

    /// nanoGPT's shakespeare_char CPU example; the default.
    public static let baby = Preset(
        name: "baby", summary: "nanoGPT's shakespeare_char CPU example: 4 layers, 4 heads, width 128, context 64, batch 12, 2000 steps",
        contextLength: 64, layerCount: 4, headCount: 4, modelWidth: 128, batchSize: 12, steps: 2000, learningRate: 1e-3)
    /// A one-minute smoke run.
    public static let tiny = Preset(
        name: "tiny", summary: "a one-minute smoke run: 2 layers, 2 heads, width 64, context 32, batch 8, 300 steps",
        contextLength: 32, layerCount: 2, headCount: 2, modelWidth: 64, batchSize: 8, steps: 300, learningRate: 2e-3,
        evalInterval: 100)
    /// The best tiny-Shakespeare validation loss we reached in ten minutes on two cores.
    public static let tenMinutes = Preset(
        name: "ten-minutes", summary: "the lowest tiny-Shakespeare validation loss we reached in ten minutes on 2 cores (1.57 in 8 min): 4 layers, 4 heads, width 128, context 128, batch 16, 4000 steps",
        contextLength: 128, layerCount: 4, headCount: 4, modelWidth: 128, batchSize: 16, steps: 4000, learningRate: 1.5e-3,
        evalInterval: 500)
    /// nanoGPT's shakespeare_char GPU shape (slow on a CPU).
    public static let small = Preset(
        name: "small", summary: "nanoGPT's shakespeare_char GPU shape: 6 layers, 6 heads, width 384, context 256, batch 8, 5000 steps (slow on a CPU)",
        contextLength: 256, layerCount: 6, headCount: 6, modelWidth: 384, batchSize: 8, steps: 5000, learningRate: 1e-3,
        dropout: 0.2, evalInterval: 250)

    public static let all: [Preset] = [.baby, .tiny, .tenMinutes, .small]

    /// The preset called `name`, if there is one.
    public static func named(_ name: String) -> Preset? {
        all.first { $0.name == name }
    }
}

/// A new run's model shape and settings, validated: holding one means the run can start.
public struct TrainingPlan: Equatable, Sendable {
    /// Settings chosen by hand; nil keeps the preset's value or the default rule.
    public struct Overrides: Equatable, Sendable {
        public var contextLength: Int?
        public var layerCount: Int?
        public var headCount: Int?
        public var modelWidth: Int?
        public var gelu: GELUForm?
        /// False trains blocks without their skip connections (the residual ablation).
        public var residual: Bool?
        public var batchSize: Int?
        public var steps: Int?
        public var learningRate: Float?
        public var minLearningRate: Float?
        public var warmupSteps: Int?
        public var weightDecay: Float?
        public var gradClip: Float?
        public var dropout: Float?
        public var seed: UInt64?
        public var evalInterval: Int?
        public var evalWindows: Int?

        public init() {}
    }

    public let config: GPTConfig
    public let settings: TrainingConfig

    /// Checks the shape, the settings, and that the run fits in this computer's memory.
    public init(config: GPTConfig, settings: TrainingConfig) throws {
        try config.validate()
        try settings.validate()
        try MemoryEstimate.check(config: config, batchSize: settings.batchSize, dropout: settings.dropout > 0)
        self.config = config
        self.settings = settings
    }

    /// `preset` with `overrides` applied, for a vocabulary of `vocabSize` characters. The
    /// default rules, for what is not overridden:
    /// - `minLearningRate` is a tenth of the learning rate;
    /// - `warmupSteps` (the preset's, or the override) is capped at half the steps;
    /// - `evalInterval` is the preset's, capped at a quarter of the steps (at least 1).
    /// (Saving defaults to every evaluation: `RunOptions.saveEvery`.)
    public init(preset: Preset = .baby, vocabSize: Int, overrides o: Overrides = Overrides()) throws {
        let config = GPTConfig(vocabSize: vocabSize, contextLength: o.contextLength ?? preset.contextLength,
                               layerCount: o.layerCount ?? preset.layerCount, headCount: o.headCount ?? preset.headCount,
                               modelWidth: o.modelWidth ?? preset.modelWidth, gelu: o.gelu ?? .tanh,
                               residual: o.residual ?? true)
        var s = preset.settings
        s.batchSize = o.batchSize ?? s.batchSize
        s.steps = o.steps ?? s.steps
        s.learningRate = o.learningRate ?? s.learningRate
        s.minLearningRate = o.minLearningRate ?? s.learningRate / 10
        s.warmupSteps = min(o.warmupSteps ?? s.warmupSteps, s.steps / 2)
        s.weightDecay = o.weightDecay ?? s.weightDecay
        s.gradClip = o.gradClip ?? s.gradClip
        s.dropout = o.dropout ?? s.dropout
        s.seed = o.seed ?? s.seed
        s.evalInterval = o.evalInterval ?? min(s.evalInterval, max(1, s.steps / 4))
        s.evalWindows = o.evalWindows ?? s.evalWindows
        try self.init(config: config, settings: s)
    }
}
