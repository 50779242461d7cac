// Named model shapes and schedules that fit a laptop CPU, and the rules that turn a preset and
// the settings someone chose into a run: `TrainingPlan`, validated once. `tinygpt train` is
// these rules with flags for the overrides. The shapes follow nanoGPT's shakespeare_char
// configs (config/train_shakespeare_char.py and its CPU variant in nanoGPT's README). A preset
// lists only the settings it changes from their defaults (TrainingConfig, GPTConfig).

/// A named model shape with a training schedule.
public struct Preset: Equatable, Sendable {
    public var name: String
    /// What the preset is for, in a few words; `summary` adds its numbers.
    public var purpose: String
    /// The settings the preset changes from their defaults, and only those. `TrainingPlan`
    /// derives `minLearningRate` from the learning rate and caps `warmupSteps` and
    /// `evalInterval` by the run's length. A preset with a time budget (`minutes`) leaves the
    /// steps to the warm-up (`TimeBudget`).
    public var changes: TrainingPlan.Overrides

    public init(name: String, purpose: String, changes: (inout TrainingPlan.Overrides) -> Void = { _ in }) {
        self.name = name
        self.purpose = purpose
        var o = TrainingPlan.Overrides()
        changes(&o)
        self.changes = o
    }

    /// This shape for a vocabulary of `vocabSize` characters.
    public func config(vocabSize: Int) -> GPTConfig {
        var config = GPTConfig(vocabSize: vocabSize), settings = TrainingConfig()
        changes.apply(&config, &settings)
        return config
    }

    /// The defaults with the preset's changes (before `TrainingPlan`'s rules).
    public var settings: TrainingConfig {
        var config = GPTConfig(vocabSize: 1), settings = TrainingConfig()
        changes.apply(&config, &settings)
        return settings
    }

    /// One line for help text: what the preset is for, its shape, batch and length
    /// ("4 layers, 4 heads, width 128, context 64, batch 12, 2000 steps"; a time budget in
    /// place of the steps it chooses).
    public var summary: String {
        let config = config(vocabSize: 1), settings = settings
        let steps = TrainingSetting.at(\TrainingConfig.steps).field
        let words = TrainingSetting.all.filter { $0.group == .model || $0.group == .batch }.compactMap { setting -> String? in
            let value = setting.value(config, settings)
            if value == setting.unset || (setting.field == steps && settings.hasTimeBudget) { return nil }
            switch setting.domain {
            case .bool, .choice, .text: return value == setting.defaultValue ? nil : setting.words(value)
            default: return setting.words(value)
            }
        }
        return "\(purpose): " + words.joined(separator: ", ")
    }

    /// nanoGPT's shakespeare_char CPU example: the defaults; the preset `train` uses.
    public static let baby = Preset(name: "baby", purpose: "nanoGPT's shakespeare_char CPU example")
    /// A one-minute smoke run.
    public static let tiny = Preset(name: "tiny", purpose: "a one-minute smoke run") {
        $0.contextLength = 32
        $0.layerCount = 2
        $0.headCount = 2
        $0.modelWidth = 64
        $0.batchSize = 8
        $0.steps = 300
        $0.learningRate = 2e-3
        $0.evalInterval = 100
    }
    /// Ten minutes of training on tiny Shakespeare: the shape and learning rate that reached the
    /// lowest validation loss we found in ten minutes on 2 cores. The steps are whatever fits
    /// the budget on the machine at hand (`TimeBudget`). Its numbers are all here.
    public static let tenMinutes = Preset(
        name: "ten-minutes",
        purpose: "the best shape, learning rate and weight decay we found for ten minutes of tiny Shakespeare on 2 cores"
    ) {
        $0.contextLength = 256
        $0.batchSize = 4
        $0.minutes = 10
        $0.learningRate = 3e-3
        $0.weightDecay = 0.2
        $0.evalInterval = 1000  // an evaluation costs about 30 steps: every 500 took 5% of the budget
    }
    /// nanoGPT's shakespeare_char GPU shape (slow on a CPU).
    public static let small = Preset(name: "small", purpose: "nanoGPT's shakespeare_char GPU shape, slow on a CPU") {
        $0.contextLength = 256
        $0.layerCount = 6
        $0.headCount = 6
        $0.modelWidth = 384
        $0.batchSize = 8
        $0.steps = 5000
        $0.dropout = 0.2
    }

    public static let all: [Preset] = [.baby, .tiny, .tenMinutes, .small]

    /// The preset called `name`, if there is one.
    public static func named(_ name: String) -> Preset? {
        all.first { $0.name == name }
    }

    /// The settings a preset stands for: every setting some preset changes (the shape, batch,
    /// length, learning rate, dropout, evaluation interval), in the table's order.
    public static var chosenByPresets: [TrainingSetting] {
        TrainingSetting.all.filter { setting in all.contains { $0.changes[setting.field] != nil } }
    }
}

/// A new run's model shape and settings, validated: holding one means the run can start.
public struct TrainingPlan: Equatable, Sendable {
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

