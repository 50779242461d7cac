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
                try? log.append(TrainingLogRow(step: step, batchLoss: Double(train) + 0.1, trainLoss: Double(train), validationLoss: Double(validation),
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

    // MARK: - Both languages (issue 21)

    /// A folder kept until the test ends.
    private func folder() throws -> String {
        let path = NSTemporaryDirectory() + "tinygpt-report-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    static let chineseText = String(repeating: "我们用梯度下降训练语言模型。模型每一步都看一批文字，预测下一个字。学习率决定每一步走多远。\n", count: 12)

    /// A short run on Chinese text, with run.json, the log and the records.
    private func chineseRun(probe: String? = nil) throws -> RunFiles {
        let path = try folder()
        _ = try RunVerdictsTests.record(Self.chineseText, config: RunVerdictsTests.small(), settings: RunVerdictsTests.settings(steps: 40, evalEvery: 10),
                                        probe: probe, folder: path)
        return RunFiles(path)
    }

    /// The text a reader sees in `language` (elements of the other language, scripts, styles
    /// and text marked data-verbatim, which is the model's or the user's text, left out).
    static func visibleText(_ html: String, language: String) -> String {
        final class Collector: NSObject, XMLParserDelegate {
            let hidden: String
            var skipDepth = 0, text = ""
            init(hidden: String) { self.hidden = hidden }
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                        attributes: [String: String] = [:]) {
                let classes = (attributes["class"] ?? "").split(separator: " ").map(String.init)
                // The language buttons name each language in itself ("English", "中文"), as switches do.
                if skipDepth > 0 || classes.contains(hidden) || classes.contains("langs") || attributes["data-verbatim"] != nil
                    || ["script", "style", "head"].contains(name) { skipDepth += 1 }
                if let label = attributes["aria-label"], skipDepth == 0 { text += " " + label + " " }
            }
            func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
                if skipDepth > 0 { skipDepth -= 1 }
                text += " "
            }
            func parser(_ parser: XMLParser, foundCharacters string: String) { if skipDepth == 0 { text += string } }
        }
        let parser = XMLParser(data: Data(html.utf8))
        let collector = Collector(hidden: language == "zh" ? "en" : "zh")
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "not well-formed: \(String(describing: parser.parserError))")
        return collector.text
    }

    /// English words (two letters or more) in `text` other than names: file names, the run's
    /// folder and text file, and the names below (model parts and formula symbols).
    static func englishWords(_ text: String, names: [String]) -> [String] {
        var t = text
        for name in names.sorted(by: { $0.count > $1.count }) { t = t.replacingOccurrences(of: name, with: " ") }
        t = t.replacingOccurrences(of: #"[A-Za-z0-9_.\-/]+\.(jsonl|json|csv|ckpt|html|txt|svg)"#, with: " ", options: .regularExpression)
        let allowed: Set<String> = ["GELU", "tanh", "AdamW", "GPT", "lr", "log"]
        let regex = try! NSRegularExpression(pattern: "[A-Za-z]{2,}")
        let range = NSRange(t.startIndex..., in: t)
        return regex.matches(in: t, range: range).map { String(t[Range($0.range, in: t)!]) }.filter { !allowed.contains($0) }
    }

    func testTheChineseReportHasNoEnglishWordsAndOpensInChinese() throws {
        let folder = try chineseRun()
        let report = try TrainingReport.load(folder: folder)
        XCTAssertEqual(report.run?.language, "zh")
        XCTAssertEqual(report.openingLanguage, .chinese)
        let html = report.html()
        XCTAssertTrue(html.contains("data-lang=\"zh\""), "a run on Chinese text opens in Chinese")
        let zh = Self.visibleText(html, language: "zh")
        for part in ["损失随步数的变化", "验证集", "训练集（16 个窗口的平均）", "第 1 层", "嵌入", "被裁剪", "裁剪阈值", "三元模型",
                     "从记录里读出来的结论", "每批 8 条", "余弦衰减"] {
            XCTAssertTrue(zh.contains(part), "the Chinese page lacks \(part)")
        }
        let words = Self.englishWords(zh, names: [folder.directory])
        XCTAssertEqual(words, [], "English words on the Chinese report")
        // And no Chinese on the English page, apart from the language button and the text's own words.
        let en = Self.visibleText(html, language: "en").replacingOccurrences(of: "中文", with: "")
        XCTAssertFalse(en.unicodeScalars.contains { TextLanguage.isHan($0) }, "Chinese on the English page")
        for part in ["Loss by step", "validation (mean of 16 windows)", "block 1", "skip connections", "What the records say"] {
            XCTAssertTrue(en.contains(part), "the English page lacks \(part)")
        }
        // --lang chooses.
        var english = report
        english.language = .english
        XCTAssertTrue(english.html().contains("data-lang=\"en\""))
    }

    func testSkipConnectionsRowIsInTheLanguageOfThePage() throws {
        var report = try TrainingReport.load(folder: try chineseRun())
        report.run?.config.residual = false
        let html = report.html()
        let en = Self.visibleText(html, language: "en"), zh = Self.visibleText(html, language: "zh")
        XCTAssertTrue(en.contains("without skip connections: each block replaces the stream (x = branch)"))
        XCTAssertFalse(en.contains("每个块"), "the English row shows the Chinese text")
        XCTAssertTrue(zh.contains("无残差连接：每个块直接替换残差流（x = 分支）"))
    }

    func testSettingsPrintAsTheyWereSet() {
        XCTAssertEqual(TrainingReport.number(Double(Float(0.001) / 10)), "0.0001")
        XCTAssertEqual(TrainingReport.number(Double(Float(0.002))), "0.002")
        XCTAssertEqual(TrainingReport.number(1e-5), "1e-5")
        XCTAssertEqual(TrainingReport.number(0.1), "0.1")
        XCTAssertEqual(TrainingReport.number(0), "0")
    }

    func testBaselineLabelsDoNotOverlap() {
        let wishes = [100.0, 103.0, 50.0, 101.0]
        let placed = LineChart.spreadLabels(wishes, gap: 13)
        let sorted = placed.sorted()
        for (a, b) in zip(sorted, sorted.dropFirst()) { XCTAssertGreaterThanOrEqual(b - a, 13 - 1e-9) }
        XCTAssertEqual(placed[2], 50, "a label with room stays where it is")
        XCTAssertEqual(placed[0], 100)
        // In a chart: two baselines 0.01 apart get label rows at least 13 px apart.
        var chart = LineChart(xTitle: "x", yTitle: "y", series: [.init(name: "a", points: [(0, 1), (10, 4)])])
        chart.referenceLines = [.init(label: "bigram", y: 3.97), .init(label: "trigram", y: 3.96)]
        let labels = chart.svg().components(separatedBy: "<text ").filter { $0.contains("</title>bigram 3.97") || $0.contains("</title>trigram 3.96") }
        let ys = labels.compactMap { part -> Double? in
            guard let r = part.range(of: #" y="[0-9.]+""#, options: .regularExpression) else { return nil }
            return Double(part[r].dropFirst(4).dropLast())
        }
        XCTAssertEqual(ys.count, 2)
        if ys.count == 2 { XCTAssertGreaterThanOrEqual(abs(ys[0] - ys[1]), 13 - 1e-9) }
    }

    func testWhitespaceOnlySamplesShowTheirWhitespace() {
        XCTAssertTrue(TrainingReport.sampleCell("   \n ").contains("␣␣␣⏎␣"))
        XCTAssertTrue(TrainingReport.sampleCell("   ").contains("(whitespace only)"))
        XCTAssertTrue(TrainingReport.sampleCell("a b").contains(">a b<"))
        XCTAssertTrue(TrainingReport.sampleCell("\u{200B}\u{200B}").contains("◌◌"))
    }

    func testALongProbeShowsWhatTheModelSees() throws {
        let probe = String(repeating: "我们训练模型。", count: 40)
        let report = try TrainingReport.load(folder: try chineseRun(probe: probe))
        let html = report.html()
        XCTAssertFalse(html.contains(String(probe.prefix(64))), "the whole probe is printed")
        XCTAssertTrue(html.contains("The probe has 280 characters; the model sees only the last 16"))
        XCTAssertTrue(html.contains("提示共有 280 个字符，模型只看得到最后 16 个"))
    }

    func testVerdictsSitBesideTheirCharts() throws {
        let report = try TrainingReport.load(folder: try chineseRun())
        let html = report.html()
        for topic in ["clipping", "overfitting", "learning-rate", "vanishing-gradient"] {
            XCTAssertTrue(html.contains("data-topic=\"\(topic)\""), topic)
        }
        XCTAssertEqual(report.verdictTexts.count, 4)
    }

    // MARK: - Runs side by side

    private func twoRuns() throws -> [TrainingReport] {
        try [true, false].map { residual in
            let path = try folder()
            _ = try RunVerdictsTests.record(RunVerdictsTests.structured, config: RunVerdictsTests.small(layers: 3, residual: residual),
                                            settings: RunVerdictsTests.settings(steps: 30, evalEvery: 10), folder: path)
            return try TrainingReport.load(folder: RunFiles(path))
        }
    }

    func testOverlayLabelsRunsByWhatDiffersInBothLanguages() throws {
        let overlay = RunsOverlay(runs: try twoRuns())
        XCTAssertEqual(overlay.labels(chinese: false), ["with skip connections", "no skip connections"])
        XCTAssertEqual(overlay.labels(chinese: true), ["有残差连接", "无残差连接"])
        XCTAssertEqual(overlay.language, .english)
        let html = overlay.html()
        let zh = Self.visibleText(html, language: "zh")
        XCTAssertEqual(Self.englishWords(zh, names: overlay.runs.map(\.title) + overlay.runs.map { RunsOverlay.folderName($0.title) }), [],
                       "English words on the Chinese overlay")
        for part in ["无残差连接：验证集", "有残差连接：训练集", "每层的梯度范数", "梯度消失"] { XCTAssertTrue(zh.contains(part), part) }
        let en = Self.visibleText(html, language: "en")
        for part in ["no skip connections: validation", "Gradient norm per block", "Vanishing gradient"] { XCTAssertTrue(en.contains(part), part) }
        // The settings table marks the row that differs.
        XCTAssertEqual(html.components(separatedBy: "<tr class=\"diff\">").count - 1, 1)
        // The SVG, in each language, is a well-formed document.
        for language in TextLanguage.allCases {
            let svg = RunsOverlay(runs: overlay.runs, language: language).svgDocument()
            XCTAssertTrue(XMLParser(data: Data(svg.utf8)).parse())
            XCTAssertTrue(svg.contains(language == .chinese ? "无残差连接，第 30 步" : "no skip connections, step 30"))
        }
    }

    /// The report and the overlay in Chromium, in both languages: no script error, and the
    /// language switch ran.
    func testReportAndOverlayLoadInChromiumWithoutErrors() throws {
        guard InspectorPageTests.chromium != nil else { throw XCTSkip("chromium is not installed (apt-get install -y chromium fonts-noto-cjk)") }
        let path = try folder()
        let runs = try twoRuns()
        let pages = [("report.html", runs[1].html()), ("overlay.html", RunsOverlay(runs: runs).html()),
                     ("report-zh.html", try TrainingReport.load(folder: try chineseRun()).html())]
        for (name, html) in pages {
            let file = URL(fileURLWithPath: path).appendingPathComponent(name)
            try Data(html.utf8).write(to: file)
            for lang in ["en", "zh"] {
                var url = URLComponents(url: file, resolvingAgainstBaseURL: false)!
                url.fragment = lang
                let dom = try InspectorPageTests.runChromium(["--dump-dom"], url: url.url!)
                XCTAssertTrue(dom.contains("data-ready=\"yes\""), "\(name) (\(lang)): the script did not run to its end")
                XCTAssertFalse(dom.contains("data-errors="), "\(name) (\(lang)): script errors")
                XCTAssertTrue(dom.contains("data-lang=\"\(lang)\""), "\(name) is not in \(lang)")
            }
        }
        if let target = ProcessInfo.processInfo.environment["REPORT_SCREENSHOTS"] {
            for (name, _) in pages {
                for lang in ["en", "zh"] {
                    var url = URLComponents(url: URL(fileURLWithPath: path).appendingPathComponent(name), resolvingAgainstBaseURL: false)!
                    url.fragment = lang
                    _ = try InspectorPageTests.runChromium(["--window-size=1280,2400", "--screenshot=\(target)/test-\(name)-\(lang).png"], url: url.url!)
                }
            }
        }
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
