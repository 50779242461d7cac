// tinygpt report: redraw a run folder's report.html from its logs; and what `train` calls to
// set up the recording and redraw the report at each evaluation.

import Foundation
import TinyGPT
import TinyGPTViews

struct ReportCommand: Command {
    let spec = CommandSpec(
        name: "report", summary: "Redraw a run folder's training report (\(RunFiles.reportName)) from its logs.",
        positionals: [PositionalSpec("RUN_DIR", help: "the folder tinygpt train wrote (e.g. Checkpoints/lighthouse)")],
        flags: [],
        examples: ["tinygpt report Checkpoints/lighthouse"])

    func run(_ flags: ParsedFlags) throws {
        let directory = flags.positional(0)!
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder), isFolder.boolValue else {
            throw TinyGPTError.runtime("\(directory) is not a folder; give the run folder tinygpt train wrote (e.g. Checkpoints/lighthouse)")
        }
        let folder = RunFiles(directory)
        guard FileManager.default.fileExists(atPath: folder.trainingLog) else {
            throw TinyGPTError.runtime("\(directory) has no \(RunFiles.trainingLogName); is it a run folder written by tinygpt train?")
        }
        let inputs = [folder.trainingLog, folder.health, folder.timeLapse, folder.description]
        try OutputFile.check(folder.report, as: .page, inputs: inputs)
        let report = try TrainingReport.load(folder: folder)
        try OutputFile.write(Array(report.html().utf8), to: folder.report, as: .page, inputs: inputs)
        print("wrote \(folder.report) (\(report.log.count) log rows, \(report.health.count) evaluations)")
    }
}

enum TrainingReportSupport {
    /// The time-lapse probe: --probe, or the start of the validation text.
    static func timeLapse(trainer: Trainer, probe: String?) throws -> TimeLapse {
        guard let probe else { return TimeLapse(defaultFor: trainer.data) }
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
