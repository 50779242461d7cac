// Issue 20 from the outside: the built `tinygpt` as a subprocess. No output flag writes over a
// checkpoint or the command's own input; resumes keep every log row; SIGHUP and SIGPIPE save
// and stop like Ctrl-C, a second Ctrl-C says why it left; a corpus cut short while it is read
// gives an error, never a crash; a planted lock link is not followed; and the messages of the
// issue say what is wrong and what to do.

import Foundation
import XCTest
@testable import TinyGPT

final class SafetyCLITests: XCTestCase {
    nonisolated(unsafe) static var work: URL!
    nonisolated(unsafe) static var logs: URL!
    nonisolated(unsafe) static var setupError: String?

    static let ckpt = "run/latest.ckpt"
    static let tiny = ["--preset", "tiny", "--data", "corpus.txt", "--threads", "1", "--eval-windows", "4"]

    override class func setUp() {
        super.setUp()
        do {
            work = try TinyGPTProcess.makeTemporaryFolder("safety-work")
            logs = try TinyGPTProcess.makeTemporaryFolder("safety-logs")
            try Data(TestCorpus.english().utf8).write(to: work.appendingPathComponent("corpus.txt"))
            guard TinyGPTProcess.executable != nil else { return }
            let train = try TinyGPTProcess.run(["train", "--steps", "20", "--out", "run"] + tiny, in: work, logs: logs)
            if train.exitCode != 0 { setupError = "training failed: \(train.stderr)" }
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

    private func url(_ relative: String) -> URL { Self.work.appendingPathComponent(relative) }

    private func run(_ arguments: [String], timeout: TimeInterval = 120) throws -> TinyGPTProcess.Outcome {
        try TinyGPTProcess.run(arguments, in: Self.work, logs: Self.logs, timeout: timeout)
    }

    private func start(_ arguments: [String]) throws -> (process: Process, out: URL, err: URL) {
        let id = UUID().uuidString
        let out = Self.logs.appendingPathComponent("\(id).out"), err = Self.logs.appendingPathComponent("\(id).err")
        return (try TinyGPTProcess.start(arguments, in: Self.work, stdout: out, stderr: err), out, err)
    }

    private func text(_ file: URL) -> String { String(decoding: (try? Data(contentsOf: file)) ?? Data(), as: UTF8.self) }

    /// Polls until `condition` holds; false when `process` ended first or 60 s passed.
    private func waitFor(_ process: Process, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if condition() { return true }
            if !process.isRunning { return condition() }
            usleep(2_000)
        }
        return false
    }

    private func assertRefused(_ outcome: TinyGPTProcess.Outcome, mentioning: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(outcome.exitCode, 1, outcome.stderr, file: file, line: line)
        XCTAssertEqual(outcome.stderrLines.count, 1, outcome.stderr, file: file, line: line)
        XCTAssertTrue(outcome.stderr.hasPrefix("tinygpt: refusing to write"), outcome.stderr, file: file, line: line)
        XCTAssertTrue(outcome.stderr.contains(mentioning), outcome.stderr, file: file, line: line)
    }

    // MARK: - Outputs

    func testNoOutputFlagWritesOverACheckpointOrAnInput() throws {
        let latest = try Data(contentsOf: url(Self.ckpt)), best = try Data(contentsOf: url("run/best.ckpt"))
        let log = try Data(contentsOf: url("run/train_log.csv"))
        try Data("my own notes\n".utf8).write(to: url("notes.html"))
        let c = Self.ckpt
        let cases: [([String], String)] = [
            (["compare", "--checkpoint", c, "--report", c, "--tokens", "5"], "own input"),
            (["inspect", "--checkpoint", c, "--prompt", "the", "--out", c], "own input"),
            (["export", c, "--out", c], "own input"),
            (["attention", "--checkpoint", c, "--prompt", "the", "--report", "run/best.ckpt"], "it is a checkpoint"),
            (["plot", "run/train_log.csv", "--out", "run/best.ckpt"], "it is a checkpoint"),
            (["plot", "run/train_log.csv", "--out", "run/train_log.csv"], "own input"),
            (["import", "w.safetensors", "--out", c], "it is a checkpoint"),
            (["inspect", "--checkpoint", c, "--prompt", "the", "--out", "notes.html"], "not written by tinygpt as a page"),
            (["export", c, "--out", "corpus.txt"], "not written by tinygpt as an export"),
        ]
        XCTAssertEqual(try run(["export", c, "--out", "w.safetensors"]).exitCode, 0)
        for (arguments, mentioning) in cases {
            assertRefused(try run(arguments), mentioning: mentioning)
        }
        XCTAssertEqual(try Data(contentsOf: url(Self.ckpt)), latest)
        XCTAssertEqual(try Data(contentsOf: url("run/best.ckpt")), best)
        XCTAssertEqual(try Data(contentsOf: url("run/train_log.csv")), log)
        XCTAssertEqual(try String(contentsOf: url("notes.html"), encoding: .utf8), "my own notes\n")
        // The way out works: another path; and a page replaces a page, an export an export.
        XCTAssertEqual(try run(["inspect", "--checkpoint", c, "--prompt", "the", "--out", "page.html"]).exitCode, 0)
        XCTAssertEqual(try run(["attention", "--checkpoint", c, "--prompt", "the", "--report", "page.html"]).exitCode, 0)
        XCTAssertEqual(try run(["export", c, "--out", "w.safetensors"]).exitCode, 0)
        XCTAssertEqual(try run(["plot", "run/train_log.csv", "--out", "run/loss.svg"]).exitCode, 0)
        XCTAssertEqual(try run(["report", "run"]).exitCode, 0)
    }

    // MARK: - Log rows

    private func loggedSteps(_ folder: String) throws -> [Int] {
        try TrainingLog.read(path: url(folder + "/train_log.csv").path).map(\.step)
    }

    func testResumeChainsKeepEveryLogRow() throws {
        let common = Self.tiny + ["--eval-every", "20", "--log-every", "10"]
        XCTAssertEqual(try run(["train", "--steps", "80", "--out", "whole"] + common).exitCode, 0)
        let expected = try loggedSteps("whole")
        XCTAssertEqual(expected, [10, 20, 30, 40, 50, 60, 70, 80])

        XCTAssertEqual(try run(["train", "--steps", "40", "--out", "chain"] + common).exitCode, 0)
        XCTAssertEqual(try loggedSteps("chain"), [10, 20, 30, 40])
        // A resume stopped as it starts (SIGTERM when it says "resuming": before its first
        // step, or a few steps in on a fast machine, where a step of this model takes well
        // under a millisecond) keeps every row.
        let early = try start(["train", "--resume", "chain/latest.ckpt", "--steps", "60"] + common)
        XCTAssertTrue(waitFor(early.process) { text(early.out).contains("resuming") }, text(early.err))
        kill(early.process.processIdentifier, SIGTERM)
        TinyGPTProcess.wait(early.process, timeout: 60)
        XCTAssertEqual(early.process.terminationStatus, 0, text(early.err))
        let stoppedAt = text(early.out).components(separatedBy: "interrupted at step ").dropFirst().first
            .flatMap { Int($0.prefix { $0.isNumber }) }
        XCTAssertTrue((40..<60).contains(stoppedAt ?? -1), text(early.out))
        XCTAssertEqual(Array(try loggedSteps("chain").prefix(4)), [10, 20, 30, 40])
        for steps in [60, 80] {
            let outcome = try run(["train", "--resume", "chain/latest.ckpt", "--steps", "\(steps)"] + common)
            XCTAssertEqual(outcome.exitCode, 0, outcome.stderr)
        }
        // (The schedule follows --steps, so these checkpoints differ from the whole run's;
        // CrashSafetyTests resume to the same total and compare bytes.)
        XCTAssertEqual(try loggedSteps("chain"), expected)
    }

    // MARK: - Signals

    private func stopWith(_ signal: Int32, folder: String) throws -> (process: Process, out: String, err: String) {
        let started = try start(["train", "--steps", "100000", "--out", folder, "--log-every", "1"] + Self.tiny)
        XCTAssertTrue(waitFor(started.process) { text(started.out).contains("step ") && text(started.out).contains("/100000") },
                      "no progress: \(text(started.err))")
        kill(started.process.processIdentifier, signal)
        XCTAssertTrue(TinyGPTProcess.wait(started.process, timeout: 60))
        return (started.process, text(started.out), text(started.err))
    }

    func testHangUpSavesAndStopsAsCtrlCDoes() throws {
        let (process, out, err) = try stopWith(SIGHUP, folder: "hup")
        XCTAssertEqual(process.terminationReason, .exit, err)
        XCTAssertEqual(process.terminationStatus, 0, err)
        XCTAssertTrue(out.contains("interrupted at step"), out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: url("hup/train.lock").path), "the lock was left behind")
        XCTAssertNotNil(try Checkpoint(contentsOf: url("hup/latest.ckpt").path).training)
    }

