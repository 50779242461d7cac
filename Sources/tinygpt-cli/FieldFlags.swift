// The one table from the library's setting names to the command line's flag words. Library
// errors name a setting by its Swift field in backticks ("`contextLength` must be between 1
// and 65536"); everything the executable writes to stderr passes through `flagWords`, which
// puts the flag a user types in each field's place ("--context must be between 1 and 65536").
// Train's setting flags are made here from the library's TrainingSetting.all: the word comes
// from this table, the help, range and default from the setting.

import TinyGPT

enum FieldFlags {
    /// One field and the flag word a user types for it; `flag` nil for a training setting the
    /// command line deliberately does not offer. `valueName` names the value in help when "N"
    /// (whole numbers) or "F" (other numbers) would not do.
    struct Row {
        var field: String
        var flag: String?
        var valueName: String?
        init(_ field: String, _ flag: String?, _ valueName: String? = nil) {
            self.field = field
            self.flag = flag
            self.valueName = valueName
        }
    }

    /// Field name (as in TrainingSetting.all, SamplingSettings, RunOptions) → flag word. Every
    /// row of TrainingSetting.all is here (FieldFlagsTests), in the same order.
    static let table: [Row] = [
        // TrainingSetting.all: the model's shape
        Row("layerCount", "--layers"),
        Row("headCount", "--heads"),
        Row("modelWidth", "--width"),
        Row("contextLength", "--context"),
        Row("gelu", "--gelu", "FORM"),
        Row("residual", "--no-residual"),
        // TrainingSetting.all: TrainingConfig
        Row("batchSize", "--batch"),
        Row("steps", "--steps"),
        Row("minutes", "--minutes", "MIN"),
        Row("learningRate", "--lr"),
        Row("minLearningRate", "--min-lr"),
        Row("warmupSteps", "--warmup"),
        Row("weightDecay", "--weight-decay"),
        Row("beta1", nil),
        Row("beta2", nil),
        Row("epsilon", nil),
        Row("gradClip", "--grad-clip"),
        Row("dropout", "--dropout"),
        Row("seed", "--seed"),
        Row("evalInterval", "--eval-every"),
        Row("evalWindows", "--eval-windows"),
        Row("validationFraction", nil),
        // RunOptions
        Row("saveEvery", "--save-every"),
        Row("keep", "--keep", "K"),
        Row("onNonFinite", "--on-nan", "ACTION"),
        // SamplingSettings
        Row("temperature", "--temperature", "T"),
        Row("topK", "--top-k", "K"),
        Row("topP", "--top-p", "P"),
    ]

    /// The flag word of `field`, if the command line has one.
    static func flag(_ field: String) -> String? { flagOfField[field] }

    // MARK: - Train's flags, from the table of settings

    /// The flag of `setting`: its word from `table`, its help, range and default from the
    /// setting. A default shows in help unless a preset changes it (then it is the preset's).
    static func flagSpec(_ setting: TrainingSetting) -> FlagSpec? {
        guard let row = table.first(where: { $0.field == setting.field }), let flag = row.flag else { return nil }
        let help = flagWords(setting.help)
        let chosenByPreset = Preset.chosenByPresets.contains { $0.field == setting.field }
        let shownDefault = setting.defaultRule ?? (chosenByPreset ? nil : defaultText(setting))
        switch setting.domain {
        case .int(let range):
            return .int(flag, row.valueName ?? "N", in: range, help: help, default: shownDefault)
        case .uint64:
            return .uint64(flag, row.valueName ?? "N", help: help, default: shownDefault)
        case .number(let range):
            return .float(flag, row.valueName ?? "F", in: range, help: help, default: shownDefault)
        case .choice(let words):
            return .choice(flag, row.valueName ?? "WORD", words, help: help, default: shownDefault)
        case .text:
            return .string(flag, row.valueName ?? "TEXT", help: help, default: shownDefault)
        case .bool:
            return .boolean(flag, help: help)
        }
    }

    /// A setting's default as help shows it: "100", "0.1", "1", "tanh".
    static func defaultText(_ setting: TrainingSetting) -> String {
        switch setting.defaultValue {
        case .number(let x) where x == x.rounded() && abs(x) < 1e15: return String(Int64(x))
        case let value: return setting.text(value)
        }
    }

    /// The flags of every setting the command line offers, in the table's order.
    static var settingFlags: [FlagSpec] { TrainingSetting.all.compactMap(flagSpec) }

    /// The settings given on the command line, as overrides of a preset (a switch turns its
    /// setting's default over).
    static func overrides(_ flags: ParsedFlags) -> TrainingPlan.Overrides {
        var o = TrainingPlan.Overrides()
        for setting in TrainingSetting.all {
            guard let flag = flag(setting.field), flags.contains(flag) else { continue }
            switch setting.domain {
            case .int: o[setting.field] = flags.int(flag).map(SettingValue.int)
            case .uint64: o[setting.field] = flags.uint64(flag).map(SettingValue.uint64)
            case .number: o[setting.field] = flags.double(flag).map(SettingValue.number)
            case .choice: o[setting.field] = flags.string(flag).map(SettingValue.word)
            case .text: o[setting.field] = flags.string(flag).map(SettingValue.text)
            case .bool:
                if case .bool(let on) = setting.defaultValue { o[setting.field] = .bool(!on) }
            }
        }
        return o
    }

    /// The value of a setting's flag as the command line gave it ("6", "0.002"; "" for a switch).
    static func typedValue(_ setting: TrainingSetting, _ flags: ParsedFlags) -> String {
        guard let flag = flag(setting.field) else { return "" }
        switch setting.domain {
        case .int: return flags.int(flag).map { "\($0)" } ?? ""
        case .uint64: return flags.uint64(flag).map { "\($0)" } ?? ""
        case .number: return flags.double(flag).map { "\($0)" } ?? ""
        case .choice, .text: return flags.string(flag) ?? ""
        case .bool: return ""
        }
    }

    // MARK: - Messages

    private static let flagOfField: [String: String] = Dictionary(uniqueKeysWithValues: table.compactMap { row in
        row.flag.map { (row.field, $0) }
    })

    /// `message` with every "`field`" of the table replaced by its flag word; other text,
    /// including backticked words the table lacks, is left as it is.
    static func flagWords(_ message: String) -> String {
        guard message.contains("`") else { return message }
        var out = ""
        var rest = Substring(message)
        while let open = rest.firstIndex(of: "`"),
              let close = rest[rest.index(after: open)...].firstIndex(of: "`") {
            out += rest[..<open]
            let afterOpen = rest.index(after: open)
            let name = String(rest[afterOpen..<close])
            if let flag = flagOfField[name] {
                out += flag
            } else {
                out += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return out
    }
}
