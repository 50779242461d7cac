// RunFolder, RunLock, CheckpointFinder and the resume conflicts of TrainingPlan.Overrides inside one process: which folder a
// run gets, what the lock refuses and what it lets through, which checkpoint is "the newest",
// and which restated settings a resume accepts. CLI/RunFolderCLITests runs the same rules
// through the executable, with real concurrent and killed processes.

import Foundation
import XCTest
@testable import TinyGPT

final class RunFolderTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = try TinyGPTProcess.makeTemporaryFolder("runfolder")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    private func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    private func put(_ relative: String, _ text: String = "x", modified: Date? = nil) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        if let modified { try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: url.path) }
    }

    // MARK: - Choosing a folder

    func testANewRunGetsTheFolderAskedForWhenItHoldsNoRun() throws {
        let folder = try RunFolder.forNewRun(path("run"))
        defer { folder.release() }
        XCTAssertEqual(folder.path, path("run"))
        XCTAssertFalse(folder.isNumbered)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("run/train.lock")))
        XCTAssertEqual(try String(contentsOfFile: path("run/train.lock"), encoding: .utf8), "\(getpid())\n")
        folder.release()
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("run/train.lock")), "release removes the lock file")
    }

    func testAFolderHoldingARunIsLeftAloneAndTheNextNumberIsUsed() throws {
        try put("run/latest.ckpt", "first run")
        try put("run-2/train_log.csv", "second run")
        try put("run-3/notes.txt", "not a run")
        let folder = try RunFolder.forNewRun(path("run") + "/")
        defer { folder.release() }
        XCTAssertEqual(folder.path, path("run-3"), "run and run-2 hold runs; run-3 holds only other files")
        XCTAssertEqual(folder.requested, path("run"))
        XCTAssertTrue(folder.isNumbered)
        XCTAssertEqual(try String(contentsOfFile: path("run/latest.ckpt"), encoding: .utf8), "first run")
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: path("run"))), ["latest.ckpt"])
    }

    func testHiddenTemporariesAndTheLockDoNotMakeARun() throws {
        try put("run/.latest.ckpt.tmp-1-abc")
        try put("run/train.lock", "99999999\n")
        XCTAssertFalse(RunFolder.holdsRun(path("run")))
        try put("run/step-0000010.ckpt")
        XCTAssertTrue(RunFolder.holdsRun(path("run")))
    }

    func testAFileInThePlaceOfTheFolderIsRefused() throws {
        try put("run")
        XCTAssertThrowsError(try RunFolder.forNewRun(path("run"))) { error in
            XCTAssertTrue("\(error)".contains("is a file, not a folder"), "\(error)")
        }
    }

    // MARK: - The lock

    func testASecondLockIsRefusedNamingTheHolder() throws {
        try FileManager.default.createDirectory(atPath: path("run"), withIntermediateDirectories: true)
        let first = try RunLock(folder: path("run"))
        XCTAssertThrowsError(try RunLock(folder: path("run"))) { error in
            let message = (error as? TinyGPTError)?.message ?? "\(error)"
            XCTAssertTrue(message.contains("(process \(getpid()))"), message)
            XCTAssertFalse(message.contains("\n"))
        }
        XCTAssertThrowsError(try RunFolder.forNewRun(path("run")), "a busy folder is refused, not numbered around")
        first.release()
        let second = try RunLock(folder: path("run"))
        second.release()
    }

    /// A lock file left by a killed process holds a pid but no lock: it never blocks.
    func testAStaleLockFileDoesNotBlock() throws {
        try put("run/train.lock", "4194303\n")
        let folder = try RunFolder.forNewRun(path("run"))
        defer { folder.release() }
        XCTAssertEqual(folder.path, path("run"))
        XCTAssertEqual(try String(contentsOfFile: path("run/train.lock"), encoding: .utf8), "\(getpid())\n")
    }

    func testNumberingSkipsAFolderABusyRunHolds() throws {
        try put("run/latest.ckpt")
        try FileManager.default.createDirectory(atPath: path("run-2"), withIntermediateDirectories: true)
        let busy = try RunLock(folder: path("run-2"))
        defer { busy.release() }
        let folder = try RunFolder.forNewRun(path("run"))
        defer { folder.release() }
        XCTAssertEqual(folder.path, path("run-3"))
    }

    // MARK: - Resuming

    func testResumingLatestContinuesInItsOwnFolder() throws {
        try put("run-2/latest.ckpt")
        try put("run-2/best.ckpt")
        let own = try RunFolder.forResuming(path("run-2/latest.ckpt"), requested: nil)
        XCTAssertEqual(own.path, path("run-2"))
        own.release()
        // Retyping the first command's --out (the base of the numbered folder) also continues there.
        let retyped = try RunFolder.forResuming(path("run-2/latest.ckpt"), requested: path("run"))
        XCTAssertEqual(retyped.path, path("run-2"))
        XCTAssertFalse(retyped.isNumbered)
        retyped.release()
    }

    func testResumingAnOlderCheckpointStartsANewFolder() throws {
        try put("run/latest.ckpt", "step 40")
        try put("run/step-0000035.ckpt", "step 35")
        let folder = try RunFolder.forResuming(path("run/step-0000035.ckpt"), requested: nil)
        defer { folder.release() }
        XCTAssertEqual(folder.path, path("run-2"), "continuing from step 35 in run would overwrite its step-40 latest.ckpt")
    }

    func testResumingIntoAnotherFolderThatHoldsARunIsNumbered() throws {
        try put("run/latest.ckpt")
        try put("other/latest.ckpt")
        let folder = try RunFolder.forResuming(path("run/latest.ckpt"), requested: path("other"))
        defer { folder.release() }
        XCTAssertEqual(folder.path, path("other-2"))
    }

    func testResumingABusyRunIsRefused() throws {
        try put("run/latest.ckpt")
        let running = try RunLock(folder: path("run"))
        defer { running.release() }
        XCTAssertThrowsError(try RunFolder.forResuming(path("run/latest.ckpt"), requested: nil))
    }

    func testNumberedNames() {
        XCTAssertTrue(RunFolder.isNumbered("a/run-2", from: "a/run"))
        XCTAssertTrue(RunFolder.isNumbered("a/run-17", from: "a/run/"))
        XCTAssertFalse(RunFolder.isNumbered("a/run-1", from: "a/run"))
        XCTAssertFalse(RunFolder.isNumbered("a/run-x", from: "a/run"))
        XCTAssertFalse(RunFolder.isNumbered("a/run", from: "a/run"))
        XCTAssertFalse(RunFolder.isNumbered("a/runs-2", from: "a/run"))
        XCTAssertEqual(RunFolder.cleaned("out///"), "out")
        XCTAssertEqual(RunFolder.cleaned(""), ".")
        XCTAssertFalse(RunFolder.numberingBase(".").hasSuffix("."))
        XCTAssertEqual(RunFolder.numberingBase("a/run"), "a/run")
    }

    // MARK: - The newest model

    func testTheNewestLatestCheckpointIsFoundAcrossNumberedFolders() throws {
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        XCTAssertNil(CheckpointFinder.newest(under: path("Checkpoints")))
        try put("Checkpoints/lighthouse/latest.ckpt", modified: t)
        try put("Checkpoints/lighthouse/step-0000300.ckpt", modified: t.addingTimeInterval(50))
        XCTAssertEqual(CheckpointFinder.newest(under: path("Checkpoints")), path("Checkpoints/lighthouse/latest.ckpt"),
                       "latest.ckpt is preferred over a step checkpoint")
        try put("Checkpoints/lighthouse-2/latest.ckpt", modified: t.addingTimeInterval(10))
        XCTAssertEqual(CheckpointFinder.newest(under: path("Checkpoints")), path("Checkpoints/lighthouse-2/latest.ckpt"))
        // Resuming the first run later makes it the newest again.
        try put("Checkpoints/lighthouse/latest.ckpt", modified: t.addingTimeInterval(20))
        XCTAssertEqual(CheckpointFinder.newest(under: path("Checkpoints")), path("Checkpoints/lighthouse/latest.ckpt"))
        // Equal times go to the higher-numbered run.
        try put("Checkpoints/lighthouse-10/latest.ckpt", modified: t.addingTimeInterval(20))
        try put("Checkpoints/lighthouse-9/latest.ckpt", modified: t.addingTimeInterval(20))
        XCTAssertEqual(CheckpointFinder.newest(under: path("Checkpoints")), path("Checkpoints/lighthouse-10/latest.ckpt"))
        // A temporary file of a save in progress is never a candidate.
        try put("Checkpoints/lighthouse-11/.latest.ckpt.tmp-1-ab", modified: t.addingTimeInterval(99))
        XCTAssertEqual(CheckpointFinder.newest(under: path("Checkpoints")), path("Checkpoints/lighthouse-10/latest.ckpt"))
    }

    func testWithoutLatestTheNewestCheckpointIsFound() throws {
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        try put("Checkpoints/a/weights.ckpt", modified: t)
        try put("Checkpoints/b/imported.ckpt", modified: t.addingTimeInterval(1))
        XCTAssertEqual(CheckpointFinder.newest(under: path("Checkpoints")), path("Checkpoints/b/imported.ckpt"))
    }

    // MARK: - Restated settings on resume

    private func saved() -> (GPTConfig, TrainingConfig) {
        let config = GPTConfig(vocabSize: 20, contextLength: 32, layerCount: 2, headCount: 2, modelWidth: 64)
        var settings = TrainingConfig()
        settings.batchSize = 8
        settings.steps = 40
        settings.learningRate = 2e-3
        settings.minLearningRate = 2e-3 / 10
        settings.warmupSteps = 20  // 100 asked, capped at steps / 2
        settings.evalInterval = 10
        return (config, settings)
    }

    func testRestatingTheCheckpointsValuesIsAccepted() {
        let (config, settings) = saved()
        var asked = TrainingPlan.Overrides()
        asked.layerCount = 2
        asked.headCount = 2
        asked.modelWidth = 64
        asked.contextLength = 32
        asked.gelu = .tanh
        asked.batchSize = 8
        asked.learningRate = Float("0.002")
        asked.minLearningRate = Float("0.0002")  // typed; the run computed 0.002 / 10
        asked.warmupSteps = 100
        asked.seed = 1337
        asked.evalInterval = 10
        XCTAssertEqual(asked.conflicts(config: config, settings: settings), [])
        XCTAssertEqual(TrainingPlan.Overrides().conflicts(config: config, settings: settings), [], "nothing asked, nothing conflicts")
    }

    func testADifferentValueIsAConflictNamingTheCheckpointsValue() {
        let (config, settings) = saved()
        var asked = TrainingPlan.Overrides()
        asked.layerCount = 6
        asked.learningRate = 1e-3
        asked.warmupSteps = 10
        asked.dropout = 0.1
        XCTAssertEqual(asked.conflicts(config: config, settings: settings), [
            .init(field: "layerCount", saved: "2 layers"),
            .init(field: "learningRate", saved: "learning rate 0.002"),
            .init(field: "warmupSteps", saved: "warmup 20 steps"),
            .init(field: "dropout", saved: "dropout 0.0"),
        ])
    }
}