    /// `preset` with `overrides` applied, for a vocabulary of `vocabSize` characters, and then
    /// the default rules (`applyRules`) for what is not overridden.
    /// (Saving defaults to every evaluation: `RunOptions.saveEvery`.)
    /// With a time budget (`minutes`) the steps are not known yet: this plan holds the preset's
    /// or default `steps` until `TimeBudget` chooses them and `init(preset:vocabSize:overrides:steps:)`
    /// makes the plan of the run. Choosing both `minutes` and `steps` is a usage error.
    public init(preset: Preset = .baby, vocabSize: Int, overrides: Overrides = Overrides()) throws {
        try Self.checkChoices(overrides)
        try self.init(config: Self.config(preset: preset, vocabSize: vocabSize, overrides: overrides),
                      settings: Self.settings(preset: preset, overrides: overrides))
    }

    /// Throws a usage error when `overrides` choose settings that exclude each other: a time
    /// budget (`minutes`) and `steps`.
    public static func checkChoices(_ overrides: Overrides) throws {
        if overrides.minutes != nil && overrides.steps != nil {
            throw TinyGPTError.usage("`minutes` chooses the steps itself; give `minutes` or `steps`, not both")
        }
    }

    /// The plan of a run with a time budget once its `steps` are chosen: exactly the plan
    /// `overrides` with `steps` chosen would make (the same caps and rules, so the run is
    /// bit for bit the one `steps` alone gives), with the budget kept as a record.
    public init(preset: Preset = .baby, vocabSize: Int, overrides: Overrides, steps: Int) throws {
        try self.init(config: Self.config(preset: preset, vocabSize: vocabSize, overrides: overrides),
                      settings: Self.settings(preset: preset, overrides: overrides, steps: steps))
    }

    /// The settings of `preset` with `overrides` and the rules (see `init`), not yet validated;
    /// with `steps` given, a budgeted run's settings for that many steps.
    public static func settings(preset: Preset, overrides: Overrides, steps: Int? = nil) -> TrainingConfig {
        var config = GPTConfig(vocabSize: 1), settings = TrainingConfig()
        preset.changes.apply(&config, &settings)
        overrides.apply(&config, &settings)
        guard let steps else {
            applyRules(to: &settings, chosen: overrides)
            return settings
        }
        let minutes = settings.minutes
        var chosen = overrides
        chosen.minutes = nil
        chosen.steps = steps
        settings.steps = steps
        applyRules(to: &settings, chosen: chosen)
        settings.minutes = minutes
        return settings
    }

    private static func config(preset: Preset, vocabSize: Int, overrides: Overrides) -> GPTConfig {
        var config = GPTConfig(vocabSize: vocabSize), settings = TrainingConfig()
        preset.changes.apply(&config, &settings)
        overrides.apply(&config, &settings)
        return config
    }

    /// The default rules, given the settings `chosen` by hand:
    /// - `minLearningRate` is a tenth of the learning rate, unless chosen;
    /// - `warmupSteps` is capped at half the steps, even when chosen;
    /// - `evalInterval` is capped at a quarter of the steps (at least 1), unless chosen;
    /// - `minutes` is 0 (no time budget) when `steps` is chosen and `minutes` is not: the
    ///   steps asked for win over a preset's budget.
    public static func applyRules(to s: inout TrainingConfig, chosen: Overrides) {
        if chosen.minLearningRate == nil { s.minLearningRate = s.learningRate / 10 }
        s.warmupSteps = min(s.warmupSteps, s.steps / 2)
        if chosen.evalInterval == nil { s.evalInterval = min(s.evalInterval, max(1, s.steps / 4)) }
        if chosen.steps != nil && chosen.minutes == nil { s.minutes = 0 }
    }
}

extension TrainingPlan {
    /// Settings chosen by hand, by field; a setting not chosen keeps the preset's value or the
    /// default rule. Read and write them as fields, `overrides.layerCount = 6`, or by name,
    /// `overrides["layerCount"]`; any setting of `TrainingSetting.all` may be chosen.
    @dynamicMemberLookup
    public struct Overrides: Equatable, Sendable {
        /// The chosen values by field name.
        public private(set) var values: [String: SettingValue] = [:]

        public init() {}

        /// The value chosen for `field`; setting one that the table lacks, or of another type, is a
        /// programming error. Values are stored as the field holds them (a `Float` rounded).
        public subscript(field: String) -> SettingValue? {
            get { values[field] }
            set {
                guard let setting = TrainingSetting.named(field) else { preconditionFailure("no setting `\(field)`") }
                guard let newValue else { values[field] = nil; return }
                guard let value = setting.normalized(newValue) else { preconditionFailure("\(newValue) is no value of `\(field)`") }
                values[field] = value
            }
        }

        public subscript<T: SettingType>(dynamicMember keyPath: WritableKeyPath<GPTConfig, T>) -> T? {
            get { self[TrainingSetting.at(keyPath).field].flatMap(T.init(settingValue:)) }
            set { self[TrainingSetting.at(keyPath).field] = newValue?.settingValue }
        }

        public subscript<T: SettingType>(dynamicMember keyPath: WritableKeyPath<TrainingConfig, T>) -> T? {
            get { self[TrainingSetting.at(keyPath).field].flatMap(T.init(settingValue:)) }
            set { self[TrainingSetting.at(keyPath).field] = newValue?.settingValue }
        }

        /// Nothing chosen.
        public var isEmpty: Bool { values.isEmpty }

        /// Writes every chosen value into `config` and `settings`.
        public func apply(_ config: inout GPTConfig, _ settings: inout TrainingConfig) {
            for setting in TrainingSetting.all {
                if let value = values[setting.field] { setting.set(value, &config, &settings) }
            }
        }
    }
}
