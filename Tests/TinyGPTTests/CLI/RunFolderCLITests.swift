// Runs that never clobber each other, from the outside: the built `tinygpt` runs as a
// subprocess, twice in a row into one folder, twice at once, killed with SIGKILL, and resumed
// with the command people type. A run folder's checkpoints must survive every sequence, and
// a resumed run must end byte-identical to the same run never interrupted.

import Foundation
import XCTest
@testable import TinyGPT

final class RunFolderCLITests: XCTestCase {
    nonisolated(unsafe) static var work: URL!
    nonisolated(unsafe) static var logs: URL!
    /// latest.ckpt of the uninterrupted run of `command`, the bytes every resumed run must match.
    nonisolated(unsafe) static var reference: Data?
    nonisolated(unsafe) static var setupError: String?

    /// The run these tests start, interrupt and resume (without --out).
    static func command(steps: Int = 60) -> [String] {
        ["train", "--preset", "tiny", "--steps", "\(steps)", "--data", "corpus.txt", "--threads", "2", "--eval-windows", "8",
         "--log-every", "1"]
    }

    override class func setUp() {
        super.setUp()
        do {
            work = try TinyGPTProcess.makeTemporaryFolder("runs-work")
            logs = try TinyGPTProcess.makeTemporaryFolder("runs-logs")
            try Data(TestCorpus.english().utf8).write(to: work.appendingPathComponent("corpus.txt"))
            guard TinyGPTProcess.executable != nil else { return }
            let outcome = try TinyGPTProcess.run(command() + ["--out", "reference"], in: work, logs: logs)
            guard outcome.exitCode == 0 else {
                setupError = "the reference run failed (\(outcome.exitCode)): \(outcome.stderr)"
                return
            }
            reference = try Data(contentsOf: work.appendingPathComponent("reference/latest.ckpt"))
        } catch {
            setupError = "\(error)"
        }
    }

    override class func tearDown() {
        if let work { try? FileManager.default.removeItem(at: work) }
        if let logs { try? FileManager.default.removeItem(at: logs) }
        super.tearDown()
    }

    override func setUpWithError() throws {
        _ = try XCTUnwrap(TinyGPTProcess.executable, "the tinygpt executable was not found beside the tests or under .build*/release")
        XCTAssertNil(Self.setupError)
        if Self.setupError != nil { throw CocoaError(.fileNoSuchFile) }
    }

    // MARK: - Helpers

    private func url(_ relative: String) -> URL { Self.work.appendingPathComponent(relative) }

    private func run(_ arguments: [String]) throws -> TinyGPTProcess.Outcome {
        try TinyGPTProcess.run(arguments, in: Self.work, logs: Self.logs)
    }

    /// Starts `tinygpt arguments` in the work folder; returns the process and its two output files.
    private func start(_ arguments: [String]) throws -> (process: Process, out: URL, err: URL) {
        let id = UUID().uuidString
        let out = Self.logs.appendingPathComponent("\(id).out"), err = Self.logs.appendingPathComponent("\(id).err")
        return (try TinyGPTProcess.start(arguments, in: Self.work, stdout: out, stderr: err), out, err)
    }

    private func printed(_ file: URL) -> String {
        String(decoding: (try? Data(contentsOf: file)) ?? Data(), as: UTF8.self)
    }

