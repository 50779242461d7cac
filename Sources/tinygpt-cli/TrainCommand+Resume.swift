// tinygpt train --resume: the flags a resumed run may restate, checked against the
// checkpoint, and the folder it writes into. The checks themselves are the library's
// (TrainingPlan.Overrides.conflicts, RunFolder); here is only the mapping from flags to fields and the words of the refusal.

import TinyGPT

extension TrainCommand {
    /// Refuses a resume whose flags, or whose --preset, ask for another value than the
    /// checkpoint's: "--layers 6 conflicts with the checkpoint (4 layers); drop --layers to resume".
    /// Values not given come from the checkpoint.
    static func checkResumeFlags(_ flags: ParsedFlags, against checkpoint: Checkpoint) throws {
        guard let state = checkpoint.training else { return }  // Trainer(resuming:) refuses it
        let typed = overrides(flags)
        if let conflict = typed.conflicts(config: checkpoint.config, settings: state.settings).first {
            let flag = FieldFlags.flagWords("`\(conflict.field)`")
            let value = typedValue(flag, flags)
            throw TinyGPTError.usage("\(flag)\(value.isEmpty ? "" : " " + value) conflicts with the checkpoint (\(conflict.saved)); drop \(flag) to resume")
        }
        // A preset stands for its shape, batch, learning rate and dropout, where no flag overrides them.
        guard let name = flags.string("--preset"), let preset = Preset.named(name) else { return }
        var fromPreset = TrainingPlan.Overrides()
        fromPreset.layerCount = typed.layerCount == nil ? preset.layerCount : nil
        fromPreset.headCount = typed.headCount == nil ? preset.headCount : nil
        fromPreset.modelWidth = typed.modelWidth == nil ? preset.modelWidth : nil
        fromPreset.contextLength = typed.contextLength == nil ? preset.contextLength : nil
        fromPreset.batchSize = typed.batchSize == nil ? preset.settings.batchSize : nil
        fromPreset.learningRate = typed.learningRate == nil ? preset.settings.learningRate : nil
        fromPreset.dropout = typed.dropout == nil ? preset.settings.dropout : nil
        if let conflict = fromPreset.conflicts(config: checkpoint.config, settings: state.settings).first {
            throw TinyGPTError.usage("--preset \(name) conflicts with the checkpoint (\(conflict.saved)); drop --preset to resume")
        }
    }

    /// The value of `flag` as the command line gave it.
    static func typedValue(_ flag: String, _ flags: ParsedFlags) -> String {
        switch flag {
        case "--gelu": return flags.string(flag) ?? ""
        case "--no-residual": return ""
        case "--seed": return flags.uint64(flag).map { "\($0)" } ?? ""
        case "--lr", "--min-lr", "--weight-decay", "--grad-clip", "--dropout": return flags.double(flag).map { "\($0)" } ?? ""
        default: return flags.int(flag).map { "\($0)" } ?? ""
        }
    }
}
