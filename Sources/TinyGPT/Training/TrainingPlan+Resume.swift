// What a command asks of a run it resumes (the same overrides a new run takes), checked against
// the checkpoint. The model's shape and the schedule come from the checkpoint; a command may
// still restate them (people retype the command that started the run and add the resume), and a
// restated value that equals the checkpoint's is accepted. One that differs is a conflict, named
// with the checkpoint's value, so a resumed run never changes shape or schedule in silence.
// Which settings may change on resume is each row's `onResume` in TrainingSetting.all.

/// A resume asks for settings in the same form a new run does: `TrainingPlan.Overrides`, each
/// field nil when not asked.
extension TrainingPlan.Overrides {
    /// One asked-for setting that differs from the checkpoint's.
    public struct Conflict: Equatable, Sendable {
        /// The Swift field (`layerCount`).
        public var field: String
        /// The checkpoint's value in words (`4 layers`).
        public var saved: String
    }

    /// Every asked-for setting that a resumed run may not change and that differs from the
    /// checkpoint's `config` and `settings`, in the table's order. A value counts as the same
    /// when it is equal (numbers within a millionth, `TrainingSetting.same`) or when a new run
    /// would have made it the checkpoint's by `TrainingPlan.applyRules`, given the settings
    /// `chosen` by hand (these overrides unless said otherwise): a warmup capped at half the steps.
    public func conflicts(config: GPTConfig, settings: TrainingConfig, chosen: TrainingPlan.Overrides? = nil) -> [Conflict] {
        let chosen = chosen ?? self
        var found: [Conflict] = []
        for setting in TrainingSetting.all where setting.onResume == .fixed {
            guard let asked = values[setting.field] else { continue }
            let saved = setting.value(config, settings)
            var c = config, s = settings
            setting.set(asked, &c, &s)
            TrainingPlan.applyRules(to: &s, chosen: chosen)
            if !setting.same(asked, saved) && !setting.same(setting.value(c, s), saved) {
                found.append(Conflict(field: setting.field, saved: setting.words(saved)))
            }
        }
        return found
    }
}

extension Preset {
    /// Where this preset, named on the command line of a resume, differs from the checkpoint:
    /// the preset stands for its value of every setting some preset chooses
    /// (`Preset.chosenByPresets`) that the `typed` overrides do not give.
    public func conflicts(config: GPTConfig, settings: TrainingConfig,
                          besides typed: TrainingPlan.Overrides) -> [TrainingPlan.Overrides.Conflict] {
        let ownConfig = self.config(vocabSize: 1), ownSettings = self.settings
        var asked = TrainingPlan.Overrides()
        for setting in Self.chosenByPresets where typed[setting.field] == nil {
            asked[setting.field] = setting.value(ownConfig, ownSettings)
        }
        return asked.conflicts(config: config, settings: settings, chosen: typed)
    }
}
