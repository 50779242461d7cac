// tinygpt compare: the same prompt and seed at several temperatures, side by side, with the
// next character's candidates under softmax(logits / T) at each one. The HTML report is the
// inspector page (InspectCommand) with the continuations added, so it is drawn by one code path.

import Foundation
import TinyGPT
import TinyGPTViews

struct CompareCommand: Command {
    let spec = CommandSpec(
        name: "compare", summary: "Compare continuations and next-character probabilities across temperatures.",
        flags: [
            SharedFlags.checkpoint,
            SharedFlags.prompt,
            .floatList("--temperatures", "LIST", in: SamplingSettings.temperatureRange, help: "comma-separated temperatures; 0 means greedy", default: "0,0.5,1,1.5"),
            .int("--tokens", "N", in: 1...100_000, help: "characters to generate at each temperature", default: "200"),
            .int("--top", "N", in: 1...1000, help: "next-character candidates listed per temperature", default: "8"),
            .int("--samples", "N", in: 1...100, help: "continuations per temperature (in the HTML report)", default: "1"),
            .string("--report", "FILE.html", help: "also write the inspector page with the continuations side by side"),
            SharedFlags.seed,
            SharedFlags.threads,
        ],
        examples: ["tinygpt compare --prompt \"MIRA:\"", "tinygpt compare --prompt \"温度\" --temperatures 0,0.7,1.2 --report temperature.html"])

    func run(_ flags: ParsedFlags) throws {
        let temperatures = flags.floatListOrDefault("--temperatures")
        let checkpointPath = try CheckpointFinder.resolve(flags.string("--checkpoint"))
        if let path = flags.string("--report") { try checkOutputPath(path, as: .page, inputs: [checkpointPath], flag: "--report") }
        let loaded = try CheckpointFinder.load(checkpointPath)
        let session = try GenerationSession(checkpoint: loaded.checkpoint, context: SharedFlags.context(flags))
        let prompt = try session.encodePrompt(flags.string("--prompt"))
        let sweep = try session.temperatureSweep(prompt, temperatures: temperatures, count: flags.intOrDefault("--tokens"),
                                                 samplesPerTemperature: flags.intOrDefault("--samples"),
                                                 seed: flags.uint64OrDefault("--seed"))
        let samples = sweep.samples
        var report = try TemperatureReport(sweep, topCount: flags.intOrDefault("--top"))
        report.contextLength = session.model.config.contextLength
        print("checkpoint: \(loaded.path)")
        print(report.text(includeSamples: false))
        print("")
        printSideBySide(temperatures: temperatures, texts: samples.map { $0[0].text }, stats: samples.map { $0[0] })
        if let path = flags.string("--report") {
            // The trace sees at most the context length: a longer prompt keeps its end.
            let ids = Array(prompt.suffix(session.model.config.contextLength))
            let trace = session.model.trace(tokens: ids, newline: session.tokenizer.id(of: 0x0A),
                                            space: session.tokenizer.id(of: 0x20))
            var page = try InspectorPage(trace: trace, vocabulary: session.vocabulary, language: .guess(from: sweep.prompt),
                                         modelName: (loaded.path as NSString).lastPathComponent)
            page.sweep = sweep
            page.positionLogits = session.model.positionLogits(ids)
            try OutputFile.write(Array(page.html().utf8), to: path, as: .page, inputs: [loaded.path], flag: "--report")
            print("\nreport: \(path)")
        }
    }

    /// Continuations in columns, one per temperature; newlines shown as ⏎ and wrapped to the column.
    private func printSideBySide(temperatures: [Float], texts: [String], stats: [TemperatureSample]) {
        let gap = 3
        let width = max(16, (Console.width - gap * (texts.count - 1)) / max(1, texts.count))
        let columns: [[String]] = texts.map { wrap($0.replacingOccurrences(of: "\n", with: "⏎"), width: width) }
        let header = temperatures.map { TerminalText.pad($0 == 0 ? "T = 0 (greedy)" : "T = \($0)", to: width) }
        let rule = texts.map { _ in String(repeating: "─", count: width) }
        print(header.joined(separator: String(repeating: " ", count: gap)))
        print(rule.joined(separator: String(repeating: " ", count: gap)))
        let rows = columns.map(\.count).max() ?? 0
        for r in 0..<rows {
            let cells = columns.map { TerminalText.pad(r < $0.count ? $0[r] : "", to: width) }
            print(cells.joined(separator: String(repeating: " ", count: gap)))
        }
        print(rule.joined(separator: String(repeating: " ", count: gap)))
        let logLine = stats.map { TerminalText.pad(String(format: "mean log p %.2f", $0.meanLogProbability ?? .nan), to: width) }
        let shapeLine = stats.map {
            TerminalText.pad(String(format: "distinct %.2f, rep %d", $0.distinctCharacterRatio, $0.longestRepeat), to: width)
        }
        print(logLine.joined(separator: String(repeating: " ", count: gap)))
        print(shapeLine.joined(separator: String(repeating: " ", count: gap)))
    }

    /// Splits text into lines of at most `width` terminal columns (wide characters count two).
    private func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = "", used = 0
        for ch in text {
            let w = TerminalText.displayWidth(String(ch))
            if used + w > width { lines.append(line); line = ""; used = 0 }
            line.append(ch)
            used += w
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}
