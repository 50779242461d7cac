// Tests of Training/TrainingSetting.swift, the one table of training settings: every field of
// GPTConfig (but the vocabulary) and TrainingConfig has a row, and every consumer follows the
// table: validation, presets, the resume check, train's flags and help, run.json and the
// report. A setting added to a struct but not to the table, or to the table but missing from
// a consumer, fails here with its name. Also: no two types of the sources share a name.

import Foundation
import XCTest
@testable import TinyGPT
@testable import TinyGPTViews
@testable import tinygpt_cli

final class SettingsTableTests: XCTestCase {
    /// A valid value of `setting` other than `value`.
    static func otherValue(_ setting: TrainingSetting, than value: SettingValue) -> SettingValue {
        switch (setting.domain, value) {
        case (.int(let range), .int(let x)): return .int(x == range.lowerBound ? range.lowerBound + 1 : range.lowerBound)
        case (.uint64, .uint64(let x)): return .uint64(x &+ 1)
        case (.number(let range), .number(let x)):
            let candidate = x == 0 ? 0.5 : (range.contains(x * 2) ? x * 2 : x / 2)
            return setting.normalized(.number(candidate))!
        case (.bool, .bool(let x)): return .bool(!x)
        case (.choice(let words), .word(let w)): return .word(words.first { $0 != w }!)
        case (.text, .text(let t)): return .text(t + "x")
        default: preconditionFailure("\(value) is no value of \(setting.field)")
        }
    }

    /// Every setting at a value other than its default (all together still a valid run).
    static func everySettingChanged() -> (GPTConfig, TrainingConfig) {
        var config = GPTConfig(vocabSize: 30), settings = TrainingConfig()
        for setting in TrainingSetting.all {
            setting.set(otherValue(setting, than: setting.defaultValue), &config, &settings)
        }
        return (config, settings)
    }

    func testEveryFieldHasOneRowNamedAfterItsKeyPath() {
        let modelFields = Mirror(reflecting: GPTConfig(vocabSize: 1)).children.compactMap(\.label).filter { $0 != "vocabSize" }
        let trainingFields = Mirror(reflecting: TrainingConfig()).children.compactMap(\.label)
        XCTAssertEqual(Set(TrainingSetting.all.map(\.field)), Set(modelFields + trainingFields),
                       "TrainingSetting.all must have one row per field of GPTConfig (but vocabSize) and TrainingConfig")
        XCTAssertEqual(Set(TrainingSetting.all.map(\.field)).count, TrainingSetting.all.count, "a field listed twice")
        // Each row's name is its key path's: changing the value through the row changes that field only.
        for setting in TrainingSetting.all {
            var config = GPTConfig(vocabSize: 1), settings = TrainingConfig()
            setting.set(Self.otherValue(setting, than: setting.defaultValue), &config, &settings)
            let changed = zip(Mirror(reflecting: config).children, Mirror(reflecting: GPTConfig(vocabSize: 1)).children)
                .filter { "\($0.value)" != "\($1.value)" }.compactMap(\.0.label)
                + zip(Mirror(reflecting: settings).children, Mirror(reflecting: TrainingConfig()).children)
                .filter { "\($0.value)" != "\($1.value)" }.compactMap(\.0.label)
            XCTAssertEqual(changed, [setting.field], "the row named \(setting.field) writes \(changed)")
            XCTAssertEqual(setting.isModel, modelFields.contains(setting.field), setting.field)
        }
    }

    func testDefaultsAreValidAndRangesAreEnforcedNamingTheField() throws {
        XCTAssertNoThrow(try TrainingConfig().validate())
        for setting in TrainingSetting.all {
            XCTAssertNoThrow(try setting.check(setting.defaultValue), setting.field)
            XCTAssertEqual(setting.normalized(setting.defaultValue), setting.defaultValue, setting.field)
        }
        for setting in TrainingSetting.all where !setting.isModel {
            let outside: SettingValue
            switch setting.domain {
            case .int(let range): outside = .int(range.lowerBound - 1)
            case .number(let range) where range.lower.isFinite: outside = setting.normalized(.number(range.lower - 1))!
            default: continue
            }
            var config = GPTConfig(vocabSize: 1), settings = TrainingConfig()
            setting.set(outside, &config, &settings)
            XCTAssertThrowsError(try settings.validate(), setting.field) { error in
                XCTAssertTrue("\(error)".hasPrefix("`\(setting.field)` must be "), "\(error)")
            }
        }
        var nan = TrainingConfig()
        nan.learningRate = .nan
        XCTAssertThrowsError(try nan.validate()) { XCTAssertEqual("\($0)", "`learningRate` must be in (0, 10), got nan") }
    }

