// tinygpt inspect: one self-contained HTML page that opens up a model on a prompt (the next
// character under live temperature / top-k / top-p, attention step by step, every head's
// pattern, the residual stream with a logit lens), in English or Chinese.

import Foundation
import TinyGPT
import TinyGPTViews

struct InspectCommand: Command {
    let spec = CommandSpec(
        name: "inspect", summary: "Write an interactive HTML page that opens up the model on a prompt.",
        flags: [
            SharedFlags.promptWindow,
            SharedFlags.checkpoint,
            .string("--out", "FILE.html", help: "the page to write", default: "inspect.html"),
            .choice("--lang", "LANG", InspectorPage.Language.allCases.map(\.rawValue),
                    help: "the page's language (default: Chinese if the prompt has Chinese characters, else English)"),
            .boolean("--with-model", help: "carry the weights in the page, which then runs the model itself: type any prompt, keep drawing"),
            SharedFlags.threads,
        ],
        examples: ["tinygpt inspect --prompt \"MIRA: The lamp\"", "tinygpt inspect --prompt \"注意力机制\" --out inspect.html --with-model"])

    func run(_ flags: ParsedFlags) throws {
        guard let text = flags.string("--prompt") else {
            throw TinyGPTError.usage("inspect needs --prompt TEXT (the characters to look at)")
        }
        let out = flags.stringOrDefault("--out")
        let checkpointPath = try CheckpointFinder.resolve(flags.string("--checkpoint"))
        try checkOutputPath(out, as: .page, inputs: [checkpointPath], flag: "--out")
        let started = Date()
        let loaded = try CheckpointFinder.load(checkpointPath)
        let session = try GenerationSession(checkpoint: loaded.checkpoint, context: SharedFlags.context(flags))
        let c = session.model.config
        let ids = try SharedFlags.promptWindow(text, session)
        let trace = session.model.trace(tokens: ids, newline: session.tokenizer.id(of: 0x0A),
                                             space: session.tokenizer.id(of: 0x20))
        let language = flags.string("--lang").flatMap(InspectorPage.Language.init(rawValue:))
            ?? InspectorPage.Language.guess(from: text)
        let vocabulary = session.vocabulary
        var page = try InspectorPage(trace: trace, vocabulary: vocabulary, language: language,
                                     modelName: (loaded.path as NSString).lastPathComponent)
        page.positionLogits = session.model.positionLogits(ids)
        // The learning half: the prompt as one training example (it needs two characters).
        var learning: LearningStep?
        if ids.count >= 2 {
            let step = session.model.learningStep(tokens: ids)
            learning = step
            page.learning = step
            let folder = RunFiles((loaded.path as NSString).deletingLastPathComponent)
            if let run = try? RunDescription.read(path: folder.description) {
                page.baselines = run.baselines.map { BaselineLoss(name: $0.name, loss: $0.loss) }
            }
        }
        if flags.bool("--with-model") {
            page.weights = EmbeddedWeights(parameters: loaded.checkpoint.parameters, layout: session.model.layout, gelu: c.gelu,
                                           residual: c.residual)
        }
        let bytes = Array(page.html().utf8)
        try OutputFile.write(bytes, to: out, as: .page, inputs: [loaded.path], flag: "--out")
        let seconds = Date().timeIntervalSince(started)
        print("checkpoint: \(loaded.path)")
        if let learning {
            print("loss on the prompt: \(String(format: "%.4f", learning.loss)) (mean −ln p of the next character over \(learning.positions.count) positions: the cross-entropy loss training lowers)")
        }
        print("page: \(out) (\(String(format: "%.0f", Double(bytes.count) / 1024)) KB, \(ids.count) positions, \(language.rawValue), \(String(format: "%.2f", seconds)) s)")
    }
}
