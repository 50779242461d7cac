// Tests of Training/TimeBudget.swift (the step-count planner), Runs/TimeBudget+Measure.swift
// (the warm-up that times a run and puts it back), and how a time budget enters a plan
// (TrainingPlan with `minutes`, the ten-minutes preset). No wall time is asserted: costs are
// given to the planner by hand, and the warm-up is checked for what it leaves behind.

import Foundation
import XCTest
@testable import TinyGPT

final class TimeBudgetTests: XCTestCase {
    /// Settings that evaluate every `interval` steps whatever the length.
    static func fixed(interval: Int) -> (Int) -> TrainingConfig {
        { n in var s = TrainingConfig(); s.steps = n; s.evalInterval = interval; return s }
    }

    static let endOnly = TimeBudget.Saving(saveEvery: 0, keepsSteps: false)

    func testCountsOfEvaluationsAndFiles() {
        XCTAssertEqual(TimeBudget.evaluations(steps: 8, interval: 4), 2)
        XCTAssertEqual(TimeBudget.evaluations(steps: 10, interval: 4), 3, "one more at the last step")
        XCTAssertEqual(TimeBudget.evaluations(steps: 3, interval: 250), 1)
        var s = TrainingConfig()
        s.evalInterval = 250
        // latest (+ a step checkpoint) at each of 4 evaluations, best at each evaluation.
        XCTAssertEqual(TimeBudget.files(steps: 1000, settings: s, saving: .init()), 4 * 2 + 4)
        XCTAssertEqual(TimeBudget.files(steps: 1000, settings: s, saving: .init(saveEvery: 0, keepsSteps: true)), 2 + 4)
        XCTAssertEqual(TimeBudget.files(steps: 1000, settings: s, saving: .init(saveEvery: 100, keepsSteps: false)), 10 + 4)
    }

    /// 1 s a step, 10 s an evaluation every 100 steps, 1000 s in all: 900 steps and 9
    /// evaluations take 990 s; 901 steps would take a tenth evaluation, 1001 s.
    func testLargestFitByHand() throws {
        let budget = TimeBudget(seconds: 1000, spent: 0, step: 1, evaluation: 10, save: 0)
        let choice = try budget.largestFit(in: 1...1_000_000_000, settings: Self.fixed(interval: 100), saving: Self.endOnly)
        XCTAssertEqual(choice, TimeBudget.Choice(steps: 900, seconds: 990, capped: false))
        // What was spent before, and saves, come off the same budget.
        let spent = TimeBudget(seconds: 1000, spent: 100, step: 1, evaluation: 10, save: 5)
        let fewer = try spent.largestFit(in: 1...1_000_000_000, settings: Self.fixed(interval: 100), saving: Self.endOnly)
        // 100 + n + 10·⌈n/100⌉ + 5·(1 + ⌈n/100⌉) ≤ 1000: n = 800 gives 100 + 800 + 80 + 45 = 1025, too much;
        // n = 775 gives 100 + 775 + 80 + 45 = 1000 exactly; 776 one second more.
        XCTAssertEqual(fewer.steps, 775)
        XCTAssertLessThanOrEqual(fewer.seconds, 1000)
        for n in [fewer.steps, fewer.steps + 1] {
            let cost = spent.seconds(steps: n, settings: Self.fixed(interval: 100)(n), saving: Self.endOnly)
            XCTAssertEqual(cost <= 1000, n == fewer.steps, "\(n) steps cost \(cost)")
        }
    }