    /// A preset lists only what it changes, each a setting of the table set away from its default.
    func testPresetsListOnlyTableSettingsTheyChange() throws {
        for preset in Preset.all {
            for (field, value) in preset.changes.values {
                let setting = try XCTUnwrap(TrainingSetting.named(field), "\(preset.name) changes \(field), not in the table")
                XCTAssertNotEqual(value, setting.defaultValue, "\(preset.name) restates the default of \(field)")
                XCTAssertNoThrow(try setting.check(value), "\(preset.name).\(field)")
            }
            XCTAssertNoThrow(try TrainingPlan(preset: preset, vocabSize: 65), preset.name)
        }
        XCTAssertTrue(Preset.baby.changes.isEmpty, "baby is the defaults")
        XCTAssertEqual(Preset.baby.summary,
                       "nanoGPT's shakespeare_char CPU example: 4 layers, 4 heads, width 128, context 64, batch 12, 2000 steps")
        XCTAssertEqual(Preset.tiny.summary, "a one-minute smoke run: 2 layers, 2 heads, width 64, context 32, batch 8, 300 steps")
        // Overrides by field and by name are the same thing.
        var o = TrainingPlan.Overrides()
        o.layerCount = 6
        o["learningRate"] = .number(0.002)
        XCTAssertEqual(o["layerCount"], .int(6))
        XCTAssertEqual(o.learningRate, Float(0.002))
        XCTAssertEqual(o.values.count, 2)
    }

    /// Each setting a resumed run keeps is checked; one it may change is not.
    func testResumeChecksEverySettingMarkedFixed() {
        let config = GPTConfig(vocabSize: 30), settings = TrainingConfig()
        for setting in TrainingSetting.all {
            var asked = TrainingPlan.Overrides()
            asked[setting.field] = Self.otherValue(setting, than: setting.value(config, settings))
            let conflicts = asked.conflicts(config: config, settings: settings)
            switch setting.onResume {
            case .fixed:
                XCTAssertEqual(conflicts.map(\.field), [setting.field], setting.field)
                XCTAssertEqual(conflicts.first?.saved, setting.words(setting.value(config, settings)))
            case .mayChange:
                XCTAssertEqual(conflicts, [], setting.field)
            }
            // Restating the checkpoint's own value is never a conflict.
            asked[setting.field] = setting.value(config, settings)
            XCTAssertEqual(asked.conflicts(config: config, settings: settings), [], setting.field)
        }
        // A warmup a new run would have capped to the saved one is the same warmup.
        var short = TrainingConfig()
        short.steps = 100
        short.warmupSteps = 50
        var asked = TrainingPlan.Overrides()
        asked.warmupSteps = 100
        XCTAssertEqual(asked.conflicts(config: config, settings: short), [])
        // A preset stands for its settings, capped as a new run caps them.
        XCTAssertEqual(Preset.baby.conflicts(config: config, settings: settings, besides: .init()), [])
        let tinyRun = try! TrainingPlan(preset: .tiny, vocabSize: 30, overrides: { var o = TrainingPlan.Overrides(); o.steps = 20; return o }())
        XCTAssertEqual(Preset.tiny.conflicts(config: tinyRun.config, settings: tinyRun.settings, besides: .init()), [])
        XCTAssertEqual(Preset.baby.conflicts(config: tinyRun.config, settings: tinyRun.settings, besides: .init()).first?.saved,
                       "2 layers")
    }

