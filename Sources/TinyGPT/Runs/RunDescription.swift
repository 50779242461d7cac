// run.json: what a report needs to know about a run that is not in its logs: the text, the
// model's size, every setting of TrainingSetting.all under its field name (so a new setting is
// recorded with no edit here), the n-gram baselines and the learning-rate schedule.

import Foundation

/// run.json: a run's settings and baselines.
public struct RunDescription: Codable, Sendable, Equatable {
    public struct Baseline: Codable, Sendable, Equatable {
        public var name: String
        public var loss: Double
    }

    public var dataPath: String
    public var characters: Int
    public var parameterCount: Int
    /// The model's shape; `vocabSize` is stored beside the settings.
    public var config: GPTConfig
    public var settings: TrainingConfig
    /// The n-gram counting baselines on the same validation text.
    public var baselines: [Baseline]
    /// The learning rate at every `scheduleStride`-th step, from step 0 (for the schedule plot).
    public var schedule: [Double]
    public var scheduleStride: Int
    /// "zh" when the training text is mostly Chinese (`TextLanguage`), so its report opens in
    /// Chinese; nil in run.json files from before it was recorded.
    public var language: String?

    /// One model a fine-tuning run started from (`LineageEntry` in run.json's words).
    public struct Origin: Codable, Sendable, Equatable {
        public var name: String
        public var step: Int
        /// The source run's last validation loss, on its own text; nil when unknown.
        public var validationLoss: Double?
        public var addedCharacters: Int
    }
    /// For a fine-tuning run, the models it started from, oldest first; absent for a run from
    /// scratch, so an ordinary run.json is what it always was.
    public var lineage: [Origin]?
    /// For a fine-tuning run, the validation loss on its own text before its first step.
    public var startLoss: Double?
    /// For a fine-tuning run with frozen parameters, what was frozen, in words.
    public var frozen: String?

    public init(trainer: Trainer, dataPath: String, baselines: [NGramBaseline.Result]) {
        let s = trainer.settings
        self.dataPath = dataPath
        characters = trainer.data.tokens.count
        parameterCount = trainer.model.parameterCount
        config = trainer.model.config
        settings = s
        self.baselines = baselines.map { Baseline(name: $0.name, loss: $0.loss) }
        scheduleStride = max(1, s.steps / 400)
        schedule = stride(from: 0, to: s.steps, by: scheduleStride).map { Double(s.learningRate(at: $0)) }
        if !trainer.lineage.isEmpty {
            lineage = trainer.lineage.map {
                Origin(name: $0.name, step: $0.step, validationLoss: $0.validationLoss.isNaN ? nil : Double($0.validationLoss),
                       addedCharacters: $0.addedCharacters)
            }
        }
        let scalars = trainer.tokenizer.scalars.map { Unicode.Scalar($0) ?? " " }
        language = TextLanguage.guess(scalars: scalars, counts: trainer.data.tokens.counts(vocabSize: scalars.count)).rawValue
    }