    /// A short run's evaluation interval is capped at a quarter of its steps, so a longer run can
    /// evaluate less often and cost less: the planner finds the longest that fits, not the first
    /// place the cost crosses the budget.
    func testShortRunsWhoseIntervalShrinksFindTheLongestFit() throws {
        let rule: (Int) -> TrainingConfig = { n in
            TrainingPlan.settings(preset: .baby, overrides: TrainingPlan.Overrides(), steps: n)
        }
        XCTAssertEqual(rule(7).evalInterval, 1)
        XCTAssertEqual(rule(1536).evalInterval, 250)
        var capped = TrainingConfig()
        capped.evalInterval = 500
        let ruleAt500: (Int) -> TrainingConfig = { n in
            var s = capped
            s.steps = n
            TrainingPlan.applyRules(to: &s, chosen: TrainingPlan.Overrides())
            return s
        }
        // Evaluations dominate: 4 fit in 5.5 s with room for 1536 steps of 1/1024 s (interval 384).
        let budget = TimeBudget(seconds: 5.5, spent: 0, step: 1.0 / 1024, evaluation: 1, save: 0)
        let choice = try budget.largestFit(in: 1...1_000_000_000, settings: ruleAt500, saving: Self.endOnly)
        XCTAssertEqual(choice.steps, 1536)
        XCTAssertEqual(ruleAt500(1536).evalInterval, 384)
        XCTAssertGreaterThan(budget.seconds(steps: 7, settings: ruleAt500(7), saving: Self.endOnly), 5.5, "7 steps evaluate 7 times")
    }

