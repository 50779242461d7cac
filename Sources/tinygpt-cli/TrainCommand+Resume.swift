// tinygpt train --resume: the flags a resumed run may restate, checked against the
// checkpoint. The checks themselves are the library's (TrainingPlan.Overrides.conflicts,
// Preset.conflicts, from the table of settings); here are only the words of the refusal.

import TinyGPT

extension TrainCommand {
    /// Refuses a resume whose flags, or whose --preset, ask for another value than the
    /// checkpoint's: "--layers 6 conflicts with the checkpoint (4 layers); drop --layers to resume".
    /// Values not given come from the checkpoint.
    static func checkResumeFlags(_ flags: ParsedFlags, against checkpoint: Checkpoint) throws {
        guard let state = checkpoint.training else { return }  // Trainer(resuming:) refuses it
        let typed = overrides(flags)
        if let conflict = typed.conflicts(config: checkpoint.config, settings: state.settings).first,
           let setting = TrainingSetting.named(conflict.field) {
            let flag = FieldFlags.flagWords("`\(conflict.field)`")
            let value = FieldFlags.typedValue(setting, flags)
            throw TinyGPTError.usage("\(flag)\(value.isEmpty ? "" : " " + value) conflicts with the checkpoint (\(conflict.saved)); drop \(flag) to resume")
        }
        // A preset stands for its shape, batch, learning rate, dropout and evaluation interval,
        // where no flag overrides them.
        guard flags.contains("--preset"), let preset = Preset.named(flags.stringOrDefault("--preset")) else { return }
        if let conflict = preset.conflicts(config: checkpoint.config, settings: state.settings, besides: typed).first {
            throw TinyGPTError.usage("--preset \(preset.name) conflicts with the checkpoint (\(conflict.saved)); drop --preset to resume")
        }
    }
}
