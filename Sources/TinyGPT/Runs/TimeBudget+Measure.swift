// The warm-up of a run with a time budget: before the first step, the run times a few of its own
// steps, one evaluation and one checkpoint save, inside `Trainer.rehearse`, which then puts the
// run back exactly where it was. So the rehearsal costs a second or so of the budget but never
// changes a bit of the run: a `minutes` run is the `steps` run of the count it chose.

import Foundation

extension TimeBudget {
    /// Steps run before timing starts: the first ones pay one-off costs (memory touched for the
    /// first time, threads waking).
    public static let untimedSteps = 2

    /// Measures `trainer`'s costs on this machine and returns the budget of `minutes` counted
    /// from `started` (a `DispatchTime` in nanoseconds), leaving the run as it was. Steps are
    /// timed after `untimedSteps`: at least 3 of them, and on for a hundredth of the budget (at
    /// least half a second), since a shared machine's speed wanders from second to second; then one evaluation with what `monitor` records at it and what the caller does
    /// besides (`alsoAtEvaluation`: the command line draws the report), and one checkpoint
    /// written to `probe` (in the run's folder, so on the disk the run writes to) and removed.
    public static func measure(_ trainer: Trainer, minutes: Double, started: UInt64, monitor: TrainingMonitor?,
                               probe: String, alsoAtEvaluation: () -> Void = {}) throws -> TimeBudget {
        func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
        func seconds(since t: UInt64) -> Double { Double(now() - t) / 1e9 }
        let (step, evaluation, save) = try trainer.rehearse { () throws -> (Double, Double, Double) in
            for _ in 0..<untimedSteps { _ = trainer.trainStep() }
            var timed = 0
            let stepsStart = now()
            repeat {
                _ = trainer.trainStep()
                timed += 1
            } while timed < 3 || seconds(since: stepsStart) < max(0.5, minutes * 60 / 100)
            let step = seconds(since: stepsStart) / Double(timed)
            let evaluationStart = now()
            _ = trainer.evaluate()
            _ = trainer.estimateTrainingLoss()
            monitor?.rehearseEvaluation(trainer)
            alsoAtEvaluation()
            let evaluation = seconds(since: evaluationStart)
            let saveStart = now()
            defer { try? FileManager.default.removeItem(atPath: probe) }
            try trainer.writeCheckpoint(to: [probe])
            return (step, evaluation, seconds(since: saveStart))
        }
        return TimeBudget(seconds: minutes * 60, spent: seconds(since: started), step: step, evaluation: evaluation, save: save)
    }
}
