// The files of a run folder, named here and nowhere else: the trainer's checkpoints, the log,
// the monitor's records, run.json, the report and the loss chart. RunFolder, TrainingRun, the
// monitor, the report and the command line all ask this type for a name or a path.

import Foundation

/// The files of one run folder.
public struct RunFiles: Sendable {
    public var directory: String

    public init(_ directory: String) { self.directory = directory }

    // MARK: - Names

    /// The run's newest checkpoint, written at every save.
    public static let latestName = "latest.ckpt"
    /// The checkpoint with the lowest validation loss so far.
    public static let bestName = "best.ckpt"
    /// Every file name ending in this is a checkpoint.
    public static let checkpointSuffix = ".ckpt"
    public static let trainingLogName = "train_log.csv"
    public static let healthName = "health.jsonl"
    public static let timeLapseName = "timelapse.jsonl"
    /// The run's settings and baselines (`RunDescription`).
    public static let descriptionName = "run.json"
    public static let reportName = "report.html"
    /// The loss chart drawn at the end of a run (and by default beside a plotted log).
    public static let lossPlotName = "loss.svg"
    private static let stepPrefix = "step-"

    /// The checkpoint kept for `step` ("step-0000250.ckpt"); names sort in step order.
    public static func stepCheckpointName(_ step: Int) -> String {
        stepPrefix + String(format: "%07d", step) + checkpointSuffix
    }

    public static func isStepCheckpoint(_ name: String) -> Bool {
        name.hasPrefix(stepPrefix) && name.hasSuffix(checkpointSuffix)
    }

    /// A checkpoint's name, not hidden (".latest.ckpt.tmp" and the like are not).
    public static func isCheckpoint(_ name: String) -> Bool {
        !name.hasPrefix(".") && name.hasSuffix(checkpointSuffix)
    }

    // MARK: - Paths

    public func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
    public var latest: String { path(Self.latestName) }
    public var best: String { path(Self.bestName) }
    public func stepCheckpoint(_ step: Int) -> String { path(Self.stepCheckpointName(step)) }
    public var trainingLog: String { path(Self.trainingLogName) }
    public var health: String { path(Self.healthName) }
    public var timeLapse: String { path(Self.timeLapseName) }
    public var description: String { path(Self.descriptionName) }
    public var report: String { path(Self.reportName) }
    public var lossPlot: String { path(Self.lossPlotName) }
}
