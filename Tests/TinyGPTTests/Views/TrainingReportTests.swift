// Tests of TinyGPTViews/TrainingReport.swift: a short real run's report holds every section
// in both languages, is well-formed XML with nothing fetched, and loads in headless Chromium
// with its one script run to the end (no script error) in English and in Chinese.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import TinyGPT
@testable import TinyGPTViews

final class TrainingReportTests: XCTestCase {
    /// A 12-step run with evaluations every 4 steps, recorded into a temporary folder.
    private func recordedRun() throws -> RunFiles {
        let path = NSTemporaryDirectory() + "tinygpt-report-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        let folder = RunFiles(path)
        let trainer = try TrainerTests.makeTrainer(TrainerTests.settings(steps: 12))
        let monitor = try TrainingMonitor(trainer: trainer, folder: folder,
                                          timeLapse: TimeLapse(probe: "the <cat> & 猫"
                                            .filter { trainer.tokenizer.id(of: $0.unicodeScalars.first!.value) != nil },
                                                               tokenizer: trainer.tokenizer),
                                          resuming: false)
        let baselines = try NGramBaseline.evaluate(trainer.data, vocabSize: trainer.model.config.vocabSize)
        try RunDescription(trainer: trainer, dataPath: "test corpus", baselines: baselines).write(to: folder.description)
        let log = try TrainingLogWriter(path: folder.trainingLog)
        _ = try TrainingRun.run(trainer, options: RunOptions(directory: path, saveEvery: 0, keep: 0), monitor: monitor,
                                shouldStop: { false }) { event in
            if case .evaluation(let step, let train, let validation, _) = event {
                try? log.append(TrainingLogRow(step: step, trainLoss: Double(train), validationLoss: Double(validation),
                                               learningRate: 1e-3, tokensPerSecond: 1000, elapsedSeconds: Double(step)))
            }
        }
        return folder
    }

    func testReportHasEverySectionInBothLanguages() throws {
        let folder = try recordedRun()
        let report = try TrainingReport.load(folder: folder)
        XCTAssertEqual(report.health.map(\.step), [4, 8, 12])
        XCTAssertEqual(report.timeLapse.count, 3)
        let html = report.html()
        for part in ["Loss by step", "unigram", "Learning rate", "学习率", "Gradient norm at every step", "clip",
                     "Gradient norm per block", "每层梯度范数", "Update-to-weight ratio", "residual stream",
                     "Time-lapse", "延时摄影", "Probe:", "block 1", "embeddings"] {
            XCTAssertTrue(html.contains(part), "the report lacks \(part)")
        }
        let parser = XMLParser(data: Data(html.utf8))
        XCTAssertTrue(parser.parse(), "not well-formed: \(String(describing: parser.parserError)) line \(parser.lineNumber)")
        let outside = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/1999/xhtml\"", with: "")
            .replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        XCTAssertFalse(outside.contains("http:") || outside.contains("https:") || outside.contains("url("))
    }

    func testReportOfAnEmptyFolderSaysSo() throws {
        let html = TrainingReport(run: nil, log: [], health: [], timeLapse: [], title: "nothing").html()
        XCTAssertTrue(html.contains("No evaluation yet."))
        XCTAssertTrue(html.contains("run.json is missing"))
    }

    /// Loads the page in headless Chromium (skipped where none is installed) and reads the DOM
    /// after scripts ran: the switch must have run to its end and chosen the language.
    func testReportLoadsInChromiumInBothLanguages() throws {
        let candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        guard let browser = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw XCTSkip("no Chromium installed")
        }
        let folder = try recordedRun()
        try AtomicFile.write(Array(try TrainingReport.load(folder: folder).html().utf8), to: folder.report)
        for (hash, lang) in [("", "en"), ("#zh", "zh")] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: browser)
            process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                                 "file://" + folder.report + hash]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            let dom = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0)
            XCTAssertTrue(dom.contains("data-ready=\"yes\""), "the script did not run to its end (\(lang))")
            XCTAssertTrue(dom.contains("data-lang=\"\(lang)\""), "the page is not in \(lang)")
            XCTAssertTrue(dom.contains("延时摄影") && dom.contains("Time-lapse"))
        }
    }
}