    /// Train has a flag for every setting FieldFlags offers, with the setting's range, and its
    /// help shows the default written at the field (unless a preset or a rule sets it).
    func testTrainFlagsAndHelpFollowTheTable() throws {
        let train = TrainCommand().spec
        let help = train.helpText
        for setting in TrainingSetting.all {
            guard let flag = FieldFlags.flag(setting.field) else { continue }
            let spec = try XCTUnwrap(train.flags.first { $0.name == flag }, flag)
            switch (setting.domain, spec.kind) {
            case (.int(let a), .int(let b)): XCTAssertEqual(a, b, flag)
            case (.number(let a), .float(let b)): XCTAssertEqual(a, b, flag)
            case (.uint64, .uint64), (.bool, .boolean): break
            case (.choice(let a), .choice(let b)): XCTAssertEqual(a, b, flag)
            default: XCTFail("\(flag) has kind \(spec.kind) for a setting of \(setting.domain)")
            }
            XCTAssertTrue(help.contains(flag), flag)
        }
        XCTAssertEqual(train.flags.first { $0.name == "--warmup" }?.defaultValue, "\(TrainingConfig().warmupSteps)")
        XCTAssertEqual(train.flags.first { $0.name == "--seed" }?.defaultValue, "\(TrainingConfig().seed)")
        XCTAssertEqual(train.flags.first { $0.name == "--grad-clip" }?.defaultValue, "1")
        XCTAssertNil(train.flags.first { $0.name == "--weight-decay" }?.defaultValue, "a preset (ten-minutes) chooses it")
        XCTAssertNil(train.flags.first { $0.name == "--layers" }?.defaultValue, "presets choose the shape")
        XCTAssertEqual(train.flags.first { $0.name == "--min-lr" }?.defaultValue, "lr/10")
        // The seed of sample, compare and gradcheck is train's, with the one default.
        for command in [SampleCommand().spec, CompareCommand().spec, GradcheckCommand().spec] {
            XCTAssertEqual(command.flags.first { $0.name == "--seed" }?.defaultValue, "1337", command.name)
        }
        // Flags given become overrides, of the fields' own types.
        guard case .parsed(let flags) = try train.parse(["--layers", "6", "--lr", "0.002", "--gelu", "exact", "--no-residual", "--seed", "7"])
        else { return XCTFail("help?") }
        let o = FieldFlags.overrides(flags)
        XCTAssertEqual(o.layerCount, 6)
        XCTAssertEqual(o.learningRate, Float(0.002))
        XCTAssertEqual(o.gelu, .exact)
        XCTAssertEqual(o.residual, false)
        XCTAssertEqual(o.seed, 7)
        XCTAssertEqual(o.values.count, 5)
    }

    /// Every default a command declares is one its own parser accepts, so `intOrDefault` and
    /// the others can read it; and what they read is what help shows.
    func testEveryDeclaredDefaultParses() throws {
        let all: [Command] = [TrainCommand(), SampleCommand(), CompareCommand(), EvalCommand(), InfoCommand(),
                              AttentionCommand(), InspectCommand(), PlotCommand(), ExportCommand(), ImportCommand(),
                              BenchCommand(), GradcheckCommand(), ReportCommand()]
        for command in all {
            for flag in command.spec.flags {
                guard let raw = flag.defaultValue, flag.kind != .string else { continue }
                if flag.name == "--min-lr" { continue }  // a rule ("lr/10"), not a value
                XCTAssertNoThrow(try CommandSpec.convert(raw, for: flag), "\(command.spec.name) \(flag.name) default \(raw)")
            }
        }
        let sample = SampleCommand().spec
        guard case .parsed(let flags) = try sample.parse(["--prompt", "x"]) else { return XCTFail("help?") }
        XCTAssertEqual(flags.intOrDefault("--tokens"), 500)
        XCTAssertEqual(flags.floatOrDefault("--temperature"), 0.8)
        XCTAssertEqual(flags.uint64OrDefault("--seed"), RandomGenerator.defaultSeed)
        XCTAssertEqual(try SharedFlags.sampling(flags), SamplingSettings(temperature: 0.8))
        guard case .parsed(let given) = try sample.parse(["--tokens", "7", "--greedy", "--top-p", "1"]) else { return XCTFail("help?") }
        XCTAssertEqual(given.intOrDefault("--tokens"), 7)
        XCTAssertEqual(try SharedFlags.sampling(given), SamplingSettings(temperature: 0, topP: 1))
    }