    // MARK: - JSON: one flat object, each setting under its field name

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }

        static let dataPath = Key("dataPath"), characters = Key("characters"), vocabSize = Key("vocabSize")
        static let parameterCount = Key("parameterCount"), baselines = Key("baselines")
        static let schedule = Key("schedule"), scheduleStride = Key("scheduleStride"), language = Key("language")
        static let lineage = Key("lineage"), startLoss = Key("startLoss"), frozen = Key("frozen")
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(dataPath, forKey: .dataPath)
        try c.encode(characters, forKey: .characters)
        try c.encode(config.vocabSize, forKey: .vocabSize)
        try c.encode(parameterCount, forKey: .parameterCount)
        for setting in TrainingSetting.all {
            let key = Key(setting.field)
            switch setting.value(config, settings) {
            case .int(let x): try c.encode(x, forKey: key)
            case .uint64(let x): try c.encode(x, forKey: key)
            case .number(let x): try c.encode(x, forKey: key)
            case .bool(let x): try c.encode(x, forKey: key)
            case .word(let x), .text(let x): try c.encode(x, forKey: key)
            }
        }
        try c.encode(baselines, forKey: .baselines)
        try c.encode(schedule, forKey: .schedule)
        try c.encode(scheduleStride, forKey: .scheduleStride)
        try c.encodeIfPresent(lineage, forKey: .lineage)
        try c.encodeIfPresent(startLoss, forKey: .startLoss)
        try c.encodeIfPresent(frozen, forKey: .frozen)
        try c.encodeIfPresent(language, forKey: .language)
    }

    /// A setting missing from the file (one added after the file was written) reads as its default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        dataPath = try c.decode(String.self, forKey: .dataPath)
        characters = try c.decode(Int.self, forKey: .characters)
        parameterCount = try c.decode(Int.self, forKey: .parameterCount)
        var config = GPTConfig(vocabSize: try c.decode(Int.self, forKey: .vocabSize))
        var settings = TrainingConfig()
        for setting in TrainingSetting.all {
            let key = Key(setting.field)
            guard c.contains(key) else { continue }
            let value: SettingValue
            switch setting.defaultValue {
            case .int: value = .int(try c.decode(Int.self, forKey: key))
            case .uint64: value = .uint64(try c.decode(UInt64.self, forKey: key))
            case .number: value = .number(try c.decode(Double.self, forKey: key))
            case .bool: value = .bool(try c.decode(Bool.self, forKey: key))
            case .word: value = .word(try c.decode(String.self, forKey: key))
            case .text: value = .text(try c.decode(String.self, forKey: key))
            }
            guard let normalized = setting.normalized(value) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "not a value of \(setting.field)")
            }
            setting.set(normalized, &config, &settings)
        }
        self.config = config
        self.settings = settings
        baselines = try c.decode([Baseline].self, forKey: .baselines)
        schedule = try c.decode([Double].self, forKey: .schedule)
        scheduleStride = try c.decode(Int.self, forKey: .scheduleStride)
        lineage = try c.decodeIfPresent([Origin].self, forKey: .lineage)
        startLoss = try c.decodeIfPresent(Double.self, forKey: .startLoss)
        frozen = try c.decodeIfPresent(String.self, forKey: .frozen)
        language = try c.decodeIfPresent(String.self, forKey: .language)
    }

    // MARK: - Telling runs apart

    /// The settings that tell two runs apart: the text ("data") and every setting of
    /// `TrainingSetting.all` (by its field), each with its value.
    public var comparableSettings: [(key: String, value: SettingValue)] {
        [("data", SettingValue.text(dataPath))] + TrainingSetting.all.map { ($0.field, $0.value(config, settings)) }
    }

    /// For each run, the settings whose values are not the same in all `runs` (a run without
    /// run.json, nil, has none): what the runs' labels name.
    public static func differences(_ runs: [RunDescription?]) -> [[(key: String, value: SettingValue)]] {
        let known = runs.compactMap { $0?.comparableSettings }
        guard let first = known.first else { return runs.map { _ in [] } }
        func same(_ key: String, _ a: SettingValue, _ b: SettingValue) -> Bool {
            TrainingSetting.named(key)?.same(a, b) ?? (a == b)
        }
        let differing = Set(first.indices.filter { i in known.contains { !same(first[i].key, $0[i].value, first[i].value) } })
        return runs.map { run in
            guard let settings = run?.comparableSettings else { return [] }
            return settings.indices.filter(differing.contains).map { settings[$0] }
        }
    }

    /// Writes run.json atomically.
    public func write(to path: String) throws {
        let e = JSONLines.encoder
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try OutputFile.write(Array(try e.encode(self)), to: path, as: .description)
    }

    /// Reads run.json; nil when the folder has none.
    public static func read(path: String) throws -> RunDescription? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONLines.decoder.decode(RunDescription.self, from: data)
        } catch {
            throw TinyGPTError.runtime("\(path) is not a run description this version reads; delete it and retrain, or redraw without it")
        }
    }
}
