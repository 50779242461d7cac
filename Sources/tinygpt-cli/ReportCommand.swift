// tinygpt report: redraw a run folder's report.html from its logs; and what `train` calls to
// set up the recording and redraw the report at each evaluation.

import Foundation
import TinyGPT
import TinyGPTViews

struct ReportCommand: Command {
    let spec = CommandSpec(
        name: "report", summary: "Redraw a run folder's training report (\(RunFiles.reportName)), or put several runs side by side.",
        positionals: [PositionalSpec("RUN_DIR", help: "the folder tinygpt train wrote (e.g. Checkpoints/lighthouse); several to compare them",
                                     repeats: true)],
        flags: [
            .string("--out", "FILE", help: "where to write (one run: RUN_DIR/\(RunFiles.reportName); several: runs.html); a name ending in .svg writes the loss and per-block gradient charts as one SVG"),
            .choice("--lang", "LANG", TextLanguage.allCases.map(\.rawValue), help: "the language the page opens in (default: the language of the runs' text)"),
        ],
        examples: ["tinygpt report Checkpoints/lighthouse",
                   "tinygpt report Checkpoints/lighthouse Checkpoints/lighthouse-2 --out compare.html",
                   "tinygpt report /tmp/res /tmp/nores --out ablation.svg --lang zh"])

    func run(_ flags: ParsedFlags) throws {
        let language = flags.string("--lang").flatMap(TextLanguage.init(rawValue:))
        var reports: [TrainingReport] = []
        for directory in flags.positionals {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder), isFolder.boolValue else {
                throw TinyGPTError.runtime("\(directory) is not a folder; give the run folder tinygpt train wrote (e.g. Checkpoints/lighthouse)")
            }
            let folder = RunFiles(directory)
            guard FileManager.default.fileExists(atPath: folder.trainingLog) else {
                throw TinyGPTError.runtime("\(directory) has no \(RunFiles.trainingLogName); is it a run folder written by tinygpt train?")
            }
            reports.append(try TrainingReport.load(folder: folder, language: language))
        }
        let out = flags.string("--out")
        // Every run's own files are inputs: the rule refuses them (and checkpoints) as outputs.
        let inputs = flags.positionals.flatMap { d in [RunFiles(d).trainingLog, RunFiles(d).health, RunFiles(d).timeLapse, RunFiles(d).description] }
        if let out, out.lowercased().hasSuffix(".svg") {
            let overlay = RunsOverlay(runs: reports, language: language)
            try checkOutputPath(out, as: .chart, inputs: inputs, flag: "--out")
            try OutputFile.write(Array(overlay.svgDocument().utf8), to: out, as: .chart, inputs: inputs, flag: "--out")
            print("wrote \(out) (\(reports.count) \(reports.count == 1 ? "run" : "runs"): \(overlay.labels(chinese: overlay.language == .chinese).joined(separator: " · ")))")
            return
        }
        if reports.count == 1 {
            let report = reports[0], path = out ?? RunFiles(flags.positionals[0]).report
            try checkOutputPath(path, as: .page, inputs: inputs, flag: "--out")
            try OutputFile.write(Array(report.html().utf8), to: path, as: .page, inputs: inputs, flag: "--out")
            let flagged = report.verdicts.flagged
            print("wrote \(path) (\(report.log.count) log rows, \(report.health.count) evaluations; flagged: \(flagged.isEmpty ? "nothing" : flagged.joined(separator: ", ")))")
            return
        }
        let overlay = RunsOverlay(runs: reports, language: language)
        let path = out ?? "runs.html"
        try checkOutputPath(path, as: .page, inputs: inputs, flag: "--out")
        try OutputFile.write(Array(overlay.html().utf8), to: path, as: .page, inputs: inputs, flag: "--out")
        print("wrote \(path) (\(reports.count) runs: \(overlay.labels(chinese: false).joined(separator: " · ")))")
    }
}

enum TrainingReportSupport {
    /// The time-lapse probe: --probe, or the start of the validation text.
    static func timeLapse(trainer: Trainer, probe: String?) throws -> TimeLapse {
        guard let probe else { return TimeLapse(defaultFor: trainer.data) }
        let count = probe.unicodeScalars.count, T = trainer.model.config.contextLength
        if count > T {
            Console.warn("--probe has \(count) characters; the model sees only its last \(T) (the context length), and the report shows those")
        }
        do {
            return try TimeLapse(probe: probe, tokenizer: trainer.tokenizer)
        } catch let error as TinyGPTError {
            throw TinyGPTError(.usage, "--probe: \(error.message)")
        }
    }

    /// Rewrites report.html; a failure is a warning, never the end of the run.
    static func redraw(_ directory: String) {
        let folder = RunFiles(directory)
        do {
            try OutputFile.write(Array(TrainingReport.load(folder: folder).html().utf8), to: folder.report, as: .page)
        } catch {
            Console.warn("could not write \(folder.report): \((error as? TinyGPTError)?.message ?? "\(error)")")
        }
    }
}
