// The training loop around a `Trainer`: evaluation on schedule, the divergence guard, and
// the run folder's checkpoints: `latest.ckpt` (newest), `best.ckpt` (lowest validation
// loss) and the last K `step-NNNNNNN.ckpt`, each written atomically.

import Foundation

/// What to do when a step's loss or gradient is NaN or infinite.
public enum NonFinitePolicy: String, Sendable, CaseIterable {
    /// Stop the run; the last saved checkpoint stays as it was.
    case stop
    /// Skip the batch and go on.
    case skip
}

/// Where and how often a run saves, and how it reacts to divergence.
public struct RunOptions: Sendable {
    public var directory: String
    /// Save `latest.ckpt` (and a step checkpoint) every this many steps; 0 = only at the end;
    /// nil (the default) = at every evaluation (`TrainingConfig.evalInterval`).
    public var saveEvery: Int?
    /// Step checkpoints kept besides latest and best.
    public var keep: Int
    public var onNonFinite: NonFinitePolicy

    public init(directory: String, saveEvery: Int? = nil, keep: Int = 2, onNonFinite: NonFinitePolicy = .stop) {
        self.directory = directory
        self.saveEvery = saveEvery
        self.keep = keep
        self.onNonFinite = onNonFinite
    }

    /// The files of `directory`.
    public var files: RunFiles { RunFiles(directory) }

    /// The options of a run that gives only its folder: the defaults of `keep` and
    /// `onNonFinite`, which the command line's help shows.
    public static let defaults = RunOptions(directory: "")
}

/// Something the loop reports to whoever shows progress.
public enum TrainingEvent {
    case step(StepResult, step: Int, tokensPerSecond: Double, elapsed: Double)
    /// `trainLoss` and `validationLoss` are each the mean over `evalWindows` fixed windows of
    /// their split (`Trainer.estimateTrainingLoss()` and `Trainer.evaluate()`), so they compare.
    case evaluation(step: Int, trainLoss: Float, validationLoss: Float, isBest: Bool)
    case skipped(step: Int, loss: Float, gradNorm: Float)
    case saved(path: String, step: Int)
}

/// How a run ended.
public enum TrainingOutcome: Equatable, Sendable {
    case finished(validationLoss: Float)
    case interrupted(step: Int)
}

public enum TrainingRun {
    /// Runs `trainer` to its last step or until `shouldStop()` is true, saving per `options`.
    /// Throws when a step diverges under `.stop` (after reporting it; nothing is saved then).
    /// A `monitor` sees every applied step and records at each evaluation, before it is reported.
    public static func run(_ trainer: Trainer, options: RunOptions, monitor: TrainingMonitor? = nil,
                           shouldStop: () -> Bool, report: (TrainingEvent) -> Void) throws -> TrainingOutcome {
        let settings = trainer.settings
        let saveEvery = options.saveEvery ?? settings.evalInterval
        let start = DispatchTime.now().uptimeNanoseconds
        var stepsTimed = 0
        var lastValidation = Float.nan
        while !trainer.isFinished {
            if shouldStop() {
                try save(trainer, options, report: report, best: false, latest: true, stepCheckpoint: false)
                return .interrupted(step: trainer.step)
            }
            let result = trainer.trainStep()
            if result.applied {
                monitor?.stepTaken(result, clipThreshold: settings.gradClip)
                stepsTimed += 1
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                let tokensPerSecond = Double(stepsTimed * trainer.B * trainer.T) / max(elapsed, 1e-9)
                report(.step(result, step: trainer.step, tokensPerSecond: tokensPerSecond, elapsed: elapsed))
            } else {
                report(.skipped(step: trainer.step, loss: result.loss, gradNorm: result.gradNorm))
                if options.onNonFinite == .stop {
                    throw TinyGPTError.runtime(
                        "training diverged at step \(trainer.step + 1) (loss \(result.loss), gradient norm \(result.gradNorm)); the last saved checkpoint is kept; lower `learningRate`, or pass `onNonFinite` skip to skip such batches")
                }
                trainer.skipStep()
            }
            // Evaluate and save on schedule, whether or not this step's batch was skipped.
            let step = trainer.step
            var isBest = false
            if step % settings.evalInterval == 0 || trainer.isFinished {
                let validation = trainer.evaluate()
                lastValidation = validation
                // Averaged over as many training windows as validation uses, not this step's batch.
                let trainLoss = trainer.estimateTrainingLoss()
                isBest = trainer.record(trainLoss: trainLoss, validationLoss: validation, learningRate: result.learningRate)
                try monitor?.evaluated(trainer)
                report(.evaluation(step: step, trainLoss: trainLoss, validationLoss: validation, isBest: isBest))
            }
            let saveLatest = trainer.isFinished || (saveEvery > 0 && step % saveEvery == 0)
            if isBest || saveLatest {
                try save(trainer, options, report: report, best: isBest, latest: saveLatest, stepCheckpoint: true)
            }
        }
        return .finished(validationLoss: lastValidation)
    }

    /// Writes the checkpoint to best.ckpt and/or latest.ckpt (with a step
    /// checkpoint, pruning old ones beyond `keep`).
    static func save(_ trainer: Trainer, _ options: RunOptions, report: (TrainingEvent) -> Void,
                     best: Bool, latest: Bool, stepCheckpoint: Bool) throws {
        let withStep = latest && stepCheckpoint && options.keep > 0
        let files = options.files
        let paths = (best ? [files.best] : []) + (latest ? [files.latest] : [])
            + (withStep ? [files.stepCheckpoint(trainer.step)] : [])
        try trainer.writeCheckpoint(to: paths)
        if best { report(.saved(path: files.best, step: trainer.step)) }
        if latest { report(.saved(path: files.latest, step: trainer.step)) }
        guard withStep else { return }
        let fm = FileManager.default
        let names = ((try? fm.contentsOfDirectory(atPath: options.directory)) ?? [])
            .filter(RunFiles.isStepCheckpoint)
            .sorted()
        for name in names.dropLast(options.keep) {
            try? fm.removeItem(atPath: files.path(name))
        }
    }
}