    /// Polls `condition` every millisecond until it holds; false if `process` ended first or 60 s passed.
    private func waitFor(_ process: Process, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if condition() { return true }
            if !process.isRunning { return condition() }
            usleep(1_000)
        }
        return false
    }

    /// Every file under `folder` with its bytes.
    private func snapshot(_ folder: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in TinyGPTProcess.listing(url(folder)) {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: url("\(folder)/\(name)").path, isDirectory: &isFolder), !isFolder.boolValue {
                files[name] = try Data(contentsOf: url("\(folder)/\(name)"))
            }
        }
        return files
    }

    private func assertMatchesReference(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let bytes = try Data(contentsOf: url(path))
        XCTAssertTrue(bytes == Self.reference, "\(path) differs from the uninterrupted run's latest.ckpt", file: file, line: line)
    }

    // MARK: - Tests

    /// Training twice on one corpus: the second run goes to a numbered folder beside the first,
    /// says so, and leaves every byte of the first run as it was; sample and info then find the
    /// second run's model without being told where.
    func testSequentialRunsNeverChangeTheFirstRun() throws {
        let first = try run(["train", "--preset", "tiny", "--steps", "20", "--data", "corpus.txt", "--eval-windows", "8"])
        XCTAssertEqual(first.exitCode, 0, first.stderr)
        let before = try snapshot("Checkpoints/corpus")
        XCTAssertNotNil(before["latest.ckpt"])
        XCTAssertNil(before["train.lock"], "a finished run removes its lock file")

        let second = try run(["train", "--preset", "tiny", "--layers", "1", "--steps", "10", "--data", "corpus.txt", "--eval-windows", "8"])
        XCTAssertEqual(second.exitCode, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("Checkpoints/corpus holds another run, so this one goes to Checkpoints/corpus-2\n"), second.stdout)
        XCTAssertEqual(try snapshot("Checkpoints/corpus"), before, "the second run changed the first run's folder")
        XCTAssertEqual(try Checkpoint(contentsOf: url("Checkpoints/corpus-2/latest.ckpt").path).config.layerCount, 1)

        let third = try run(["train", "--preset", "tiny", "--steps", "10", "--data", "corpus.txt", "--eval-windows", "8"])
        XCTAssertEqual(third.exitCode, 0, third.stderr)
        XCTAssertTrue(third.stdout.contains("goes to Checkpoints/corpus-3\n"), third.stdout)
        XCTAssertEqual(try snapshot("Checkpoints/corpus"), before)

        // "The newest model" is the third run's, found by sample and info alike.
        let info = try run(["info"])
        XCTAssertTrue(info.stdout.contains("Checkpoints/corpus-3/latest.ckpt"), info.stdout)
        let found = try run(["sample", "--greedy", "--tokens", "30", "--prompt", "The "])
        let named = try run(["sample", "--greedy", "--tokens", "30", "--prompt", "The ", "--checkpoint", "Checkpoints/corpus-3/latest.ckpt"])
        XCTAssertEqual(found.exitCode, 0, found.stderr)
        XCTAssertEqual(found.stdout, named.stdout)

        // The same with an explicit --out.
        let out1 = try run(["train", "--preset", "tiny", "--steps", "10", "--data", "corpus.txt", "--out", "mine", "--eval-windows", "8"])
        let kept = try snapshot("mine")
        let out2 = try run(["train", "--preset", "tiny", "--steps", "12", "--data", "corpus.txt", "--out", "mine", "--eval-windows", "8"])
        XCTAssertEqual([out1.exitCode, out2.exitCode], [0, 0], out1.stderr + out2.stderr)
        XCTAssertTrue(out2.stdout.contains("mine holds another run, so this one goes to mine-2\n"), out2.stdout)
        XCTAssertEqual(try snapshot("mine"), kept)
        XCTAssertEqual(try Checkpoint(contentsOf: url("mine-2/latest.ckpt").path).training?.step, 12)
    }

    /// Two runs started at once into one folder: one runs, the other exits with one line that
    /// names the running process, and nothing of it lands anywhere.
    func testConcurrentRunsIntoOneFolderGiveOneRun() throws {
        let arguments = ["train", "--preset", "tiny", "--steps", "100000", "--data", "corpus.txt", "--out", "busy",
                         "--eval-windows", "8", "--threads", "1"]
        let a = try start(arguments), b = try start(arguments)
        defer {
            for p in [a.process, b.process] where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
        let deadline = Date().addingTimeInterval(60)
        while a.process.isRunning && b.process.isRunning && Date() < deadline { usleep(2_000) }
        let (loser, winner) = a.process.isRunning ? (b, a) : (a, b)
        XCTAssertFalse(loser.process.isRunning, "neither run was refused")
        XCTAssertTrue(winner.process.isRunning, "both runs ended: \(printed(a.err)) \(printed(b.err))")
        loser.process.waitUntilExit()
        XCTAssertEqual(loser.process.terminationReason, .exit)
        XCTAssertEqual(loser.process.terminationStatus, 1)
        let lines = printed(loser.err).split(separator: "\n")
        XCTAssertEqual(lines.count, 1, printed(loser.err))
        XCTAssertEqual(lines.first.map(String.init),
                       "tinygpt: busy is in use by a training run that is still going (process \(winner.process.processIdentifier)); wait for it to end or stop it, or train into another folder")
        XCTAssertEqual(printed(loser.out), "", "the refused run printed: \(printed(loser.out))")

        // Stop the winner once it is training (its first progress line), as a person would.
        XCTAssertTrue(waitFor(winner.process) { printed(winner.out).contains("step ") }, printed(winner.err))
        kill(winner.process.processIdentifier, SIGINT)
        XCTAssertTrue(TinyGPTProcess.wait(winner.process, timeout: 60))
        XCTAssertEqual(winner.process.terminationStatus, 0, printed(winner.err))
        XCTAssertFalse(FileManager.default.fileExists(atPath: url("busy-2").path), "the refused run made a folder")
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: url("busy").path))
        XCTAssertTrue(left.isSuperset(of: ["latest.ckpt", "train_log.csv"]), "\(left)")
        XCTAssertTrue(left.isSubset(of: ["latest.ckpt", "best.ckpt", "train_log.csv", "report.html", "health.jsonl",
                                                   "timelapse.jsonl", "run.json"]), "one run's files and no lock: \(left)")
    }

    /// kill -9 leaves train.lock behind with a dead process's id; neither a new run nor a
    /// resume is blocked by it, and the resume with the first command retyped ends
    /// byte-identical to the run never killed.
    func testKillNineThenANewRunOrAResumeProceeds() throws {
        let (process, out, _) = try start(Self.command() + ["--out", "killed", "--save-every", "5"])
        let saved = waitFor(process) { printed(out).contains("step 22/60") }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertTrue(saved, "the run never reached step 22: \(printed(out))")
        XCTAssertEqual(process.terminationReason, .uncaughtSignal, "the run ended before the kill")
        XCTAssertTrue(FileManager.default.fileExists(atPath: url("killed/train.lock").path), "kill -9 should leave the lock file")
        let killed = try snapshot("killed").filter { !$0.key.hasPrefix(".") && $0.key != "train.lock" }

        let fresh = try run(Self.command(steps: 10) + ["--out", "killed"])
        XCTAssertEqual(fresh.exitCode, 0, fresh.stderr)
        XCTAssertTrue(fresh.stdout.contains("killed holds another run, so this one goes to killed-2\n"), fresh.stdout)
        XCTAssertEqual(try snapshot("killed").filter { !$0.key.hasPrefix(".") && $0.key != "train.lock" }, killed)

        let resumed = try run(Self.command() + ["--out", "killed", "--resume", "killed/latest.ckpt"])
        XCTAssertEqual(resumed.exitCode, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("resuming killed/latest.ckpt at step"), resumed.stdout)
        try assertMatchesReference("killed/latest.ckpt")
        XCTAssertFalse(FileManager.default.fileExists(atPath: url("killed/train.lock").path))
    }

    /// Ctrl-C, then the "continue with:" line exactly as printed; and Ctrl-C, then the first
    /// command with --resume added. Both end byte-identical to the run never interrupted.
    func testResumeAsPeopleTypeIt() throws {
        for (folder, retype) in [("continued", false), ("retyped", true)] {
            let (process, out, err) = try start(Self.command() + ["--out", folder])
            let reached = waitFor(process) { printed(out).contains("step 12/60") }
            kill(process.processIdentifier, SIGINT)
            XCTAssertTrue(TinyGPTProcess.wait(process, timeout: 60))
            XCTAssertTrue(reached, "the run never printed step 12: \(printed(out))")
            XCTAssertEqual(process.terminationStatus, 0, printed(err))
            let stdout = printed(out)
            let line = try XCTUnwrap(stdout.split(separator: "\n").first { $0.hasPrefix("continue with: ") }, stdout)
            XCTAssertEqual(line, "continue with: tinygpt train --resume \(folder)/latest.ckpt --steps 60 --data corpus.txt")
            let arguments = retype ? Self.command() + ["--out", folder, "--resume", "\(folder)/latest.ckpt"]
                                   : Array(line.dropFirst("continue with: tinygpt ".count).split(separator: " ").map(String.init))
            let resumed = try run(arguments)
            XCTAssertEqual(resumed.exitCode, 0, "\(arguments): \(resumed.stderr)")
            XCTAssertFalse(resumed.stdout.contains("holds another run"), resumed.stdout)
            try assertMatchesReference("\(folder)/latest.ckpt")
        }
    }

    /// A flag that differs from the checkpoint is refused in one line naming the checkpoint's
    /// value; flags and presets that restate it are accepted; nothing is written on a refusal.
    func testAConflictingFlagIsRefusedOnResume() throws {
        let partial = try run(Self.command(steps: 10) + ["--out", "conflict"])
        XCTAssertEqual(partial.exitCode, 0, partial.stderr)
        let before = try snapshot("conflict")
        let resume = ["--resume", "conflict/latest.ckpt", "--data", "corpus.txt", "--steps", "12"]
        let refusals: [([String], String)] = [
            (["--layers", "3"], "--layers 3 conflicts with the checkpoint (2 layers); drop --layers to resume"),
            (["--preset", "baby"], "--preset baby conflicts with the checkpoint (2 layers); drop --preset to resume"),
            (["--preset", "tiny", "--lr", "0.01"], "--lr 0.01 conflicts with the checkpoint (learning rate 0.002); drop --lr to resume"),
            (["--seed", "7"], "--seed 7 conflicts with the checkpoint (seed 1337); drop --seed to resume"),
            (["--gelu", "exact"], "--gelu exact conflicts with the checkpoint (tanh GELU); drop --gelu to resume"),
            (["--no-residual"], "--no-residual conflicts with the checkpoint (with skip connections); drop --no-residual to resume"),
        ]
        for (flags, message) in refusals {
            let outcome = try run(["train"] + resume + flags)
            XCTAssertEqual(outcome.exitCode, 2, "\(flags)")
            XCTAssertEqual(outcome.stderrLines, ["tinygpt: " + message])
            XCTAssertEqual(try snapshot("conflict"), before, "\(flags) changed the folder")
        }
        let restated = try run(["train"] + resume + ["--preset", "tiny", "--layers", "2", "--heads", "2", "--width", "64",
                                                     "--context", "32", "--batch", "8", "--lr", "0.002", "--min-lr", "0.0002",
                                                     "--warmup", "100", "--seed", "1337", "--gelu", "tanh", "--eval-windows", "8"])
        XCTAssertEqual(restated.exitCode, 0, restated.stderr)
        XCTAssertEqual(try Checkpoint(contentsOf: url("conflict/latest.ckpt").path).training?.step, 12)
    }
}
