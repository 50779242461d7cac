// The library's side of "no command destroys a model, a log row or a file it does not own":
// the output rule (Support/OutputFile.swift), the training log kept across resumes, the lock
// that follows no link, the corpus read without a memory map, and readers that check what a
// file declares against its length before reading it.

import Foundation
import XCTest
@testable import TinyGPT
@testable import TinyGPTViews

final class OutputSafetyTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("tinygpt-safety-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    private func write(_ name: String, _ text: String) throws -> String {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    private func message(_ body: () throws -> Void) -> String? {
        do { try body() } catch let error as TinyGPTError { return error.message } catch { return "\(error)" }
        return nil
    }

    private static func tinyCheckpoint() -> Checkpoint {
        let config = GPTConfig(vocabSize: 3, contextLength: 4, layerCount: 1, headCount: 1, modelWidth: 4)
        var rng = RandomGenerator(seed: 3)
        let parameters = randomFloats(ParameterLayout(config).totalCount, scale: 0.1, &rng)
        return Checkpoint(config: config, vocabulary: [0x61, 0x62, 0x63], parameters: parameters, training: nil)
    }

    // MARK: - The output rule

    func testEveryKindRecognisesWhatItsWriterWrites() throws {
        let checkpoint = Self.tinyCheckpoint()
        let samples: [OutputKind: [UInt8]] = [
            .page: Array(HTMLPage(title: "t").render().utf8),
            .chart: Array(LossPlot(rows: [TrainingLogRow(step: 1, batchLoss: 2, learningRate: 0.1, tokensPerSecond: 1, elapsedSeconds: 1)],
                                   title: "t").svg().utf8),
            .export: try ModelExport.safetensorsBytes(checkpoint),
            .sidecar: Array(try ModelExport.sidecarJSON(checkpoint).utf8),
            .runCheckpoint: checkpoint.encoded(),
            .trainingLog: Array((TrainingLog.header + "\n1,2.0,,0.1,1.0,1.0\n").utf8),
            .records: Array("{\"clipThreshold\":1,\"step\":10}\n".utf8),
        ]
        for (kind, bytes) in samples {
            XCTAssertTrue(kind.recognises(Array(bytes.prefix(4096))), "\(kind) does not recognise its own output")
            for other in OutputKind.allCases where other != kind && !(kind == .runCheckpoint && other == .checkpoint) {
                XCTAssertFalse(other.recognises(Array(bytes.prefix(4096))), "\(other) takes \(kind)'s output for its own")
            }
        }
        XCTAssertFalse(OutputKind.checkpoint.recognises(checkpoint.encoded()), "import must never replace a checkpoint")
    }

    func testExportDataIsReplacedOnlyBesideItsOwnSidecar() throws {
        let ids = try write("train.bin", "\u{1}\u{0}\u{2}\u{0}")
        let sidecar = path("export.json")
        // No sidecar of tinygpt's beside it: the file may be the user's, and is kept.
        XCTAssertThrowsError(try OutputFile.check(ids, as: .exportData, vouchedBy: (sidecar, .sidecar)))
        _ = try write("export.json", try ModelExport.sidecarJSON(Self.tinyCheckpoint()))
        XCTAssertNoThrow(try OutputFile.check(ids, as: .exportData, vouchedBy: (sidecar, .sidecar)))
        // A checkpoint is never replaced, vouched for or not.
        let checkpointPath = path("val.bin")
        try Self.tinyCheckpoint().write(to: checkpointPath)
        XCTAssertThrowsError(try OutputFile.check(checkpointPath, as: .exportData, vouchedBy: (sidecar, .sidecar)))
    }

    func testRefusesCheckpointsInputsAndForeignFiles() throws {
        let checkpointPath = path("model.ckpt")
        try Self.tinyCheckpoint().write(to: checkpointPath)
        let notes = try write("notes.html", "<html>my notes</html>")
        let page = try write("old.html", HTMLPage(title: "old").render())
        let empty = try write("empty.html", "")
        let log = try write("train_log.csv", TrainingLog.header + "\n")

        for kind in OutputKind.allCases where kind != .runCheckpoint {
            let text = message { try OutputFile.check(checkpointPath, as: kind, flag: "--out") }
            XCTAssertEqual(text, "refusing to write \(checkpointPath): it is a checkpoint, and tinygpt never writes over one; give --out another path, or move the checkpoint away first", "\(kind)")
        }
        XCTAssertNil(message { try OutputFile.check(checkpointPath, as: .runCheckpoint) }, "train replaces its own checkpoints")
        XCTAssertEqual(message { try OutputFile.check(notes, as: .page, flag: "--report") },
                       "refusing to write \(notes): it was not written by tinygpt as a page (it does not start like one); give --report another path, or remove it first (rm \(notes))")
        XCTAssertNil(message { try OutputFile.check(page, as: .page) }, "a page replaces an older page")
        XCTAssertNil(message { try OutputFile.check(empty, as: .page) }, "an empty file holds nothing to lose")
        XCTAssertNil(message { try OutputFile.check(path("new.html"), as: .page) })
        XCTAssertTrue(message { try OutputFile.check(page, as: .page, inputs: [page], flag: "--out") }?
            .hasPrefix("refusing to write \(page): it is this command's own input") ?? false)
        // The same file under another name is still the input.
        let link = path("alias.csv")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: log)
        XCTAssertNotNil(message { try OutputFile.check(path("train_log.csv"), as: .chart, inputs: [link]) })
        XCTAssertTrue(message { try OutputFile.check(log, as: .chart, inputs: [link], flag: "--out") }?.contains("own input") ?? false)
        XCTAssertTrue(message { try OutputFile.check(path("missing/x.html"), as: .page, flag: "--out") }?.contains("no such folder") ?? false)
        XCTAssertTrue(message { try OutputFile.check(folder.path, as: .page, flag: "--out") }?.contains("is a folder") ?? false)
        XCTAssertTrue(message { try OutputFile.check("/dev/null", as: .page) }?.contains("a device") ?? false)
        // The write goes through the same check, and leaves a refused file as it was.
        XCTAssertNotNil(message { try OutputFile.write(Array("x".utf8), to: notes, as: .page) })
        XCTAssertEqual(try String(contentsOfFile: notes, encoding: .utf8), "<html>my notes</html>")
        XCTAssertNotNil(message { try Self.tinyCheckpoint().write(to: notes) })
        XCTAssertNotNil(message { try Self.tinyCheckpoint().write(to: checkpointPath, as: .checkpoint) })
    }

    func testExportRefusesBeforeWritingEither() throws {
        let checkpointPath = path("model.ckpt")
        let checkpoint = Self.tinyCheckpoint()
        try checkpoint.write(to: checkpointPath)
        let sidecar = try write("w.json", "{\"mine\": true}")
        XCTAssertNotNil(message { try ModelExport.exportSafetensors(checkpoint, to: self.path("w.safetensors"), inputs: [checkpointPath]) })
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("w.safetensors")))
        XCTAssertEqual(try String(contentsOfFile: sidecar, encoding: .utf8), "{\"mine\": true}")
        try FileManager.default.removeItem(atPath: sidecar)
        try ModelExport.exportSafetensors(checkpoint, to: path("w.safetensors"))
        try ModelExport.exportSafetensors(checkpoint, to: path("w.safetensors"))  // an export replaces an export
        XCTAssertNotNil(message { try ModelExport.exportSafetensors(checkpoint, to: checkpointPath) })
    }

    // MARK: - The training log across resumes

    private func row(_ step: Int, validation: Double? = nil) -> TrainingLogRow {
        TrainingLogRow(step: step, batchLoss: Double(step), validationLoss: validation, learningRate: 0.001,
                       tokensPerSecond: 100, elapsedSeconds: Double(step))
    }

    func testResumeKeepsTheResumedStepsRowThroughChains() throws {
        let log = path("train_log.csv")
        var writer: TrainingLogWriter? = try TrainingLogWriter(path: log)
        for step in stride(from: 10, through: 40, by: 10) { try writer!.append(row(step, validation: 1)) }
        writer = nil
        // Resume at 40 (the checkpoint saved after row 40 was written), then again at 60.
        writer = try TrainingLogWriter(path: log, resumingAt: 40)
        for step in [50, 60] { try writer!.append(row(step, validation: 1)) }
        writer = nil
        writer = try TrainingLogWriter(path: log, resumingAt: 60)
        for step in [70, 80] { try writer!.append(row(step)) }
        writer = nil
        XCTAssertEqual(try TrainingLog.read(path: log).map(\.step), [10, 20, 30, 40, 50, 60, 70, 80])
        // A resume stopped before its first step keeps every row up to its step, and drops only
        // the rows a later run logged after the checkpoint (they are logged again).
        writer = try TrainingLogWriter(path: log, resumingAt: 60)
        writer = nil
        XCTAssertEqual(try TrainingLog.read(path: log).map(\.step), [10, 20, 30, 40, 50, 60])
        writer = try TrainingLogWriter(path: log, resumingAt: 60)
        writer = nil
        XCTAssertEqual(try TrainingLog.read(path: log).map(\.step), [10, 20, 30, 40, 50, 60])
        // A run continued in a new folder brings its rows along.
        let moved = path("moved.csv")
        writer = try TrainingLogWriter(path: moved, resumingAt: 40, carryingFrom: log)
        writer = nil
        XCTAssertEqual(try TrainingLog.read(path: moved).map(\.step), [10, 20, 30, 40])
        // A file that is not a training log is never replaced.
        let notes = try write("notes.csv", "a,b\n1,2\n")
        XCTAssertNotNil(message { _ = try TrainingLogWriter(path: notes) })
        XCTAssertEqual(try String(contentsOfFile: notes, encoding: .utf8), "a,b\n1,2\n")
    }

    // MARK: - The lock

    func testLockFollowsNoLinkAndTakesOnlyARegularFile() throws {
        let victim = try write("precious.txt", "keep me\n")
        let run = path("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: run + "/train.lock", withDestinationPath: victim)
        XCTAssertEqual(message { _ = try RunLock(folder: run) },
                       "\(run)/train.lock is a symbolic link, and tinygpt never follows one there (it could point at any of your files); remove it (rm \(run)/train.lock) or train into another folder")
        XCTAssertNotNil(message { _ = try RunFolder.forNewRun(run) })
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "keep me\n")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: run + "/train.lock"), victim)

        let other = path("other")
        try FileManager.default.createDirectory(atPath: other + "/train.lock", withIntermediateDirectories: true)
        XCTAssertEqual(message { _ = try RunLock(folder: other) },
                       "\(other)/train.lock is a folder, where tinygpt keeps its lock file; remove it (rmdir \(other)/train.lock) or train into another folder")
        let fifoFolder = path("fifo")
        try FileManager.default.createDirectory(atPath: fifoFolder, withIntermediateDirectories: true)
        XCTAssertEqual(mkfifo(fifoFolder + "/train.lock", 0o644), 0)
        XCTAssertTrue(message { _ = try RunLock(folder: fifoFolder) }?.contains("is a FIFO (named pipe), not a lock file") ?? false)

        let fine = path("fine")
        try FileManager.default.createDirectory(atPath: fine, withIntermediateDirectories: true)
        let lock = try RunLock(folder: fine)
        XCTAssertEqual(try String(contentsOfFile: fine + "/train.lock", encoding: .utf8), "\(getpid())\n")
        lock.release()
        XCTAssertFalse(FileManager.default.fileExists(atPath: fine + "/train.lock"))
    }

    // MARK: - The corpus

    func testCorpusReadInPiecesDecodesCharactersCutAtEveryBoundary() throws {
        // Past one 4 MB piece, with 1-, 2-, 3- and 4-byte characters falling across its end.
        let unit = "a¢中😀"
        var text = String(repeating: unit, count: (TextFile.Source.pieceSize / unit.utf8.count) + 40)
        text += "\nend"
        let file = try write("big.txt", text)
        XCTAssertEqual(try TextFile.readScalars(file), text.unicodeScalars.map(\.value))
        for shift in 1...3 {
            let shifted = String(repeating: "x", count: shift) + text
            let shiftedFile = try write("big\(shift).txt", shifted)
            let (tokenizer, tokens) = try TextFile.readTokens(shiftedFile)
            XCTAssertEqual(tokens.count, shifted.unicodeScalars.count)
            XCTAssertEqual(tokenizer.vocabSize, 9)  // a ¢ 中 😀 x, the newline, e n d
        }
        // A bad byte far into the file is named by its offset in the whole file.
        var bytes = Array(String(repeating: "a", count: TextFile.Source.pieceSize + 10).utf8)
        bytes[TextFile.Source.pieceSize + 5] = 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path("bad.txt")))
        XCTAssertTrue(message { _ = try TextFile.readTokens(self.path("bad.txt")) }?.contains("at offset \(TextFile.Source.pieceSize + 5)") ?? false)
    }

    func testCorpusMessagesSayWhatIsWrong() throws {
        let bom = path("bom.txt")
        try Data([0xEF, 0xBB, 0xBF]).write(to: URL(fileURLWithPath: bom))
        XCTAssertEqual(message { _ = try TextFile.readTokens(bom) },
                       "\(bom) holds only a byte-order mark and no text; give a file with some text in it")
        XCTAssertEqual(message { _ = try TextFile.readTokens("/dev/zero") },
                       "/dev/zero is not a regular file (it is a device); give a UTF-8 text file saved on disk")
        let fifo = path("pipe.txt")
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        XCTAssertTrue(message { _ = try TextFile.readTokens(fifo) }?.contains("a FIFO (named pipe)") ?? false)
    }

    func testCorpusChangedWhileReadIsAClearErrorOrTheOldContents() throws {
        let file = path("moving.txt")
        let text = String(repeating: "the keeper climbed to the lamp\n", count: 200_000)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        // Cut short while the source is open: an error naming the change, never a crash.
        let source = try TextFile.Source(file)
        XCTAssertEqual(truncate(file, 1000), 0)
        XCTAssertTrue(message { try source.forEachScalar { _ in } }?.contains("changed while it was being read") ?? false)
        source.close()
        // Replaced by rename while open: the old contents, whole.
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        let again = try TextFile.Source(file)
        try Data("new".utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        var count = 0
        try again.forEachScalar { _ in count += 1 }
        try again.checkUnchanged()
        again.close()
        XCTAssertEqual(count, text.unicodeScalars.count)
        // Grown while open: the check at the end says so.
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        let grown = try TextFile.Source(file)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: file))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("more\n".utf8))
        try handle.close()
        try grown.forEachScalar { _ in }
        XCTAssertTrue(message { try grown.checkUnchanged() }?.contains("changed while it was being read") ?? false)
        grown.close()
    }

    // MARK: - Readers check before they read

    /// A sparse file of `size` bytes starting with `head`.
    private func sparse(_ name: String, size: Int, head: [UInt8]) throws -> String {
        let file = path(name)
        try Data(head).write(to: URL(fileURLWithPath: file))
        XCTAssertEqual(truncate(file, off_t(size)), 0)
        return file
    }

    func testCheckpointReaderRefusesHugeFilesFromTheirFirstBytes() throws {
        let gigabytes = 1 << 30
        let encoded = Self.tinyCheckpoint().encoded()
        var cases: [(String, [UInt8], String)] = [
            ("zeros.bin", [], "is not a tinygpt checkpoint"),
            ("padded.ckpt", encoded, "extra bytes follow its last section"),
        ]
        // A frame that claims more than the file holds, and weights the config does not need.
        var lying = encoded
        let parameterFrame = CheckpointFormat.headerSize + CheckpointFormat.frameSize + CheckpointFormat.configSize
            + 12 + 3 + 4
        XCTAssertEqual(String(decoding: lying[parameterFrame..<parameterFrame + 4], as: UTF8.self), "parm")
        lying.replaceSubrange(parameterFrame + 4..<parameterFrame + 12, with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian, Array.init))
        cases.append(("lying.ckpt", lying, "claims 1099511627776 bytes"))
        var wrongSize = encoded
        wrongSize.replaceSubrange(parameterFrame + 4..<parameterFrame + 12, with: withUnsafeBytes(of: UInt64(4 << 30).littleEndian, Array.init))
        cases.append(("wrong.ckpt", wrongSize, "but the model config needs"))
        for (name, head, expected) in cases {
            let file = try sparse(name, size: 8 * gigabytes, head: head)
            let start = Date()
            let text = message { _ = try Checkpoint(contentsOf: file) }
            XCTAssertTrue(text?.contains(expected) ?? false, "\(name): \(text ?? "no error")")
            XCTAssertLessThan(Date().timeIntervalSince(start), 1, "\(name) was read instead of refused")
            try FileManager.default.removeItem(atPath: file)
        }
        // A checkpoint under the limit is still read and named exactly by the full decoder.
        let small = path("small.ckpt")
        try Data(encoded).write(to: URL(fileURLWithPath: small))
        XCTAssertEqual(try Checkpoint(contentsOf: small), Self.tinyCheckpoint())
    }

    func testSafetensorsImportChecksTheHeaderAgainstTheFileFirst() throws {
        let checkpoint = Self.tinyCheckpoint()
        let bytes = try ModelExport.safetensorsBytes(checkpoint)
        let sidecar = try ModelExport.sidecarJSON(checkpoint)
        try Data(sidecar.utf8).write(to: URL(fileURLWithPath: path("w.json")))
        let padded = try sparse("w.safetensors", size: 8 << 30, head: bytes)
        let start = Date()
        let text = message { _ = try ModelExport.importSafetensors(path: padded) }
        XCTAssertTrue(text?.contains("the data buffer holds") ?? false, text ?? "no error")
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
        try Data(bytes).write(to: URL(fileURLWithPath: padded))
        XCTAssertEqual(try ModelExport.importSafetensors(path: padded).parameters, checkpoint.parameters)
    }

    // MARK: - Progress and the platform

    func testEvaluationReportsProgressToTheEnd() throws {
        let config = GPTConfig(vocabSize: 5, contextLength: 8, layerCount: 1, headCount: 1, modelWidth: 8)
        var rng = RandomGenerator(seed: 1)
        let model = GPT(config: config, parameters: randomFloats(ParameterLayout(config).totalCount, scale: 0.1, &rng),
                        context: KernelContext(threads: 1))
        let tokens = randomTokens(500, below: 5, &rng)
        var seen: [Int] = []
        let score = try Evaluation.score(model: model, tokens: tokens) { done, total in
            XCTAssertEqual(total, tokens.count - 1)
            seen.append(done)
        }
        XCTAssertEqual(seen, seen.sorted())
        XCTAssertEqual(seen.last, tokens.count - 1)
        XCTAssertEqual(score.positions, tokens.count - 1)
        XCTAssertEqual(try Evaluation.score(model: model, tokens: tokens).loss, score.loss)
    }

    func testPlatformReportsFilesAndMemory() throws {
        let file = try write("f.txt", "12345")
        let status = try Platform.status(of: file).get()
        XCTAssertEqual(status.kind, .regular)
        XCTAssertEqual(status.size, 5)
        XCTAssertEqual(try Platform.status(of: folder.path).get().kind, .folder)
        XCTAssertEqual(Platform.status(of: path("none")).failure, .notFound)
        XCTAssertGreaterThan(Platform.processorCount, 0)
        XCTAssertGreaterThan(Platform.physicalMemory, 0)
        #if os(Linux)
        XCTAssertGreaterThan(Platform.peakResidentBytes() ?? 0, 1 << 20)
        #endif
    }

    func testProcessCPUTimeCountsWorkAndBenchReportsIt() throws {
        let start = Platform.processCPUSeconds()
        var x: Float = 1
        for i in 0..<5_000_000 { x = x * 1.000_000_1 + Float(i & 1) }
        XCTAssertGreaterThan(x, 0)
        XCTAssertGreaterThan(Platform.processCPUSeconds(), start)
        // bench keeps one CPU time per timed step beside its wall-clock time.
        let r = try Benchmark.training(BenchShape(preset: .baby, timedSteps: 3), context: KernelContext(threads: 1))
        XCTAssertEqual(r.stepCPUTimes.count, 3)
        XCTAssertTrue(r.stepCPUTimes.allSatisfy { $0 > 0 })
        XCTAssertEqual(r.medianCPUSeconds, r.stepCPUTimes.sorted()[1])
    }
}

private extension Platform.Attempt {
    var failure: Platform.Errno? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
