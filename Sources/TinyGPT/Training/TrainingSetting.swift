// The table of training settings: every setting of a run, the model's shape (`GPTConfig`) and
// how it is trained (`TrainingConfig`), declared once with its help text, valid range, what a
// resumed run may do with it, and its value in words. Whatever lists settings reads this table:
// `TrainingConfig.validate`, the presets and `TrainingPlan.Overrides`, the resume check, run.json
// (`RunDescription`) and the training report. The command line builds train's flags and their
// help from it; tinygpt-cli/FieldFlags.swift adds only the flag words, which the library never
// holds. A setting's default is the one written at its stored property, read here through the
// key path, so no default is written twice. (nanoGPT keeps the same facts in one dataclass and
// argparse-like overrides; swift-argument-parser takes a flag's help default from its typed value.)
//
// Adding a setting (a time budget, layers to freeze, ...):
//   1. its stored property, with its default and a doc comment, in TrainingConfig (or GPTConfig);
//   2. one row in `TrainingSetting.all` below, where it should appear in help and reports;
//   3. its flag word in FieldFlags.table (tinygpt-cli), or nil for a setting with no flag.
// A setting whose default means "none" outside its range (`minutes` 0: no time budget) names
// that value as `unset`: validation accepts it, the flag refuses it, summaries leave it out.
// The flag, its help, validation, presets, the resume check, run.json and the report follow.
// One place does not yet: the checkpoint stores TrainingConfig in a fixed binary order
// (IO/Checkpoint+Format.swift), so a TrainingConfig field needs its place there too (a format
// change). SettingsTableTests fail, naming what is missing, until every part is there.

/// A setting's value, whatever its Swift type: what run.json stores and overrides carry.
public enum SettingValue: Hashable, Sendable {
    case int(Int)
    case uint64(UInt64)
    /// A `Float` or `Double` setting (a `Float` held exactly).
    case number(Double)
    case bool(Bool)
    /// One of a fixed set of words (GELU's form).
    case word(String)
    case text(String)
}

/// A Swift type a setting can have.
public protocol SettingType: Hashable, Sendable, CustomStringConvertible {
    init?(settingValue: SettingValue)
    var settingValue: SettingValue { get }
}

extension Int: SettingType {
    public init?(settingValue v: SettingValue) { guard case .int(let x) = v else { return nil }; self = x }
    public var settingValue: SettingValue { .int(self) }
}

extension UInt64: SettingType {
    public init?(settingValue v: SettingValue) { guard case .uint64(let x) = v else { return nil }; self = x }
    public var settingValue: SettingValue { .uint64(self) }
}

extension Float: SettingType {
    public init?(settingValue v: SettingValue) { guard case .number(let x) = v else { return nil }; self = Float(x) }
    public var settingValue: SettingValue { .number(Double(self)) }
}

extension Double: SettingType {
    public init?(settingValue v: SettingValue) { guard case .number(let x) = v else { return nil }; self = x }
    public var settingValue: SettingValue { .number(self) }
}

extension Bool: SettingType {
    public init?(settingValue v: SettingValue) { guard case .bool(let x) = v else { return nil }; self = x }
    public var settingValue: SettingValue { .bool(self) }
}

extension String: SettingType {
    public init?(settingValue v: SettingValue) { guard case .text(let x) = v else { return nil }; self = x }
    public var settingValue: SettingValue { .text(self) }
}

extension GELUForm: SettingType {
    public init?(settingValue v: SettingValue) {
        guard case .word(let name) = v, let form = GELUForm(name: name) else { return nil }
        self = form
    }
    public var settingValue: SettingValue { .word(name) }
    public var description: String { name }
}

/// One row of the table: one setting of a training run.
public struct TrainingSetting: @unchecked Sendable {  // key paths and closures, all immutable
    /// The values a setting accepts.
    public enum Domain: Equatable, Sendable {
        case int(ClosedRange<Int>)
        /// Any `UInt64` (seeds).
        case uint64
        case number(FloatRange)
        /// On or off; the command line offers a switch that turns the default over.
        case bool
        case choice([String])
        case text
    }