    /// run.json holds every setting under its field name and reads back to the same settings;
    /// a file written before a setting existed reads it as its default.
    func testRunJSONAndReportHoldEverySetting() throws {
        let trainer = try TrainerTests.makeTrainer(TrainerTests.settings(steps: 12))
        var run = RunDescription(trainer: trainer, dataPath: "corpus.txt", baselines: [])
        (run.config, run.settings) = Self.everySettingChanged()
        run.config.vocabSize = trainer.model.config.vocabSize
        let path = NSTemporaryDirectory() + "tinygpt-run-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try run.write(to: path)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        for setting in TrainingSetting.all { XCTAssertNotNil(object[setting.field], "run.json lacks \(setting.field)") }
        XCTAssertEqual(try RunDescription.read(path: path), run)

        var old = object
        old["residual"] = nil
        old["evalWindows"] = nil
        try JSONSerialization.data(withJSONObject: old).write(to: URL(fileURLWithPath: path))
        let read = try XCTUnwrap(try RunDescription.read(path: path))
        XCTAssertEqual(read.config.residual, true)
        XCTAssertEqual(read.settings.evalWindows, TrainingConfig().evalWindows)

        let html = TrainingReport(run: run, log: [], health: [], timeLapse: [], title: "t").settingsSection()
        for setting in TrainingSetting.all {
            let words = Markup.escape(setting.words(setting.value(run.config, run.settings)))
            XCTAssertTrue(html.contains(words), "the report's settings table lacks \(setting.field) (\(words))")
        }
    }

    /// A checkpoint keeps every setting: the model's shape and the training section read back
    /// equal with each setting away from its default. (The checkpoint stores settings in a fixed
    /// binary order, IO/Checkpoint+Format.swift; a new setting needs a place there too.)
    func testCheckpointKeepsEverySetting() throws {
        var (config, settings) = Self.everySettingChanged()
        (config.layerCount, config.headCount, config.modelWidth, config.contextLength) = (2, 2, 8, 4)
        config.vocabSize = 5
        let original = CheckpointTests.makeCheckpoint(config, training: true)
        var training = try XCTUnwrap(original.training)
        training.settings = settings
        let checkpoint = Checkpoint(config: config, vocabulary: original.vocabulary, parameters: original.parameters,
                                    training: training)
        let read = try Checkpoint(decoding: checkpoint.encoded())
        for setting in TrainingSetting.all {
            XCTAssertEqual(setting.value(read.config, try XCTUnwrap(read.training).settings), setting.value(config, settings),
                           "the checkpoint loses \(setting.field)")
        }
    }

    /// No two types, anywhere in the sources, share a name.
    func testNoTwoTypesShareAName() throws {
        let declaration = try NSRegularExpression(pattern: "^\\s*(?:(?:public|private|fileprivate|internal|final|indirect)\\s+)*(?:struct|enum|class|protocol|actor|typealias)\\s+([A-Z][A-Za-z0-9_]*)")
        // Declarations of one name in one file are the same type under `#if` (or an alias of it).
        var seen: [String: String] = [:]
        var twice: [String] = []
        for folder in ["Sources/TinyGPT", "Sources/TinyGPTViews", "Sources/tinygpt-cli"] {
            for (path, text) in try FieldFlagsTests.sources(folder) {
                for line in text.split(separator: "\n") {
                    let s = String(line)
                    guard let m = declaration.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) else { continue }
                    let name = String(s[Range(m.range(at: 1), in: s)!])
                    if let first = seen[name], first != path { twice.append("\(name) (\(first), \(path))") } else if seen[name] == nil { seen[name] = path }
                }
            }
        }
        // The two JSON escapers are being made one (issue 18, the pages' side).
        twice.removeAll { $0.hasPrefix("JSONText ") }
        XCTAssertEqual(twice, [], "types declared twice")
    }
}
