// tinygpt attention: where each character of a prompt looks, per layer and head. The HTML
// report is the inspector page (InspectCommand), so attention is drawn by one code path.

import Foundation
import TinyGPT
import TinyGPTViews

struct AttentionCommand: Command {
    let spec = CommandSpec(
        name: "attention", summary: "Show the attention maps of a prompt (terminal view, or HTML heatmaps).",
        flags: [
            SharedFlags.checkpoint,
            SharedFlags.promptWindow,
            .int("--layer", "L", in: 0...GPTConfig.maxLayerCount, help: "only this layer (0-based)"),
            .int("--head", "H", in: 0...4096, help: "only this head (0-based); default: the mean over heads"),
            .string("--report", "FILE.html", help: "write the inspector page (every layer and head, step by step) to this HTML file"),
            SharedFlags.threads,
        ],
        examples: ["tinygpt attention --prompt \"MIRA: The lamp\"", "tinygpt attention --prompt \"注意力机制\" --report attention.html"])

    func run(_ flags: ParsedFlags) throws {
        guard let text = flags.string("--prompt") else {
            throw TinyGPTError.usage("attention needs --prompt TEXT (the characters to look at)")
        }
        let checkpointPath = try CheckpointFinder.resolve(flags.string("--checkpoint"))
        if let path = flags.string("--report") { try checkOutputPath(path, as: .page, inputs: [checkpointPath], flag: "--report") }
        let loaded = try CheckpointFinder.load(checkpointPath)
        let session = try GenerationSession(checkpoint: loaded.checkpoint, context: SharedFlags.context(flags))
        let c = session.model.config
        let ids = try SharedFlags.promptWindow(text, session)
        if let layer = flags.int("--layer"), layer >= c.layerCount {
            throw TinyGPTError.usage("--layer \(layer) is out of range; this model has layers 0...\(c.layerCount - 1)")
        }
        if let head = flags.int("--head"), head >= c.headCount {
            throw TinyGPTError.usage("--head \(head) is out of range; this model has heads 0...\(c.headCount - 1)")
        }
        let weights = session.attentionWeights(ids)
        let report = try AttentionReport(characters: ids.map { session.tokenizer.character(Int($0)) }, weights: weights)
        let layers = flags.int("--layer").map { [$0] } ?? Array(0..<c.layerCount)
        let head = flags.int("--head")
        for l in layers {
            print("layer \(l), \(head.map { "head \($0)" } ?? "mean over \(c.headCount) heads"): each character ← the earlier character it attends to most")
            let strongest = report.strongestKeys(layer: l, head: head)
            let line = strongest.enumerated().map { q, s in
                "\(show(report.characters[q]))←\(show(report.characters[s.key]))\(String(format: "%.2f", s.weight))"
            }
            // Wrap the entries to the terminal's width.
            var row = " "
            for entry in line {
                if TerminalText.displayWidth(row) + 2 + TerminalText.displayWidth(entry) > Console.width {
                    print(row)
                    row = " "
                }
                row += " " + entry
            }
            print(row)
        }
        if let path = flags.string("--report") {
            let trace = session.model.trace(tokens: ids, newline: session.tokenizer.id(of: 0x0A),
                                            space: session.tokenizer.id(of: 0x20))
            var page = try InspectorPage(trace: trace, vocabulary: session.vocabulary,
                                         language: .guess(from: text), modelName: (loaded.path as NSString).lastPathComponent)
            // The page opens at the head asked for (layer 0 / head 0 for the one not given).
            if flags.int("--layer") != nil || flags.int("--head") != nil {
                page.openAt = (flags.int("--layer") ?? 0, flags.int("--head") ?? 0)
            }
            page.positionLogits = session.model.positionLogits(ids)
            try OutputFile.write(Array(page.html().utf8), to: path, as: .page, inputs: [loaded.path], flag: "--report")
            print("report: \(path)")
        }
    }

    private func show(_ character: String) -> String {
        switch character {
        case "\n": return "⏎"
        case " ": return "␣"
        case "\t": return "⇥"
        default: return character
        }
    }
}