    /// What a resumed run may do with the setting.
    public enum OnResume: Sendable {
        /// Go on with another value (`steps`).
        case mayChange
        /// Keep the checkpoint's: a restated value must equal it.
        case fixed
    }

    /// Where the setting shows in a run's summary (the report's settings table), in this order.
    public enum Group: CaseIterable, Sendable {
        case model, batch, learningRate, regularisation, optimizer, evaluation, seed
    }

    /// The Swift field (`learningRate`): its name in messages, overrides and run.json.
    public let field: String
    /// One phrase for help text. For a `.bool` setting, what the value opposite the default does.
    /// Other settings are named by their field in backticks.
    public let help: String
    public let domain: Domain
    public let onResume: OnResume
    public let group: Group
    /// The default in words when a rule, not a value, gives it ("lr/10").
    public let defaultRule: String?
    /// `\GPTConfig.layerCount` or `\TrainingConfig.batchSize`.
    public let keyPath: AnyKeyPath
    /// True for the model's shape (a `GPTConfig` field).
    public let isModel: Bool
    /// A value outside `domain` that the field may also hold, meaning "none" (its default):
    /// `minutes` 0, no time budget. Validation accepts it; the command line's flag does not.
    public let unset: SettingValue?
    private let read: (GPTConfig, TrainingConfig) -> SettingValue
    private let write: (SettingValue, inout GPTConfig, inout TrainingConfig) -> Bool
    private let normalize: (SettingValue) -> SettingValue?
    private let show: (SettingValue) -> String
    private let describe: (SettingValue) -> String

    private init<Root, T: SettingType>(_ keyPath: WritableKeyPath<Root, T>, isModel: Bool, field: String, domain: Domain,
                                       group: Group, onResume: OnResume, help: String, defaultRule: String?,
                                       unset: T? = nil, words: @escaping (T) -> String,
                                       read: @escaping (GPTConfig, TrainingConfig) -> T,
                                       write: @escaping (T, inout GPTConfig, inout TrainingConfig) -> Void) {
        self.field = field
        self.help = help
        self.domain = domain
        self.onResume = onResume
        self.group = group
        self.defaultRule = defaultRule
        self.keyPath = keyPath
        self.isModel = isModel
        self.unset = unset?.settingValue
        self.read = { read($0, $1).settingValue }
        self.write = { value, c, s in
            guard let typed = T(settingValue: value) else { return false }
            write(typed, &c, &s)
            return true
        }
        normalize = { T(settingValue: $0)?.settingValue }
        show = { T(settingValue: $0).map(\.description) ?? "?" }
        describe = { T(settingValue: $0).map(words) ?? "?" }
    }

    /// A field of the model's shape.
    static func model<T: SettingType>(_ keyPath: WritableKeyPath<GPTConfig, T>, _ field: String, _ domain: Domain,
                                      help: String, words: @escaping (T) -> String) -> TrainingSetting {
        TrainingSetting(keyPath, isModel: true, field: field, domain: domain, group: .model, onResume: .fixed, help: help,
                        defaultRule: nil, words: words, read: { c, _ in c[keyPath: keyPath] },
                        write: { v, c, _ in c[keyPath: keyPath] = v })
    }

    /// A field of `TrainingConfig`.
    static func training<T: SettingType>(_ keyPath: WritableKeyPath<TrainingConfig, T>, _ field: String, _ domain: Domain,
                                         _ group: Group, onResume: OnResume = .fixed, help: String,
                                         defaultRule: String? = nil, unset: T? = nil,
                                         words: @escaping (T) -> String) -> TrainingSetting {
        TrainingSetting(keyPath, isModel: false, field: field, domain: domain, group: group, onResume: onResume, help: help,
                        defaultRule: defaultRule, unset: unset, words: words, read: { _, s in s[keyPath: keyPath] },
                        write: { v, _, s in s[keyPath: keyPath] = v })
    }

