// tinygpt gradcheck: the model's hand-written gradient beside finite differences of its loss,
// on the user's checkpoint and one batch of their text; exits 1 naming a tensor that fails.

import Foundation
import TinyGPT
import TinyGPTViews

struct GradcheckCommand: Command {
    /// Windows in the batch: enough positions that the loss is a real average, few enough for seconds.
    static let batchSize = 4

    let spec = CommandSpec(
        name: "gradcheck",
        summary: "Check the hand-written backward pass against finite differences of the loss, tensor by tensor.",
        flags: [
            SharedFlags.checkpoint,
            .string("--data", "FILE", help: "text file to draw the batch from", default: Defaults.corpus),
            .int("--samples", "N", in: 1...1000, help: "entries checked per tensor", default: "3"),
            SharedFlags.seed,
            SharedFlags.threads,
        ],
        examples: ["tinygpt gradcheck", "tinygpt gradcheck --checkpoint Checkpoints/lighthouse/best.ckpt --samples 5"])

    func run(_ flags: ParsedFlags) throws {
        let dataPath = try SharedFlags.dataPath(flags)
        let loaded = try CheckpointFinder.load(flags.string("--checkpoint"))
        let checkpoint = loaded.checkpoint
        let tokenizer = try CharTokenizer(vocabulary: checkpoint.vocabulary)
        let corpus = try loadCorpus(dataPath, tokenizer: tokenizer)
        let data = try TokenDataset(tokens: corpus.tokens,
                                    validationFraction: (checkpoint.training?.settings ?? TrainingConfig()).validationFraction,
                                    contextLength: checkpoint.config.contextLength, name: dataPath)
        let model = GPT(config: checkpoint.config, parameters: checkpoint.parameters, context: SharedFlags.context(flags))
        let check = GradientCheck(samplesPerTensor: flags.intOrDefault("--samples"), seed: flags.uint64OrDefault("--seed"))
        let start = DispatchTime.now().uptimeNanoseconds
        let result = check.run(model: model, data: data, batchSize: Self.batchSize)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(Self.table(result, checkpoint: loaded.path, data: dataPath, seconds: seconds))
        if let failure = result.failure { throw failure }
    }

    static func table(_ r: GradientCheckResult, checkpoint: String, data: String, seconds: Double) -> String {
        var lines: [String] = []
        lines.append("checkpoint: \(checkpoint) · batch: \(r.batchSize) windows of \(r.contextLength) characters from \(data) · loss \(String(format: "%.4f", r.loss))")
        lines.append("What is compared: the gradient the chain rule gives (the hand-written backward pass) against nudging one weight up and down by h and watching the loss, (L(w+h) − L(w−h)) / 2h.")
        lines.append("比较的是：链式法则算出的梯度（手写的反向传播），和把一个权重上下各挪一点 h、看损失变了多少得到的差商 (L(w+h) − L(w−h)) / 2h。两者应当几乎一样。")
        let nameWidth = max(6, r.entries.map { TerminalText.displayWidth($0.tensor) }.max() ?? 0)
        lines.append("\(TerminalText.pad("tensor", to: nameWidth))  \(TerminalText.pad("entry", to: 12))  \(TerminalText.pad("backward", to: 13))  \(TerminalText.pad("finite diff", to: 13))  rel. error  verdict")
        for e in r.entries {
            let entry = "[" + e.coordinates.map(String.init).joined(separator: ",") + "]"
            lines.append("\(TerminalText.pad(e.tensor, to: nameWidth))  \(TerminalText.pad(entry, to: 12))  "
                + String(format: "%13.6e  %13.6e  %9.2e  ", e.analytic, e.numeric, e.relativeError)
                + (!e.passed ? "FAIL" : e.relativeError <= r.tolerance ? "ok" : "ok (within rounding noise)"))
        }
        let failing = r.failingTensors
        lines.append(String(format: "tolerance: relative error ≤ %.0e, plus %.1e absolute for float32 rounding (measured on this batch) · %.1fs", r.tolerance, r.noiseFloor, seconds))
        if failing.isEmpty {
            lines.append("all \(r.entries.count) entries of \(Set(r.entries.map(\.tensor)).count) tensors agree: the backward pass matches the loss. 全部一致：反向传播是对的。")
        } else {
            lines.append("\(failing.count) tensor(s) disagree: \(failing.joined(separator: ", ")). 以上张量的梯度与差商不符，反向传播有错。")
        }
        return lines.joined(separator: "\n")
    }
}
