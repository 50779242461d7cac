// tinygpt train --init-from: a new run that starts from a trained model (a checkpoint, or a
// nanoGPT model in safetensors). The library does the work (Training/FineTuning.swift); here
// are the flags' meaning, the conflicts with the model's shape (worded as resume words them),
// and the lines that say what happened to the vocabulary.

import Foundation
import TinyGPT

/// A fine-tuning run, ready to train, and what to say about it.
struct FineTuneSetup {
    let trainer: Trainer
    let start: FineTuneStart
    let freeze: FreezeSpec
    /// How the run was planned, for a time budget's final plan (`TimeBudgetRequest`).
    let preset: Preset
    let overrides: TrainingPlan.Overrides
}

extension TrainCommand {
    /// Builds the fine-tuning run `--init-from` asks for, on the text at `dataPath`.
    static func fineTuneSetup(from path: String, _ flags: ParsedFlags, dataPath: String,
                              context: KernelContext) throws -> FineTuneSetup {
        if flags.string("--resume") != nil {
            throw TinyGPTError.usage("--init-from starts a new run and --resume continues one; give one of them (a fine-tuning run resumes with --resume alone)")
        }
        if !FileManager.default.fileExists(atPath: path) {
            throw TinyGPTError.runtime("file not found: \(path); --init-from takes a checkpoint (.ckpt) or a nanoGPT model (.safetensors beside its .json)")
        }
        let source = path.hasSuffix(".safetensors")
            ? try ModelExport.importSafetensors(path: path, vocabPath: nil)
            : try Checkpoint(contentsOf: path)
        try checkShapeFlags(flags, against: source.config)
        let fileDigest = CRC32.checksum(try AtomicFile.read(path, kind: "model"))

        var overrides = Self.overrides(flags)
        let preset = Preset.named(flags.stringOrDefault("--preset"))!
        let text = try loadCorpus(dataPath)
        let start = try FineTuneStart(source: source, name: FineTuning.lineageName(forPath: path), fileDigest: fileDigest,
                                      characters: text.tokenizer.scalars, seed: overrides.seed ?? preset.settings.seed)
        let c = start.checkpoint.config
        overrides.contextLength = c.contextLength
        overrides.layerCount = c.layerCount
        overrides.headCount = c.headCount
        overrides.modelWidth = c.modelWidth
        overrides.gelu = c.gelu
        overrides.residual = c.residual
        let plan = try TrainingPlan(preset: preset, vocabSize: c.vocabSize, overrides: overrides)
        let tokenizer = try CharTokenizer(vocabulary: start.checkpoint.vocabulary)
        let tokens = try loadCorpus(dataPath, tokenizer: tokenizer).tokens
        let freeze = try flags.string("--freeze").map(FreezeSpec.init(parsing:)) ?? FreezeSpec()
        let trainer = try Trainer(plan: plan, tokenizer: tokenizer, tokens: tokens, corpusName: dataPath, start: start,
                                  frozen: try start.frozenRanges(freeze), context: context)
        return FineTuneSetup(trainer: trainer, start: start, freeze: freeze, preset: preset, overrides: overrides)
    }

    /// Refuses shape flags, or a --preset shape, other than the model's, as resume does:
    /// "--layers 6 conflicts with the checkpoint (4 layers); drop --layers to fine-tune from it".
    /// The shape is the table's model settings (`TrainingSetting.isModel`); the schedule is new.
    static func checkShapeFlags(_ flags: ParsedFlags, against config: GPTConfig) throws {
        let typed = overrides(flags)
        let shape = TrainingSetting.all.filter(\.isModel)
        var asked = TrainingPlan.Overrides()
        for setting in shape { asked[setting.field] = typed[setting.field] }
        if let conflict = asked.conflicts(config: config, settings: TrainingConfig()).first,
           let setting = TrainingSetting.named(conflict.field) {
            let flag = FieldFlags.flagWords("`\(conflict.field)`")
            let value = FieldFlags.typedValue(setting, flags)
            throw TinyGPTError.usage("\(flag)\(value.isEmpty ? "" : " " + value) conflicts with the checkpoint (\(conflict.saved)); drop \(flag) to fine-tune from it")
        }
        guard flags.contains("--preset"), let preset = Preset.named(flags.stringOrDefault("--preset")) else { return }
        let own = preset.config(vocabSize: config.vocabSize)
        var fromPreset = TrainingPlan.Overrides()
        for setting in Preset.chosenByPresets where setting.isModel && typed[setting.field] == nil {
            fromPreset[setting.field] = setting.value(own, preset.settings)
        }
        if let conflict = fromPreset.conflicts(config: config, settings: TrainingConfig(), chosen: typed).first {
            throw TinyGPTError.usage("--preset \(preset.name) conflicts with the checkpoint (\(conflict.saved)); drop --preset to fine-tune from it")
        }
    }

    /// The lines a fine-tuning run prints before its first step.
    static func describe(_ setup: FineTuneSetup, sourcePath: String) -> [String] {
        let start = setup.start
        let source = start.checkpoint.lineage.last!
        let known = start.checkpoint.config.vocabSize - start.addedCharacters.count
        var lines = ["fine-tuning from \(source.summary)" + (start.checkpoint.lineage.count > 1
            ? ", itself from " + start.checkpoint.lineage.dropLast().map(\.name).reversed().joined(separator: " ← ") : "")]
        if start.addedCharacters.isEmpty {
            lines.append("vocabulary: all \(known) characters of the model, none added")
        } else {
            let shown = start.addedCharacters.prefix(24).map { v in
                v > 0x20 && v != 0x7F ? String(Unicode.Scalar(v)!) : CharTokenizer.describe(v)
            }.joined(separator: " ")
            lines.append("vocabulary: \(start.addedCharacters.count) new character\(start.addedCharacters.count == 1 ? "" : "s") added to the model's \(known): \(shown)\(start.addedCharacters.count > 24 ? " …" : "")")
        }
        if !setup.freeze.isEmpty {
            let count = ((try? start.frozenRanges(setup.freeze)) ?? []).reduce(0) { $0 + $1.count }
            lines.append("frozen: \(setup.freeze.description) (\(formatCount(count)) of \(formatCount(setup.trainer.model.parameterCount)) parameters)")
        }
        return lines
    }
}