    // MARK: - The table

    /// Every setting of a training run, in the order of train's help, the resume check and reports.
    public static let all: [TrainingSetting] = [
        .model(\.layerCount, "layerCount", .int(1...GPTConfig.maxLayerCount), help: "transformer blocks",
               words: { $0 == 1 ? "1 layer" : "\($0) layers" }),
        .model(\.headCount, "headCount", .int(1...GPTConfig.maxHeadCount), help: "attention heads per block (must divide `modelWidth`)",
               words: { $0 == 1 ? "1 head" : "\($0) heads" }),
        .model(\.modelWidth, "modelWidth", .int(1...GPTConfig.maxModelWidth), help: "embedding width", words: { "width \($0)" }),
        .model(\.contextLength, "contextLength", .int(1...GPTConfig.maxContextLength), help: "context length in characters",
               words: { "context \($0)" }),
        .model(\.gelu, "gelu", .choice(GELUForm.allCases.map(\.name)), help: "GELU formula", words: { "\($0.name) GELU" }),
        .model(\.residual, "residual", .bool,
               help: "blocks without their skip connections (x = branch, not x + branch): the residual ablation",
               words: { $0 ? "with skip connections" : "without skip connections" }),

        .training(\.batchSize, "batchSize", .int(1...65_536), .batch, help: "sequences per step", words: { "batch \($0)" }),
        .training(\.steps, "steps", .int(1...1_000_000_000), .batch, onResume: .mayChange,
                  help: "total steps of the run (also when resuming)", words: { "\($0) steps" }),
        .training(\.minutes, "minutes", .number(.greaterThan(0)), .batch,
                  help: "train for this many minutes instead, counted from the start of the command: a short timed warm-up chooses `steps`, which is printed and recorded, then fixed (a machine that slows down mid-run overruns), so the run resumes and repeats exactly",
                  unset: 0, words: { $0 == 0 ? "no time budget" : "time budget \(FloatRange.number($0)) min" }),

        .training(\.learningRate, "learningRate", .number(.open(0, 10)), .learningRate, help: "peak learning rate",
                  words: { "learning rate \($0)" }),
        .training(\.minLearningRate, "minLearningRate", .number(.closed(0, 10)), .learningRate,
                  help: "final learning rate of the cosine decay", defaultRule: "lr/10", words: { "final learning rate \($0)" }),
        .training(\.warmupSteps, "warmupSteps", .int(0...1_000_000_000), .learningRate, help: "linear warmup steps",
                  words: { "warmup \($0) steps" }),

        .training(\.weightDecay, "weightDecay", .number(.halfOpen(0, 10)), .regularisation, help: "AdamW weight decay on matrices",
                  words: { "weight decay \($0)" }),
        .training(\.beta1, "beta1", .number(.halfOpen(0, 1)), .optimizer, help: "AdamW's decay rate of its mean gradient",
                  words: { "AdamW β1 \($0)" }),
        .training(\.beta2, "beta2", .number(.halfOpen(0, 1)), .optimizer, help: "AdamW's decay rate of its mean squared gradient",
                  words: { "β2 \($0)" }),
        .training(\.epsilon, "epsilon", .number(.greaterThan(0)), .optimizer,
                  help: "AdamW's ε, added to the root of the mean squared gradient", words: { "ε \($0)" }),
        .training(\.gradClip, "gradClip", .number(.atLeast(0)), .regularisation, help: "clip the global gradient norm (0: off)",
                  words: { "gradient clip \($0)" }),
        .training(\.dropout, "dropout", .number(.halfOpen(0, 1)), .regularisation, help: "dropout probability",
                  words: { "dropout \($0)" }),
        .training(\.seed, "seed", .uint64, .seed, help: "random seed; the same seed gives the same output", words: { "seed \($0)" }),

        .training(\.evalInterval, "evalInterval", .int(1...Int.max), .evaluation, help: "steps between validation evaluations",
                  words: { "evaluation every \($0) steps" }),
        .training(\.evalWindows, "evalWindows", .int(1...1_000_000), .evaluation, help: "validation windows averaged per evaluation",
                  words: { "\($0) evaluation windows" }),
        .training(\.validationFraction, "validationFraction", .number(.open(0, 1)), .evaluation,
                  help: "fraction of the text held out for validation (its end)", words: { "validation fraction \($0)" }),
    ]

