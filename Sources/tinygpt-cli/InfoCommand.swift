// tinygpt info: what a checkpoint holds.

import Foundation
import TinyGPT
import TinyGPTViews

struct InfoCommand: Command {
    let spec = CommandSpec(
        name: "info", summary: "Print a checkpoint's config, parameter count, vocabulary and training history.",
        positionals: [PositionalSpec("CKPT", help: "checkpoint file (default: the newest under Checkpoints/)", required: false)],
        flags: [],
        examples: ["tinygpt info Checkpoints/lighthouse/best.ckpt"])

    func run(_ flags: ParsedFlags) throws {
        let loaded = try CheckpointFinder.load(flags.positional(0), howToName: "give one: tinygpt info FILE")
        let c = loaded.checkpoint.config
        let size = ((try? FileManager.default.attributesOfItem(atPath: loaded.path))?[.size] as? Int) ?? 0
        print("checkpoint: \(loaded.path) (\(formatCount(size)) bytes)")
        print("written by: " + (loaded.checkpoint.writtenBy.map { "tinygpt \($0)" }
            ?? "a tinygpt that did not record its version (checkpoint format 1)"))
        if !loaded.checkpoint.lineage.isEmpty {
            print("lineage: " + (loaded.checkpoint.lineage.map(\.summary) + ["this model"]).joined(separator: " → "))
        }
        print("model: \(c.layerCount) layers, \(c.headCount) heads, width \(c.modelWidth), context \(c.contextLength), \(c.gelu.name) GELU, \(c.residual ? "with" : "without") skip connections")
        print("parameters: \(ParameterLayout(c).totalCount)")
        let tokenizer = try CharTokenizer(vocabulary: loaded.checkpoint.vocabulary)
        let shown = (0..<min(tokenizer.vocabSize, 80)).map { tokenizer.character($0) }.joined()
            .replacingOccurrences(of: "\n", with: "⏎").replacingOccurrences(of: "\t", with: "⇥")
        print("vocabulary: \(c.vocabSize) characters: \(shown)\(tokenizer.vocabSize > 80 ? " …" : "")")
        guard let t = loaded.checkpoint.training else {
            print("training state: none (weights only)")
            return
        }
        let s = t.settings
        print("training: step \(t.step) of \(s.steps), \(formatCount(t.tokensSeen)) tokens seen, batch \(s.batchSize), lr \(String(format: "%g", s.learningRate)) → \(String(format: "%g", s.minLearningRate)), warmup \(s.warmupSteps), weight decay \(s.weightDecay), dropout \(s.dropout), seed \(s.seed)")
        print("corpus: \(t.corpusLength) characters, CRC32 \(String(format: "%08x", t.corpusDigest))")
        if !t.frozen.isEmpty {
            print("frozen: \(t.frozen.reduce(0) { $0 + $1.count }) parameters the optimizer leaves alone, in \(t.frozen.count) range\(t.frozen.count == 1 ? "" : "s")")
        }
        print("best val loss: \(t.bestValidationLoss.isFinite ? String(format: "%.4f", t.bestValidationLoss) : "none yet")")
        if !t.history.isEmpty {
            print("history:")
            print("   step  train loss  val loss  lr")
            for h in t.history {
                print(String(format: "%7d  %10.4f  %8@  %.2e", h.step, h.trainLoss,
                             h.validationLoss.isNaN ? "-" : String(format: "%.4f", h.validationLoss), h.learningRate))
            }
        }
    }
}
