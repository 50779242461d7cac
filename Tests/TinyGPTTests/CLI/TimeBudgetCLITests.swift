// `tinygpt train --minutes` from the outside: a budgeted run prints and records the steps it
// chose, and `--steps` with that count writes the same weights bit for bit; a resumed run goes
// to the recorded steps; bad budgets and bad combinations are one line and exit 2. No wall
// time is asserted: the budget only decides how many steps, and the test reads that number back.

import Foundation
import XCTest
@testable import TinyGPT

final class TimeBudgetCLITests: XCTestCase {
    private var work: URL!
    private var logs: URL!

    override func setUpWithError() throws {
        _ = try XCTUnwrap(TinyGPTProcess.executable, "the tinygpt executable was not found beside the tests or under .build*/release")
        work = try TinyGPTProcess.makeTemporaryFolder("budget")
        logs = try TinyGPTProcess.makeTemporaryFolder("budget-logs")
        try Data(TestCorpus.english(sentences: 200).utf8).write(to: work.appendingPathComponent("corpus.txt"))
    }

    override func tearDown() {
        if let work { try? FileManager.default.removeItem(at: work) }
        if let logs { try? FileManager.default.removeItem(at: logs) }
    }

    private func run(_ arguments: [String], timeout: TimeInterval = 240) throws -> TinyGPTProcess.Outcome {
        try TinyGPTProcess.run(arguments, in: work, logs: logs, timeout: timeout)
    }

    private func checkpoint(_ path: String) throws -> Checkpoint {
        try Checkpoint(contentsOf: work.appendingPathComponent(path).path)
    }

    /// The small run both tests train: the tiny preset, evaluating over few windows, on one
    /// thread (a loaded machine can leave a second thread waiting for a core at every barrier
    /// of the evaluation's sampling, which would leave the budget room for a step or two).
    private let shape = ["train", "--preset", "tiny", "--data", "corpus.txt", "--eval-windows", "8", "--log-every", "50",
                         "--threads", "1"]

    func testBudgetChoosesStepsThatStepsRepeatsBitForBit() throws {
        // Evaluating (and so keeping a step checkpoint) at every step leaves an earlier step to
        // resume from however few steps a loaded machine lets the budget choose.
        let budgeted = try run(shape + ["--minutes", "0.1", "--eval-every", "1", "--out", "budget"])
        XCTAssertEqual(budgeted.exitCode, 0, budgeted.stderr)
        let line = try XCTUnwrap(budgeted.stdout.split(separator: "\n").first { $0.hasPrefix("--minutes 0.1: ") }, budgeted.stdout)
        XCTAssertTrue(line.contains(" per step, evaluations "), String(line))
        let repeatFlag = try XCTUnwrap(line.range(of: "(to repeat this run exactly: --steps "), String(line))
        let steps = try XCTUnwrap(Int(line[repeatFlag.upperBound...].dropLast()), String(line))
        XCTAssertGreaterThan(steps, 0)

        let saved = try checkpoint("budget/latest.ckpt")
        let state = try XCTUnwrap(saved.training)
        XCTAssertEqual(state.step, steps)
        XCTAssertEqual(state.settings.steps, steps)
        XCTAssertEqual(state.settings.minutes, 0.1)
        let description = try XCTUnwrap(try RunDescription.read(path: work.appendingPathComponent("budget/run.json").path))
        XCTAssertEqual(description.settings.steps, steps)
        XCTAssertEqual(description.settings.minutes, 0.1)

        // --steps with the chosen count: the same run, bit for bit.
        let repeated = try run(shape + ["--steps", "\(steps)", "--eval-every", "1", "--out", "steps"])
        XCTAssertEqual(repeated.exitCode, 0, repeated.stderr)
        let again = try checkpoint("steps/latest.ckpt")
        let againState = try XCTUnwrap(again.training)
        XCTAssertEqual(again.parameters.map(\.bitPattern), saved.parameters.map(\.bitPattern), "the weights differ")
        XCTAssertEqual(againState.adamM.map(\.bitPattern), state.adamM.map(\.bitPattern))
        XCTAssertEqual(againState.adamV.map(\.bitPattern), state.adamV.map(\.bitPattern))
        XCTAssertEqual(againState.rng, state.rng)
        XCTAssertEqual(againState.history.map(\.step), state.history.map(\.step), "the same evaluations")
        var settings = againState.settings
        XCTAssertEqual(settings.minutes, 0)
        settings.minutes = 0.1
        XCTAssertEqual(settings, state.settings, "only the budget differs")

        // Resumed from an earlier step checkpoint, the run goes on to the recorded steps and
        // ends where it ended (into a new numbered folder, as the folder has a newer latest).
        let stepFiles = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("budget").path)
            .filter { $0.hasPrefix("step-") }.sorted()
        if let earlier = stepFiles.first(where: { $0 != String(format: "step-%07d.ckpt", steps) }) {
            let resumed = try run(["train", "--resume", "budget/\(earlier)", "--data", "corpus.txt", "--log-every", "50"])
            XCTAssertEqual(resumed.exitCode, 0, resumed.stderr)
            XCTAssertTrue(resumed.stdout.contains("of \(steps)"), resumed.stdout)
            XCTAssertFalse(resumed.stdout.contains("--minutes 0.1:"), "a resumed run does not re-plan")
            let ended = try checkpoint("budget-2/latest.ckpt")
            XCTAssertEqual(ended.training?.step, steps)
            XCTAssertEqual(ended.parameters.map(\.bitPattern), saved.parameters.map(\.bitPattern))
        } else if steps > 1 {
            XCTFail("no earlier step checkpoint in \(stepFiles)")
        } else {
            print("the budget chose 1 step on this loaded machine: no earlier step to resume from")
        }