    private static let byField: [String: TrainingSetting] = Dictionary(uniqueKeysWithValues: all.map { ($0.field, $0) })
    private static let byKeyPath: [AnyKeyPath: TrainingSetting] = Dictionary(uniqueKeysWithValues: all.map { ($0.keyPath, $0) })

    /// The setting whose field is `field`, if there is one.
    public static func named(_ field: String) -> TrainingSetting? { byField[field] }

    /// The setting of `keyPath`; a key path the table lacks is a programming error.
    public static func at(_ keyPath: AnyKeyPath) -> TrainingSetting {
        guard let setting = byKeyPath[keyPath] else { preconditionFailure("\(keyPath) is not in TrainingSetting.all") }
        return setting
    }

    // MARK: - Values

    /// The setting's value in a run's shape and settings.
    public func value(_ config: GPTConfig, _ settings: TrainingConfig) -> SettingValue { read(config, settings) }

    /// Sets the setting to `value`, which must be of the setting's type.
    public func set(_ value: SettingValue, _ config: inout GPTConfig, _ settings: inout TrainingConfig) {
        let fits = write(value, &config, &settings)
        precondition(fits, "\(value) is no value of `\(field)`")
    }

    /// The value the setting has unless something changes it: the stored property's default.
    public var defaultValue: SettingValue { read(GPTConfig(vocabSize: 1), TrainingConfig()) }

    /// `value` as the setting's own type holds it (a `Float` rounded, a GELU alias named), or nil
    /// when it is of another type.
    public func normalized(_ value: SettingValue) -> SettingValue? { normalize(value) }

    /// The value alone, as Swift prints the field's type: "0.001", "1337", "tanh".
    public func text(_ value: SettingValue) -> String { show(value) }

    /// The value in words, as a summary of the run says it: "4 layers", "learning rate 0.001".
    public func words(_ value: SettingValue) -> String { describe(value) }

    /// Whether two values are the same setting: numbers typed in decimal may differ from the
    /// stored `Float` in the last bit, so numbers match within a millionth (relative).
    public func same(_ a: SettingValue, _ b: SettingValue) -> Bool {
        if case .number(let x) = a, case .number(let y) = b { return x == y || abs(x - y) <= 1e-6 * max(abs(x), abs(y)) }
        return a == b
    }

    /// Throws a usage error naming the field when `value` is outside the setting's range.
    public func check(_ value: SettingValue) throws {
        if let unset, value == unset { return }
        let phrase: String
        switch (domain, value) {
        case (.int(let range), .int(let x)):
            if range.contains(x) { return }
            phrase = range.upperBound == .max ? "at least \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)"
        case (.number(let range), .number(let x)):
            if range.contains(x) { return }
            phrase = range.phrase
        case (.choice(let words), .word(let w)):
            if words.contains(w) { return }
            phrase = "one of \(words.joined(separator: ", "))"
        case (.uint64, .uint64), (.bool, .bool), (.text, .text):
            return
        default:
            preconditionFailure("\(value) is no value of `\(field)`")
        }
        let none = unset.map { value in
            if case .number(let x) = value { return " (or \(FloatRange.number(x)): \(words(value)))" }
            return " (or \(text(value)): \(words(value)))"
        } ?? ""
        throw TinyGPTError.usage("`\(field)` must be \(phrase)\(none), got \(text(value))")
    }
}
