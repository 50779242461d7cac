// tinygpt train --resume: the flags a resumed run may restate, checked against the
// checkpoint, and the folder it writes into. The checks themselves are ResumeRequest's and
// RunFolder's; here is only the mapping from flags to fields and the words of the refusal.

import TinyGPT

extension TrainCommand {
    /// The flag that sets each field ResumeRequest checks.
    static let resumeFlags: [String: String] = [
        "layerCount": "--layers", "headCount": "--heads", "modelWidth": "--width", "contextLength": "--context",
        "gelu": "--gelu", "batchSize": "--batch", "learningRate": "--lr", "minLearningRate": "--min-lr",
        "warmupSteps": "--warmup", "weightDecay": "--weight-decay", "gradClip": "--grad-clip", "dropout": "--dropout",
        "seed": "--seed", "evalInterval": "--eval-every", "evalWindows": "--eval-windows",
    ]

    /// Refuses a resume whose flags, or whose --preset, ask for another value than the
    /// checkpoint's: "--layers 6 conflicts with the checkpoint (4 layers); drop --layers to resume".
    /// Values not given come from the checkpoint.
    static func checkResumeFlags(_ flags: ParsedFlags, against checkpoint: Checkpoint) throws {
        guard let state = checkpoint.training else { return }  // Trainer(resuming:) refuses it
        var typed = ResumeRequest()
        typed.layerCount = flags.int("--layers")
        typed.headCount = flags.int("--heads")
        typed.modelWidth = flags.int("--width")
        typed.contextLength = flags.int("--context")
        typed.gelu = flags.string("--gelu").flatMap(GELUForm.init(name:))
        typed.batchSize = flags.int("--batch")
        typed.learningRate = flags.float("--lr")
        typed.minLearningRate = flags.float("--min-lr")
        typed.warmupSteps = flags.int("--warmup")
        typed.weightDecay = flags.float("--weight-decay")
        typed.gradClip = flags.float("--grad-clip")
        typed.dropout = flags.float("--dropout")
        typed.seed = flags.uint64("--seed")
        typed.evalInterval = flags.int("--eval-every")
        typed.evalWindows = flags.int("--eval-windows")
        if let conflict = typed.conflicts(config: checkpoint.config, settings: state.settings).first {
            let flag = resumeFlags[conflict.field] ?? conflict.field
            throw TinyGPTError.usage("\(flag) \(typedValue(flag, flags)) conflicts with the checkpoint (\(conflict.saved)); drop \(flag) to resume")
        }
        // A preset stands for its shape, batch, learning rate and dropout, where no flag overrides them.
        guard let name = flags.string("--preset"), let preset = Preset.all.first(where: { $0.name == name }) else { return }
        var fromPreset = ResumeRequest()
        fromPreset.layerCount = typed.layerCount == nil ? preset.layers : nil
        fromPreset.headCount = typed.headCount == nil ? preset.heads : nil
        fromPreset.modelWidth = typed.modelWidth == nil ? preset.width : nil
        fromPreset.contextLength = typed.contextLength == nil ? preset.context : nil
        fromPreset.batchSize = typed.batchSize == nil ? preset.settings.batchSize : nil
        fromPreset.learningRate = typed.learningRate == nil ? preset.settings.learningRate : nil
        fromPreset.dropout = typed.dropout == nil ? preset.settings.dropout : nil
        if let conflict = fromPreset.conflicts(config: checkpoint.config, settings: state.settings).first {
            throw TinyGPTError.usage("--preset \(name) conflicts with the checkpoint (\(conflict.saved)); drop --preset to resume")
        }
    }

    /// The value of `flag` as the command line gave it.
    private static func typedValue(_ flag: String, _ flags: ParsedFlags) -> String {
        switch flag {
        case "--gelu": return flags.string(flag) ?? ""
        case "--seed": return flags.uint64(flag).map { "\($0)" } ?? ""
        case "--lr", "--min-lr", "--weight-decay", "--grad-clip", "--dropout": return flags.double(flag).map { "\($0)" } ?? ""
        default: return flags.int(flag).map { "\($0)" } ?? ""
        }
    }
}