        // --minutes on a resume is refused, whatever its value.
        let refused = try run(["train", "--resume", "budget/latest.ckpt", "--data", "corpus.txt", "--minutes", "0.1"])
        XCTAssertEqual(refused.exitCode, 2)
        XCTAssertEqual(refused.stderrLines.count, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.hasPrefix("tinygpt: --minutes chooses the steps of a new run;"), refused.stderr)
    }

    func testBadBudgetsAreOneLineAndExit2() throws {
        let cases: [([String], String)] = [
            (["--minutes", "0"], "--minutes must be greater than 0"),
            (["--minutes", "-1"], "--minutes must be greater than 0"),
            (["--minutes", "abc"], "--minutes expects a number"),
            (["--minutes", "5", "--steps", "10"], "--minutes chooses the steps itself; give --minutes or --steps, not both"),
            (["--minutes", "0.0001"], "--minutes 0.0001 is too short here"),
        ]
        for (flags, mentions) in cases {
            let outcome = try run(shape + flags + ["--out", "bad"])
            XCTAssertEqual(outcome.exitCode, 2, "\(flags): \(outcome.stderr)")
            XCTAssertEqual(outcome.stderrLines.count, 1, "\(flags): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.hasPrefix("tinygpt: ") && outcome.stderr.contains(mentions), "\(flags): \(outcome.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: work.appendingPathComponent("bad").path),
                           "\(flags) left a run folder behind")
        }
    }

    /// `--steps` wins over a preset's budget, as flags win over presets.
    func testStepsWinOverAPresetsBudget() throws {
        let outcome = try run(["train", "--preset", "ten-minutes", "--steps", "3", "--data", "corpus.txt", "--eval-windows", "4",
                               "--out", "ten"])
        XCTAssertEqual(outcome.exitCode, 0, outcome.stderr)
        XCTAssertFalse(outcome.stdout.contains("--minutes"), outcome.stdout)
        let state = try XCTUnwrap(try checkpoint("ten/latest.ckpt").training)
        XCTAssertEqual(state.settings.steps, 3)
        XCTAssertEqual(state.settings.minutes, 0)
        XCTAssertEqual(try checkpoint("ten/latest.ckpt").config.contextLength, 256)
    }
}
