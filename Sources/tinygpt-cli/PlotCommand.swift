// tinygpt plot: draw a training log's loss curves as SVG.

import Foundation
import TinyGPT
import TinyGPTViews

struct PlotCommand: Command {
    let spec = CommandSpec(
        name: "plot", summary: "Draw train and validation loss from a training log (CSV) as an SVG file.",
        positionals: [PositionalSpec("LOG", help: "\(RunFiles.trainingLogName) written by tinygpt train")],
        flags: [.string("--out", "FILE.svg", help: "where to write the chart (default: beside the log, \(RunFiles.lossPlotName))")],
        examples: ["tinygpt plot Checkpoints/lighthouse/train_log.csv --out loss.svg"])

    func run(_ flags: ParsedFlags) throws {
        let path = flags.positional(0)!
        let rows = try TrainingLog.read(path: path)
        guard !rows.isEmpty else {
            throw TinyGPTError.runtime("\(path) has no rows yet; plot it after training has logged some steps")
        }
        let out = flags.string("--out") ?? RunFiles((path as NSString).deletingLastPathComponent).lossPlot
        try checkOutputPath(out, flag: "--out")
        try AtomicFile.write(Array(LossPlot(rows: rows, title: (path as NSString).lastPathComponent).svg().utf8), to: out)
        print("wrote \(out) (\(rows.count) rows)")
    }
}