    func testASecondInterruptSaysWhyItLeaves() throws {
        let started = try start(["train", "--steps", "100000", "--out", "twice", "--log-every", "1"] + Self.tiny)
        XCTAssertTrue(waitFor(started.process) { text(started.out).contains("/100000") })
        // Two different signals, so the kernel cannot merge them into one.
        kill(started.process.processIdentifier, SIGTERM)
        kill(started.process.processIdentifier, SIGINT)
        XCTAssertTrue(TinyGPTProcess.wait(started.process, timeout: 60))
        let err = text(started.err)
        XCTAssertEqual(started.process.terminationStatus, 130, err)
        XCTAssertEqual(err, "tinygpt: a second interrupt: stopping at once without saving; the last saved checkpoint is kept\n")
    }

    func testABrokenStdoutPipeSavesAndStops() throws {
        guard let executable = TinyGPTProcess.executable else { return }
        let process = Process()
        process.executableURL = executable
        process.arguments = ["train", "--steps", "100000", "--out", "piped", "--log-every", "1"] + Self.tiny
        process.currentDirectoryURL = Self.work
        let pipe = Pipe(), err = Self.logs.appendingPathComponent(UUID().uuidString + ".err")
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = pipe
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read until a step line, then go away, as `head` does.
        var seen = ""
        while !seen.contains("/100000") {
            let data = pipe.fileHandleForReading.availableData
            if data.isEmpty { break }
            seen += String(decoding: data, as: UTF8.self)
        }
        try pipe.fileHandleForReading.close()
        XCTAssertTrue(TinyGPTProcess.wait(process, timeout: 60))
        let stderr = text(err)
        XCTAssertEqual(process.terminationReason, .exit, "killed by SIGPIPE: \(stderr)")
        XCTAssertEqual(process.terminationStatus, 0, stderr)
        XCTAssertTrue(stderr.contains("tinygpt: interrupted at step"), stderr)
        XCTAssertTrue(stderr.contains("continue with: tinygpt train --resume piped/latest.ckpt"), stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: url("piped/train.lock").path))
        XCTAssertNotNil(try Checkpoint(contentsOf: url("piped/latest.ckpt").path).training)
    }

    // MARK: - The corpus, the lock, the readers

    func testCorpusCutShortDuringLoadIsNeverACrash() throws {
        let big = url("moving.txt")
        let text = String(repeating: TestCorpus.english(), count: 4000)  // about 25 MB
        for delay: UInt32 in [0, 20_000, 100_000, 300_000] {
            try Data(text.utf8).write(to: big)
            let started = try start(["train", "--data", "moving.txt", "--preset", "tiny", "--steps", "2", "--out", "moving-\(delay)"])
            usleep(delay)
            XCTAssertEqual(truncate(big.path, 1000), 0)
            XCTAssertTrue(TinyGPTProcess.wait(started.process, timeout: 120))
            let err = self.text(started.err)
            XCTAssertEqual(started.process.terminationReason, .exit, "crashed after \(delay) µs: \(err)")
            XCTAssertFalse(err.contains("crashed"), err)
            if started.process.terminationStatus != 0 {
                XCTAssertEqual(err.split(separator: "\n").count, 1, err)
            }
        }
    }

    func testAPlantedLockLinkIsNotFollowed() throws {
        try Data("precious\n".utf8).write(to: url("precious.txt"))
        try FileManager.default.createDirectory(at: url("planted"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: url("planted/train.lock").path, withDestinationPath: "../precious.txt")
        let outcome = try run(["train", "--steps", "2", "--out", "planted"] + Self.tiny)
        XCTAssertEqual(outcome.exitCode, 1)
        XCTAssertEqual(outcome.stderrLines.count, 1, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("is a symbolic link"), outcome.stderr)
        XCTAssertEqual(try String(contentsOf: url("precious.txt"), encoding: .utf8), "precious\n")
        XCTAssertNotNil(try? FileManager.default.destinationOfSymbolicLink(atPath: url("planted/train.lock").path))
    }

    func testAnotherUsersFolderSendsTheRunToANumberedSibling() throws {
        // Needs a second user: runs only as root with runuser (as on the project's CI machines).
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser"),
              let executable = TinyGPTProcess.executable else { throw XCTSkip("needs root and runuser to act as a second user") }
        let shared = url("shared")
        try FileManager.default.createDirectory(at: shared.appendingPathComponent("mine"), withIntermediateDirectories: true)
        XCTAssertEqual(chmod(shared.path, 0o1777), 0)
        XCTAssertEqual(chmod(Self.work.path, 0o755), 0)
        try Data(TestCorpus.english().utf8).write(to: shared.appendingPathComponent("corpus.txt"))
        let outcome = try TinyGPTProcess.run(["-u", "nobody", "--", executable.path, "train", "--steps", "2", "--out", "mine"] + Self.tiny,
                                             in: shared, logs: Self.logs, executable: URL(fileURLWithPath: "/usr/sbin/runuser"))
        if outcome.stderr.contains("Permission denied") && !outcome.stderr.hasPrefix("tinygpt:") {
            throw XCTSkip("user nobody cannot reach the test binary: \(outcome.stderr)")
        }
        XCTAssertEqual(outcome.exitCode, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("mine is not yours to write, so this one goes to mine-2"), outcome.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: shared.appendingPathComponent("mine-2/latest.ckpt").path))
    }

    func testInfoRefusesHugeFilesAtOnce() throws {
        let file = url("huge.bin")
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        XCTAssertEqual(truncate(file.path, 8 << 30), 0)
        defer { try? FileManager.default.removeItem(at: file) }
        let start = Date()
        let outcome = try run(["info", "huge.bin"], timeout: 30)
        XCTAssertEqual(outcome.exitCode, 1)
        XCTAssertTrue(outcome.stderr.contains("is not a tinygpt checkpoint"), outcome.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(start), 10, "info read the file instead of its first bytes")
    }

    // MARK: - Messages

    func testMessagesSayWhatIsWrongAndWhatToDo() throws {
        try Data([0xEF, 0xBB, 0xBF]).write(to: url("bom.txt"))
        try Data("hi there\n".utf8).write(to: url("short.txt"))
        try FileManager.default.createDirectory(at: url("locked/train.lock"), withIntermediateDirectories: true)
        let cases: [([String], Int32, String)] = [
            (["train", "--data", "bom.txt", "--out", "bom"], 1, "holds only a byte-order mark and no text"),
            (["train", "--data", "/dev/zero", "--out", "zero"], 1, "is not a regular file (it is a device)"),
            (["eval", "--checkpoint", Self.ckpt, "--data", "/dev/zero"], 1, "is not a regular file (it is a device)"),
            (["sample", "--checkpoint", Self.ckpt, "--top-p", "2"], 2, "must be in (0, 1]"),
            (["sample", "--checkpoint", Self.ckpt, "--greedy", "--temperature", "0.5"], 2, "contradict each other"),
            (["train", "--steps", "2", "--out", "locked"] + Self.tiny, 1, "is a folder, where tinygpt keeps its lock file; remove it"),
            (["gradcheck", "--checkpoint", Self.ckpt, "--data", "short.txt"], 1, "too short"),
        ]
        for (arguments, code, mentioning) in cases {
            let outcome = try run(arguments)
            XCTAssertEqual(outcome.exitCode, code, "\(arguments): \(outcome.stderr)")
            XCTAssertEqual(outcome.stderrLines.count, 1, "\(arguments): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.contains(mentioning), "\(arguments): \(outcome.stderr)")
            XCTAssertFalse(outcome.stderr.contains("--context"), "gradcheck takes no --context: \(outcome.stderr)")
        }
    }
}
