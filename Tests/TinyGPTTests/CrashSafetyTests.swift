// What a killed or interrupted `tinygpt train` leaves behind. Checkpoints are written to a
// temporary file and renamed over the old one (POSIX rename(2) is atomic), so kill -9 at any
// moment must leave every *.ckpt loadable; Ctrl-C saves and stops, and resuming must then
// reproduce an uninterrupted run to the byte.

import Foundation
import XCTest
@testable import TinyGPT

final class CrashSafetyTests: XCTestCase {
    nonisolated(unsafe) static var work: URL!
    nonisolated(unsafe) static var logs: URL!
    /// latest.ckpt and best.ckpt of an uninterrupted 40-step run, the bytes every resumed run must match.
    nonisolated(unsafe) static var reference: (latest: Data, best: Data)?
    nonisolated(unsafe) static var setupError: String?

    /// The run every test interrupts: small, saving every 5 steps, two threads, a quick evaluation.
    static let run40 = ["train", "--preset", "tiny", "--steps", "40", "--save-every", "5", "--data", "corpus.txt",
                        "--threads", "2", "--seed", "1337", "--eval-windows", "8"]

    override class func setUp() {
        super.setUp()
        do {
            work = try TinyGPTProcess.makeTemporaryFolder("crash-work")
            logs = try TinyGPTProcess.makeTemporaryFolder("crash-logs")
            try Data(TestCorpus.english().utf8).write(to: work.appendingPathComponent("corpus.txt"))
            guard TinyGPTProcess.executable != nil else { return }
            let outcome = try TinyGPTProcess.run(run40 + ["--out", "reference"], in: work, logs: logs)
            guard outcome.exitCode == 0 else {
                setupError = "the reference run failed (\(outcome.exitCode)): \(outcome.stderr)"
                return
            }
            reference = (try Data(contentsOf: work.appendingPathComponent("reference/latest.ckpt")),
                         try Data(contentsOf: work.appendingPathComponent("reference/best.ckpt")))
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

    /// Starts `tinygpt arguments` in the work folder; returns the process and its stdout file.
    private func start(_ arguments: [String]) throws -> (Process, URL) {
        let id = UUID().uuidString
        let out = Self.logs.appendingPathComponent("\(id).out")
        let process = try TinyGPTProcess.start(arguments, in: Self.work, stdout: out,
                                               stderr: Self.logs.appendingPathComponent("\(id).err"))
        return (process, out)
    }

    /// Waits until `condition` holds, polling every `interval` microseconds; false if `process`
    /// ended first or `timeout` passed.
    private func waitFor(_ process: Process, timeout: TimeInterval = 60, interval: UInt32 = 1_000, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            if !process.isRunning { return condition() }
            usleep(interval)
        }
        return false
    }

    private func printed(_ file: URL) -> String {
        String(decoding: (try? Data(contentsOf: file)) ?? Data(), as: UTF8.self)
    }

    /// Checks a run folder after a crash: every *.ckpt has a name the trainer gives and loads
    /// cleanly; temporary files may remain but never end in .ckpt. Returns latest.ckpt's step
    /// and the number of temporary files left.
    private func checkFolder(_ folder: String, file: StaticString = #filePath, line: UInt = #line) throws -> (step: Int?, temporaries: Int) {
        let names = try FileManager.default.contentsOfDirectory(atPath: url(folder).path)
        var latestStep: Int?
        for name in names where name.hasSuffix(".ckpt") {
            let isStep = name.range(of: #"^step-[0-9]{7}\.ckpt$"#, options: .regularExpression) != nil
            XCTAssertTrue(name == "latest.ckpt" || name == "best.ckpt" || isStep, "\(folder)/\(name) is not a name the trainer writes", file: file, line: line)
            do {
                let checkpoint = try Checkpoint(contentsOf: url("\(folder)/\(name)").path)
                let state = try XCTUnwrap(checkpoint.training, "\(folder)/\(name) lost its training state", file: file, line: line)
                if name == "latest.ckpt" { latestStep = state.step }
            } catch {
                XCTFail("\(folder)/\(name) does not load after the crash: \(error)", file: file, line: line)
            }
        }
        let temporaries = names.filter { $0.contains(".tmp") }
        XCTAssertFalse(temporaries.contains { $0.hasSuffix(".ckpt") }, "a temporary file ends in .ckpt: \(temporaries)", file: file, line: line)
        return (latestStep, temporaries.count)
    }

    /// Resumes `folder/latest.ckpt` to step 40 and checks latest.ckpt and best.ckpt against the
    /// uninterrupted reference run, byte for byte.
    private func resumeAndCompare(_ folder: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let resumed = try TinyGPTProcess.run(["train", "--resume", "\(folder)/latest.ckpt", "--steps", "40", "--data", "corpus.txt",
                                              "--threads", "2"], in: Self.work, logs: Self.logs)
        XCTAssertEqual(resumed.exitCode, 0, resumed.stderr, file: file, line: line)
        XCTAssertTrue(resumed.stdout.contains("resuming \(folder)/latest.ckpt at step"), resumed.stdout, file: file, line: line)
        let reference = try XCTUnwrap(Self.reference)
        let latest = try Data(contentsOf: url("\(folder)/latest.ckpt"))
        let best = try Data(contentsOf: url("\(folder)/best.ckpt"))
        XCTAssertEqual(latest.count, reference.latest.count, "latest.ckpt size", file: file, line: line)
        if latest != reference.latest {
            let first = zip(latest, reference.latest).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            XCTFail("the resumed latest.ckpt differs from the uninterrupted run's, first at byte \(first.map(String.init) ?? "end")", file: file, line: line)
        }
        XCTAssertTrue(best == reference.best, "the resumed best.ckpt differs from the uninterrupted run's", file: file, line: line)
    }

    // MARK: - Tests

    /// kill -9 a run that saves after every step, 20 times: at seeded random moments, and (every
    /// other try) the moment a temporary checkpoint file appears, so that some kills land in the
    /// middle of a write. Each time, every checkpoint left loads cleanly and the run resumes.
    func testKillNineDuringFrequentSavesNeverTearsACheckpoint() throws {
        var rng = RandomGenerator(seed: 2024)
        let tries = 20
        var survived = 0, midWrite = 0
        for attempt in 0..<tries {
            let folder = "kill-\(attempt)"
            let (process, _) = try start(["train", "--preset", "tiny", "--steps", "100000", "--save-every", "1", "--keep", "2",
                                          "--data", "corpus.txt", "--out", folder, "--log-every", "100000", "--threads", "2",
                                          "--eval-windows", "8"])
            let saved = waitFor(process) { FileManager.default.fileExists(atPath: url("\(folder)/latest.ckpt").path) }
            if attempt % 2 == 0 {
                usleep(UInt32(rng.nextInt(below: 150_000)))
            } else {
                _ = waitFor(process, timeout: 5, interval: 50) {
                    ((try? FileManager.default.contentsOfDirectory(atPath: url(folder).path)) ?? []).contains { $0.contains(".tmp") }
                }
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTAssertTrue(saved, "try \(attempt): no latest.ckpt appeared before the kill")
            XCTAssertEqual(process.terminationReason, .uncaughtSignal, "try \(attempt): the run ended before the kill")
            let found = try checkFolder(folder)
            let step = try XCTUnwrap(found.step, "try \(attempt): latest.ckpt is gone after the kill")
            if found.temporaries > 0 { midWrite += 1 }
            // The run continues from whatever the kill left.
            let resumed = try TinyGPTProcess.run(["train", "--resume", "\(folder)/latest.ckpt", "--steps", "\(step + 2)",
                                                  "--data", "corpus.txt", "--threads", "2"], in: Self.work, logs: Self.logs)
            XCTAssertEqual(resumed.exitCode, 0, "try \(attempt): resuming after the kill failed: \(resumed.stderr)")
            let after = try Checkpoint(contentsOf: url("\(folder)/latest.ckpt").path)
            XCTAssertEqual(after.training?.step, step + 2)
            if resumed.exitCode == 0 && after.training?.step == step + 2 { survived += 1 }
            try? FileManager.default.removeItem(at: url(folder))
        }
        print("CrashSafetyTests: \(survived) of \(tries) kill -9s survived (\(midWrite) landed mid-write and left a temporary file)")
        XCTAssertEqual(survived, tries)
    }

    /// Ctrl-C in the middle of a run, then --resume: the end result is byte-identical to the
    /// same run never interrupted.
    func testInterruptThenResumeMatchesAnUninterruptedRun() throws {
        let (process, out) = try start(Self.run40 + ["--out", "interrupted", "--log-every", "1"])
        let reached = waitFor(process) { printed(out).contains("step 12/40") }
        kill(process.processIdentifier, SIGINT)
        XCTAssertTrue(TinyGPTProcess.wait(process, timeout: 60), "the run did not stop after Ctrl-C")
        XCTAssertTrue(reached, "the run never printed step 12: \(printed(out))")
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertTrue(printed(out).contains("interrupted at step"), printed(out))
        let step = try XCTUnwrap(try checkFolder("interrupted").step)
        XCTAssertTrue((12..<40).contains(step), "stopped at step \(step), expected shortly after 12")
        try resumeAndCompare("interrupted")
    }

    /// kill -9 in the middle of a run, then --resume from the last periodic save: the end
    /// result is byte-identical to the same run never interrupted.
    func testKillNineThenResumeMatchesAnUninterruptedRun() throws {
        let (process, out) = try start(Self.run40 + ["--out", "killed", "--log-every", "1"])
        let reached = waitFor(process) { printed(out).contains("step 22/40") }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertTrue(reached, "the run never printed step 22: \(printed(out))")
        XCTAssertEqual(process.terminationReason, .uncaughtSignal, "the run ended before the kill")
        let step = try XCTUnwrap(try checkFolder("killed").step)
        XCTAssertTrue(step % 5 == 0 && (20..<40).contains(step), "latest.ckpt is at step \(step), expected a periodic save from 20 on")
        try resumeAndCompare("killed")
    }

    /// A second Ctrl-C leaves at once with exit code 130, and still tears nothing.
    func testSecondInterruptExitsWith130() throws {
        let (process, out) = try start(["train", "--preset", "baby", "--steps", "1000", "--data", "corpus.txt", "--out", "twice",
                                        "--save-every", "1", "--log-every", "1", "--threads", "2"])
        XCTAssertTrue(waitFor(process) { printed(out).contains("step    2/1000") }, "the run never started: \(printed(out))")
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline {
            kill(process.processIdentifier, SIGINT)
            usleep(5_000)
        }
        XCTAssertTrue(TinyGPTProcess.wait(process, timeout: 10))
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 130)
        _ = try checkFolder("twice")
    }
}