    func testTooShortIsOneUsageErrorWithTheLeastThatWouldDo() {
        let budget = TimeBudget(seconds: 3, spent: 2.5, step: 0.3, evaluation: 0.7, save: 0.1)
        XCTAssertThrowsError(try budget.largestFit(in: 1...1_000_000_000, settings: Self.fixed(interval: 100), saving: .init())) { error in
            XCTAssertEqual((error as? TinyGPTError)?.kind, .usage)
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("`minutes` 0.05 is too short here: 2.5 s went on"), message)
            // One step, one evaluation, three files: 2.5 + 0.3 + 0.7 + 0.3 = 3.8 s = 0.0634 min.
            XCTAssertTrue(message.hasSuffix("give `minutes` 0.07 or more"), message)
            XCTAssertFalse(message.contains("\n"))
        }
    }

    func testHugeBudgetsStopAtTheMostStepsARunMayHave() throws {
        let budget = TimeBudget(seconds: 1e12, spent: 1, step: 1e-6, evaluation: 1e-3, save: 1e-3)
        guard case .int(let range) = TrainingSetting.at(\TrainingConfig.steps).domain else { return XCTFail("steps") }
        let choice = try budget.largestFit(in: range, settings: Self.fixed(interval: 250), saving: .init())
        XCTAssertEqual(choice.steps, 1_000_000_000)
        XCTAssertTrue(choice.capped)
    }

    // MARK: - Plans with a budget

    func testBudgetInPlansAndPresets() throws {
        let preset = Preset.tenMinutes
        XCTAssertEqual(preset.settings.minutes, 10)
        XCTAssertNil(preset.changes.steps, "the budget chooses the steps")
        XCTAssertEqual(preset.summary,
                       "the best shape, learning rate and weight decay we found for ten minutes of tiny Shakespeare on 2 cores: 4 layers, 4 heads, width 128, context 256, batch 4, time budget 10 min")
        // minutes and steps both chosen: one usage error naming both.
        var both = TrainingPlan.Overrides()
        both.minutes = 5
        both.steps = 10
        XCTAssertThrowsError(try TrainingPlan(vocabSize: 30, overrides: both)) { error in
            XCTAssertEqual("\(error)", "`minutes` chooses the steps itself; give `minutes` or `steps`, not both")
        }
        // Steps asked for win over a preset's budget, as any setting chosen wins over a preset.
        var steps = TrainingPlan.Overrides()
        steps.steps = 300
        let stepsRun = try TrainingPlan(preset: preset, vocabSize: 30, overrides: steps)
        XCTAssertEqual(stepsRun.settings.minutes, 0)
        XCTAssertEqual(stepsRun.settings.steps, 300)
        // The plan a budget makes for 300 steps is that run's, the budget kept as a record.
        let budgeted = try TrainingPlan(preset: preset, vocabSize: 30, overrides: .init(), steps: 300)
        var same = budgeted.settings
        XCTAssertEqual(same.minutes, 10)
        same.minutes = 0
        XCTAssertEqual(same, stepsRun.settings)
        XCTAssertEqual(budgeted.config, stepsRun.config)
        // Short runs are capped as `steps` caps them (warmup at half, evaluations at a quarter).
        let short = try TrainingPlan(preset: preset, vocabSize: 30, overrides: .init(), steps: 40)
        XCTAssertEqual([short.settings.warmupSteps, short.settings.evalInterval], [20, 10])
        // A budget is a setting like the others: validated, unset at 0.
        var negative = TrainingConfig()
        negative.minutes = -1
        XCTAssertThrowsError(try negative.validate()) { error in
            XCTAssertEqual("\(error)", "`minutes` must be greater than 0 (or 0: no time budget), got -1.0")
        }
        XCTAssertNoThrow(try TrainingConfig().validate())
        XCTAssertFalse(TrainingConfig().hasTimeBudget)
    }

    // MARK: - The warm-up

    /// Timing a run before its first step leaves it bit for bit the run it was: the weights,
    /// AdamW's moments, the random generator and the counters after 10 steps are those of a
    /// run that was never timed.
    func testMeasuringPutsTheRunBack() throws {
        let settings = TrainerTests.settings(steps: 10)
        let timed = try TrainerTests.makeTrainer(settings)
        let plain = try TrainerTests.makeTrainer(settings)
        let folder = NSTemporaryDirectory() + "tinygpt-budget-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let probe = folder + "/probe.ckpt"
        var drawn = 0
        let budget = try TimeBudget.measure(timed, minutes: 0.01, started: DispatchTime.now().uptimeNanoseconds, monitor: nil,
                                            probe: probe) { drawn += 1 }
        XCTAssertEqual(drawn, 1, "what the caller does at an evaluation is timed with it")
        XCTAssertEqual(budget.seconds, 0.6)
        XCTAssertTrue([budget.step, budget.evaluation, budget.save, budget.spent].allSatisfy { $0 > 0 && $0.isFinite })
        XCTAssertFalse(FileManager.default.fileExists(atPath: probe), "the probe checkpoint is removed")
        XCTAssertEqual(timed.step, 0)
        XCTAssertEqual(timed.tokensSeen, 0)
        XCTAssertEqual(timed.history.count, 0)
        XCTAssertEqual(timed.rng, plain.rng)
        TrainerTests.advance(timed, to: 10)
        TrainerTests.advance(plain, to: 10)
        XCTAssertEqual(timed.model.parameters.array.map(\.bitPattern), plain.model.parameters.array.map(\.bitPattern))
        XCTAssertEqual(timed.optimizer.m.array.map(\.bitPattern), plain.optimizer.m.array.map(\.bitPattern))
        XCTAssertEqual(timed.optimizer.v.array.map(\.bitPattern), plain.optimizer.v.array.map(\.bitPattern))
        XCTAssertEqual(timed.history, plain.history)
        XCTAssertEqual(timed.rng, plain.rng)
    }

    /// The schedule a budget chooses replaces the provisional one before the first step.
    func testSettingTheScheduleBeforeTheFirstStep() throws {
        var o = TrainingPlan.Overrides()
        o.minutes = 1
        o.batchSize = 4
        let trainer = try TrainerTests.makeTrainer({ var s = TrainerTests.settings(steps: 2000); s.minutes = 1; return s }())
        let plan = try TrainingPlan(config: trainer.model.config, settings: {
            var s = trainer.settings
            s.steps = 40
            TrainingPlan.applyRules(to: &s, chosen: o)
            return s
        }())
        trainer.setSchedule(plan)
        XCTAssertEqual(trainer.settings, plan.settings)
        XCTAssertEqual(trainer.settings.steps, 40)
        XCTAssertEqual(trainer.settings.minutes, 1)
    }
}
