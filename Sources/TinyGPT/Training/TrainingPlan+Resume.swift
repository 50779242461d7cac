// What a command asks of a run it resumes (the same overrides a new run takes), checked against the checkpoint. The model's shape
// and the schedule come from the checkpoint; a command may still restate them (people retype
// the command that started the run and add the resume), and a restated value that equals the
// checkpoint's is accepted. One that differs is a conflict, named with the checkpoint's value,
// so a resumed run never changes shape or schedule in silence.

/// A resume asks for settings in the same form a new run does: `TrainingPlan.Overrides`, each
/// field nil when not asked (`steps` may always change and is not checked here).
extension TrainingPlan.Overrides {
    /// One asked-for setting that differs from the checkpoint's.
    public struct Conflict: Equatable, Sendable {
        /// The Swift field (`layerCount`).
        public var field: String
        /// The checkpoint's value in words (`4 layers`).
        public var saved: String
    }

    /// Every asked-for setting that differs from the checkpoint's `config` and `settings`, in
    /// the order of the fields above. Numbers typed in decimal may differ from the stored
    /// `Float` in the last bit, so floats match within a millionth (relative).
    public func conflicts(config: GPTConfig, settings: TrainingConfig) -> [Conflict] {
        var found: [Conflict] = []
        func check<T: Equatable>(_ asked: T?, _ saved: T, _ field: String, _ words: String) {
            if let asked, asked != saved { found.append(Conflict(field: field, saved: words)) }
        }
        func check(_ asked: Float?, _ saved: Float, _ field: String, _ words: String) {
            if let asked, abs(asked - saved) > 1e-6 * max(abs(asked), abs(saved)) {
                found.append(Conflict(field: field, saved: words))
            }
        }
        func number(_ x: Float) -> String { "\(x)" }
        check(layerCount, config.layerCount, "layerCount", config.layerCount == 1 ? "1 layer" : "\(config.layerCount) layers")
        check(headCount, config.headCount, "headCount", config.headCount == 1 ? "1 head" : "\(config.headCount) heads")
        check(modelWidth, config.modelWidth, "modelWidth", "width \(config.modelWidth)")
        check(contextLength, config.contextLength, "contextLength", "context \(config.contextLength)")
        check(gelu, config.gelu, "gelu", "\(config.gelu.name) GELU")
        check(residual, config.residual, "residual", config.residual ? "with skip connections" : "without skip connections")
        check(batchSize, settings.batchSize, "batchSize", "batch \(settings.batchSize)")
        check(learningRate, settings.learningRate, "learningRate", "learning rate \(number(settings.learningRate))")
        check(minLearningRate, settings.minLearningRate, "minLearningRate", "final learning rate \(number(settings.minLearningRate))")
        // A new run caps its warmup at half its steps, so the asked value may have been capped.
        if let warmupSteps, warmupSteps != settings.warmupSteps, min(warmupSteps, settings.steps / 2) != settings.warmupSteps {
            found.append(Conflict(field: "warmupSteps", saved: "warmup \(settings.warmupSteps) steps"))
        }
        check(weightDecay, settings.weightDecay, "weightDecay", "weight decay \(number(settings.weightDecay))")
        check(gradClip, settings.gradClip, "gradClip", "gradient clip \(number(settings.gradClip))")
        check(dropout, settings.dropout, "dropout", "dropout \(number(settings.dropout))")
        check(seed, settings.seed, "seed", "seed \(settings.seed)")
        check(evalInterval, settings.evalInterval, "evalInterval", "evaluation every \(settings.evalInterval) steps")
        check(evalWindows, settings.evalWindows, "evalWindows", "\(settings.evalWindows) evaluation windows")
        return found
    }
}
