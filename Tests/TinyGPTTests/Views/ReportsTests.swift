// Tests of the reports: escaping, terminal widths, the temperature maths, text statistics,
// attention views, the training-log CSV, and that every SVG/HTML output is well-formed XML.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import TinyGPT
@testable import TinyGPTViews

final class ReportsTests: XCTestCase {
    // MARK: - Helpers

    /// Collects character data so a test can see what a parser reads back.
    private final class TextCollector: NSObject, XMLParserDelegate {
        var text = ""
        var elements: [String] = []
        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            elements.append(elementName)
        }
    }

    /// Parses `markup` as XML, failing the test with the parser's error; returns what it read.
    @discardableResult
    private func assertWellFormedXML(_ markup: String, file: StaticString = #filePath, line: UInt = #line) -> TextCollector {
        let parser = XMLParser(data: Data(markup.utf8))
        let collector = TextCollector()
        parser.delegate = collector
        let ok = parser.parse()
        XCTAssertTrue(ok, "not well-formed XML: \(String(describing: parser.parserError)) near line \(parser.lineNumber)",
                      file: file, line: line)
        return collector
    }

    /// No scripts and no URLs other than XML namespace names.
    private func assertSelfContained(_ html: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(html.lowercased().contains("<script"), file: file, line: line)
        let withoutNamespaces = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/1999/xhtml\"", with: "")
            .replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        XCTAssertFalse(withoutNamespaces.contains("http:") || withoutNamespaces.contains("https:")
                       || withoutNamespaces.contains("url("), "the page refers to something outside itself", file: file, line: line)
        XCTAssertTrue(html.contains("<meta charset=\"utf-8\"/>"), file: file, line: line)
    }

    private func logitsFixture() -> (vocabulary: [String], logits: [Float]) {
        let vocabulary = ["\n", " ", "a", "e", "t", "<", "&", "你", "好", "。"]
        let logits: [Float] = [0.5, 2.0, 1.2, 3.1, 0.3, -1.0, -2.5, 2.8, 1.9, -0.4]
        return (vocabulary, logits)
    }

    // MARK: - Escaping and widths

    func testEscapeHandlesMarkupChineseAndInvalidCharacters() {
        let text = "a<b & \"c\" 'd' > 中文\n\u{01}\u{FFFF}x\r"
        let escaped = Markup.escape(text)
        XCTAssertEqual(escaped, "a&lt;b &amp; &quot;c&quot; &#39;d&#39; &gt; 中文\n\u{FFFD}\u{FFFD}x&#13;")
        // A parser reads back the original text, with the characters XML forbids replaced.
        let collector = assertWellFormedXML("<r a=\"\(escaped)\">\(escaped)</r>")
        XCTAssertEqual(collector.text, "a<b & \"c\" 'd' > 中文\n\u{FFFD}\u{FFFD}x\r")
    }

    func testVisibleShowsWhitespaceAndControls() {
        XCTAssertEqual(Markup.visible("a b\n\t\u{01}\u{7F}中"), "a␣b⏎⇥␁␡中")
        XCTAssertEqual(Markup.visibleKeepingLines("a b\n\tc"), "a b\n⇥c")
        // Characters that would be a blank cell: line and paragraph separators, other spaces,
        // zero-width characters (issue 21).
        XCTAssertEqual(Markup.visible("\u{2028}\u{2029}\u{A0}\u{3000}\u{200B}\u{200D}\u{FEFF}"), "␤¶⍽⍽◌◌◌")
    }

    func testNumberFormatting() {
        XCTAssertEqual(Markup.fixed(0.4149, 2), "0.41")
        XCTAssertEqual(Markup.fixed(-0.001, 2), "0.00")
        XCTAssertEqual(Markup.fixed(.nan, 2), "nan")
        XCTAssertEqual(Markup.coordinate(12.5), "12.5")
        XCTAssertEqual(Markup.coordinate(10), "10")
        XCTAssertEqual(Markup.coordinate(-0.001), "0")
    }

    func testDisplayWidthCountsWideCharactersTwice() {
        XCTAssertEqual(TerminalText.displayWidth("abc"), 3)
        XCTAssertEqual(TerminalText.displayWidth("中文"), 4)
        XCTAssertEqual(TerminalText.displayWidth("a中。"), 5)
        XCTAssertEqual(TerminalText.displayWidth("ｈ"), 2)  // fullwidth Latin
        XCTAssertEqual(TerminalText.displayWidth("e\u{301}"), 1)  // combining accent
        XCTAssertEqual(TerminalText.displayWidth("😀"), 2)
        XCTAssertEqual(TerminalText.displayWidth("⏎␣"), 2)
        XCTAssertEqual(TerminalText.pad("中", to: 4), "中  ")
        XCTAssertEqual(TerminalText.pad("中", to: 4, alignRight: true), "  中")
        XCTAssertEqual(TerminalText.pad("中文字", to: 5), "中文…")
        XCTAssertEqual(TerminalText.displayWidth(TerminalText.pad("中文字", to: 5)), 5)
    }

    func testBarsHaveFixedWidth() {
        for fraction in [0.0, 0.06, 0.41, 0.5, 0.99, 1.0, 1.7, -1] {
            XCTAssertEqual(TerminalText.bar(fraction, width: 8).count, 8, "fraction \(fraction)")
        }
        XCTAssertEqual(TerminalText.bar(0.5, width: 8), "████    ")
        XCTAssertEqual(TerminalText.bar(1, width: 4), "████")
    }

    // MARK: - Temperature maths

    func testProbabilitiesSumToOneAndMatchADirectSoftmax() {
        let (_, logits) = logitsFixture()
        for t in [0, 0.05, 0.3, 0.7, 1, 1.5, 3, 50] {
            let p = softmax(logits, temperature: t)
            XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-12, "T = \(t)")
            XCTAssertTrue(p.allSatisfy { $0 >= 0 && $0 <= 1 })
            if t > 0 {
                // Without the max shift: fine for these small logits, and an independent check.
                let e = logits.map { exp(Double($0) / t) }
                let sum = e.reduce(0, +)
                for i in p.indices { XCTAssertEqual(p[i], e[i] / sum, accuracy: 1e-12) }
            }
        }
    }

    func testGreedyIsOneHotAtTheArgmax() {
        let (_, logits) = logitsFixture()
        let p = softmax(logits, temperature: 0)
        XCTAssertEqual(p, (0..<logits.count).map { $0 == 3 ? 1 : 0 })
        XCTAssertEqual(TemperatureReport.entropyBits(p), 0)
        // Ties go to the first maximum, as argmax does.
        XCTAssertEqual(softmax([1, 5, 5], temperature: 0), [0, 1, 0])
    }

    func testEntropyFallsAsTemperatureFalls() {
        let (vocabulary, logits) = logitsFixture()
        let temperatures = [20, 5, 2, 1, 0.7, 0.5, 0.3, 0.1, 0.02, 0]
        let entropies = temperatures.map { TemperatureReport.entropyBits(softmax(logits, temperature: $0)) }
        for k in 1..<entropies.count {
            XCTAssertLessThan(entropies[k], entropies[k - 1], "T = \(temperatures[k]) vs \(temperatures[k - 1])")
        }
        XCTAssertLessThan(entropies[0], log2(Double(vocabulary.count)))
        XCTAssertGreaterThan(entropies[0], log2(Double(vocabulary.count)) - 0.05)
        XCTAssertEqual(entropies.last, 0)
        // A uniform distribution has log2(V) bits.
        XCTAssertEqual(TemperatureReport.entropyBits([0.25, 0.25, 0.25, 0.25]), 2, accuracy: 1e-12)
    }

    func testHugeLogitsDoNotOverflow() {
        let p = softmax([1000, 999, -1000], temperature: 0.5)
        XCTAssertTrue(p.allSatisfy(\.isFinite))
        XCTAssertEqual(p[0] / p[1], exp(2), accuracy: 1e-9)
        XCTAssertEqual(p[2], 0)
    }

    func testTemperatureReportRejectsBadInput() {
        let (vocabulary, logits) = logitsFixture()
        XCTAssertThrowsError(try TemperatureReport(prompt: "a", vocabulary: vocabulary, logits: logits, temperatures: [1, -0.5])) {
            XCTAssertEqual(($0 as? TinyGPTError)?.kind, .usage)
        }
        XCTAssertThrowsError(try TemperatureReport(prompt: "a", vocabulary: vocabulary, logits: logits, temperatures: []))
        var broken = logits
        broken[2] = .nan
        XCTAssertThrowsError(try TemperatureReport(prompt: "a", vocabulary: vocabulary, logits: broken, temperatures: [1])) {
            XCTAssertEqual(($0 as? TinyGPTError)?.kind, .runtime)
        }
    }

    func testTemperatureReportCandidatesAndSamples() throws {
        let (vocabulary, logits) = logitsFixture()
        let samples = [[TemperatureSample(text: "eeee", logProbabilities: [-0.5, -1.5])], [TemperatureSample(text: "你好")]]
        let report = try TemperatureReport(prompt: "x", vocabulary: vocabulary, logits: logits, temperatures: [0, 1],
                                           samples: samples, topCount: 3)
        XCTAssertEqual(report.panels[0].candidates.map(\.character), ["e", "你", " "])
        XCTAssertEqual(report.panels[0].candidates.map(\.probability), [1, 0, 0])
        XCTAssertEqual(report.panels[1].candidates.map(\.id), [3, 7, 1])
        XCTAssertEqual(report.panels[0].samples[0].meanLogProbability, -1)
        XCTAssertEqual(report.panels[0].samples[0].longestRepeat, 3)
        XCTAssertEqual(report.panels[0].samples[0].distinctCharacterRatio, 0.25)
        XCTAssertNil(report.panels[1].samples[0].meanLogProbability)
    }

    func testTemperatureTextAlignsWideAndNarrowCharacters() throws {
        let (vocabulary, logits) = logitsFixture()
        let report = try TemperatureReport(prompt: "你", vocabulary: vocabulary, logits: logits,
                                           temperatures: [0, 0.5, 1, 2], topCount: 6)
        let lines = report.text().split(separator: "\n").map(String.init)
        let rows = lines.filter { $0.hasPrefix("  1 ") || $0.hasPrefix("  2 ") || $0.hasPrefix("  6 ") }
        XCTAssertEqual(rows.count, 3)
        // Every candidate row ends with a probability, so equal widths mean aligned columns.
        XCTAssertEqual(Set(rows.map(TerminalText.displayWidth)).count, 1, rows.joined(separator: "\n"))
        XCTAssertTrue(rows.contains { $0.contains("你") }, "a wide character is among the candidates")
        XCTAssertTrue(lines.contains { $0.contains("T=0 (greedy)") && $0.contains("T=0.5") })
        XCTAssertTrue(lines[0].contains("Prompt: 你"))
    }

    // MARK: - Text statistics

    func testDistinctCharacterRatio() {
        XCTAssertEqual(TextStatistics.distinctCharacterRatio(""), 0)
        XCTAssertEqual(TextStatistics.distinctCharacterRatio("abab"), 0.5)
        XCTAssertEqual(TextStatistics.distinctCharacterRatio("abcd"), 1)
        XCTAssertEqual(TextStatistics.distinctCharacterRatio("中中文"), 2.0 / 3.0, accuracy: 1e-12)
    }

    func testLongestRepeatedSubstringOnKnownStrings() {
        XCTAssertEqual(TextStatistics.longestRepeatedSubstringLength(""), 0)
        XCTAssertEqual(TextStatistics.longestRepeatedSubstringLength("a"), 0)
        XCTAssertEqual(TextStatistics.longestRepeatedSubstringLength("abcd"), 0)
        XCTAssertEqual(TextStatistics.longestRepeatedSubstringLength("abcXabc"), 3)
        XCTAssertEqual(TextStatistics.longestRepeatedSubstringLength("aaaa"), 3)
        XCTAssertEqual(TextStatistics.longestRepeatedSubstringLength("banana"), 3)
        XCTAssertEqual(TextStatistics.longestRepeatedSubstringLength("中文中文"), 2)
        XCTAssertEqual(TextStatistics.longestRepeatedSubstringLength("the cat. the dog."), 4)
    }

    func testLongestRepeatMatchesBruteForce() {
        var rng = RandomGenerator(seed: 7)
        for _ in 0..<40 {
            let length = rng.nextInt(below: 30)
            let s = String((0..<length).map { _ in Character(["a", "b", "c"][rng.nextInt(below: 3)]) })
            let chars = Array(s)
            var expected = 0
            for l in stride(from: chars.count - 1, through: 1, by: -1) {
                var seen = Set<String>()
                var found = false
                for i in 0...(chars.count - l) {
                    if !seen.insert(String(chars[i..<i + l])).inserted { found = true; break }
                }
                if found { expected = l; break }
            }
            XCTAssertEqual(TextStatistics.longestRepeatedSubstringLength(s), expected, s)
        }
    }

    // MARK: - Attention

    func testAttentionTextNamesTheStrongestEarlierCharacter() throws {
        let T = 3
        // Position 1 (好) looks back at 你 with 0.62; position 2 (啊) mostly at itself.
        let head0: [Float] = [1, 0, 0, 0.62, 0.38, 0, 0.1, 0.2, 0.7]
        let head1: [Float] = [1, 0, 0, 0.2, 0.8, 0, 0.5, 0.3, 0.2]
        let report = try AttentionReport(characters: ["你", "好", "啊"], weights: [[head0, head1]])
        let mean = report.strongestKeys(layer: 0, head: nil)
        XCTAssertEqual(mean.map(\.key), [0, 1, 2])
        XCTAssertEqual(mean[1].weight, 0.59, accuracy: 1e-6)
        XCTAssertEqual(report.strongestKeys(layer: 0, head: 0)[1].key, 0)

        let perHead = report.text(perHead: true)
        XCTAssertTrue(perHead.contains("1 好 ← 你 @0 0.62"), perHead)
        let lines = perHead.split(separator: "\n").filter { $0.contains("←") }.map(String.init)
        XCTAssertEqual(lines.count, T)
        XCTAssertEqual(Set(lines.map(TerminalText.displayWidth)).count, 1, "columns line up")

        let summary = report.text()
        XCTAssertTrue(summary.contains("mean over 2 heads"))
        XCTAssertTrue(summary.contains("2 啊 ← 啊 @2 0.45"), summary)
    }

    func testAttentionRejectsEmptyPromptAndNaN() {
        XCTAssertThrowsError(try AttentionReport(characters: [], weights: [[[]]]))
        XCTAssertThrowsError(try AttentionReport(characters: ["a"], weights: [[[.nan]]]))
    }

    // MARK: - Training log

    private func temporaryPath(_ name: String) -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tinygpt-reports-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder.appendingPathComponent(name).path
    }

    private let logRows = [
        TrainingLogRow(step: 0, batchLoss: Double(Float(4.1743)), trainLoss: 4.1, validationLoss: 4.17, learningRate: 1e-5,
                       tokensPerSecond: 10_000, elapsedSeconds: 0.5),
        TrainingLogRow(step: 1, batchLoss: 3.9, learningRate: Double(Float(2e-5)), tokensPerSecond: 12_345.5, elapsedSeconds: 1),
        TrainingLogRow(step: 2, batchLoss: 0.1 + 0.2, learningRate: 3e-5, tokensPerSecond: 0, elapsedSeconds: 1.75),
        TrainingLogRow(step: 3, batchLoss: .nan, trainLoss: .nan, validationLoss: .infinity, learningRate: 0, tokensPerSecond: 1, elapsedSeconds: 2),
    ]

    /// Rows equal as logged: a value that is exactly a Float is written as that Float's
    /// shortest decimal, so it reads back as the same Float; any other value reads back exactly.
    private func assertSameAsLogged(_ read: [TrainingLogRow], _ written: [TrainingLogRow],
                                    file: StaticString = #filePath, line: UInt = #line) {
        func same(_ r: Double?, _ w: Double?) -> Bool {
            guard let r, let w else { return r == nil && w == nil }
            if r.isNaN || w.isNaN { return r.isNaN && w.isNaN }
            return Float(exactly: w) != nil ? Float(r) == Float(w) : r == w
        }
        XCTAssertEqual(read.count, written.count, file: file, line: line)
        for (r, w) in zip(read, written) {
            XCTAssertTrue(r.step == w.step && same(r.batchLoss, w.batchLoss) && same(r.trainLoss, w.trainLoss) && same(r.validationLoss, w.validationLoss)
                          && same(r.learningRate, w.learningRate) && same(r.tokensPerSecond, w.tokensPerSecond)
                          && same(r.elapsedSeconds, w.elapsedSeconds), "\(r) was logged as \(w)", file: file, line: line)
        }
    }

    func testTrainingLogRoundTripsThroughTheWriter() throws {
        let path = temporaryPath("log.csv")
        let writer = try TrainingLogWriter(path: path)
        for row in logRows { try writer.append(row) }
        // Each row is on disk as soon as it is appended.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix(TrainingLog.header + "\n0,4.1743,4.1,4.17,1e-05,10000.0,0.5\n1,3.9,,,2e-05,"), text)
        assertSameAsLogged(try TrainingLog.read(path: path), logRows)
        XCTAssertEqual(try TrainingLog.read(path: path)[2].batchLoss, 0.1 + 0.2, "a Double that is no Float reads back exactly")
    }

    func testResumingKeepsEarlierRowsAndDropsATornLine() throws {
        let path = temporaryPath("log.csv")
        let writer = try TrainingLogWriter(path: path)
        for row in logRows { try writer.append(row) }
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("4,3.1,".utf8))  // a crash in the middle of a row
        try handle.close()

        // The checkpoint of step 2 was saved after row 2 was written: the row stays (issue 20).
        let resumed = try TrainingLogWriter(path: path, resumingAt: 2)
        let next = TrainingLogRow(step: 3, batchLoss: 2.5, learningRate: 3e-5, tokensPerSecond: 9, elapsedSeconds: 3)
        try resumed.append(next)
        assertSameAsLogged(try TrainingLog.read(path: path), Array(logRows.filter { $0.step <= 2 }) + [next])

        // Without a step to resume at, a new log replaces the old one.
        _ = try TrainingLogWriter(path: path)
        XCTAssertEqual(try TrainingLog.read(path: path), [])
    }

    func testTrainingLogRejectsMalformedInputNamingTheLine() {
        let header = TrainingLog.header
        let cases: [(String, String)] = [
            ("", "empty"),
            ("step,loss\n1,2\n", "line 1"),
            ("\(header)\n1,2.0,,,1e-3,100,1\n2,2.0,,1e-3,100,1\n", "line 3"),
            ("\(header)\n1,abc,,,1e-3,100,1\n", "batch_loss 'abc' is not a number"),
            ("\(header)\n1,2,x,,1e-3,100,1\n", "train_loss 'x' is not a number"),
            ("\(header)\n1.5,2,,,1e-3,100,1\n", "step '1.5'"),
            ("\(header)\n1,2,,,-1e-3,100,1\n", "lr must not be negative"),
            ("\(header)\n1,2,,,1e-3,100,\n", "elapsed_s '' is not a number"),
            ("\(header)\n1,2,,,1e-3,inf,1\n", "tokens_per_s must be finite"),
            ("step,train_loss,val_loss,lr,tokens_per_s,elapsed_s\n1,abc,,1e-3,100,1\n", "train_loss 'abc' is not a number"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try TrainingLog.parse(text, name: "log.csv")) { error in
                let message = (error as? TinyGPTError)?.message ?? ""
                XCTAssertTrue(message.contains(expected) && message.hasPrefix("log.csv"), "\(message) should mention \(expected)")
            }
        }
        // CRLF line endings, a byte-order mark and a trailing blank line are fine.
        XCTAssertEqual(try TrainingLog.parse("\u{FEFF}\(header)\r\n5,2.5,,,0.001,100,1\r\n\r\n").map(\.step), [5])
    }

    /// A log from before the evaluations' training estimate: its one loss column was the
    /// batch's loss, and there is no estimate.
    func testAnOldTrainingLogReadsItsLossAsTheBatchLoss() throws {
        let rows = try TrainingLog.parse("step,train_loss,val_loss,lr,tokens_per_s,elapsed_s\n10,2.5,,0.001,100,1\n20,2.25,2.4,0.001,100,2\n")
        XCTAssertEqual(rows, [
            TrainingLogRow(step: 10, batchLoss: 2.5, learningRate: 0.001, tokensPerSecond: 100, elapsedSeconds: 1),
            TrainingLogRow(step: 20, batchLoss: 2.25, validationLoss: 2.4, learningRate: 0.001, tokensPerSecond: 100, elapsedSeconds: 2),
        ])
        XCTAssertTrue(TrainingLog.header.contains("batch_loss,train_loss,val_loss"))
    }

    // MARK: - Charts

    func testStandaloneSVGsAreWellFormedUTF8Documents() {
        let line = LineChart(title: "loss & more", xTitle: "step", yTitle: "loss", series: [
            LineChart.Series(name: "train", points: [(0, 4.2), (10, 3.1), (20, .nan), (30, 2.4)]),
            LineChart.Series(name: "验证", points: [(0, 4.1), (30, 2.5)], drawsMarkers: true),
        ])
        let empty = LineChart(xTitle: "x", yTitle: "y", series: [])
        let heatmap = Heatmap(rowLabels: ["a", "中"], columnLabels: ["a", "中"], values: [[1, nil], [0.3, 0.7]])
        let plot = LossPlot(rows: [
            TrainingLogRow(step: 0, batchLoss: 4.2, trainLoss: 4.1, validationLoss: 4.2, learningRate: 0, tokensPerSecond: 0, elapsedSeconds: 0),
            TrainingLogRow(step: 100, batchLoss: 2.2, learningRate: 1e-3, tokensPerSecond: 5000, elapsedSeconds: 400),
        ], baselines: [LineChart.ReferenceLine(label: "bigram", y: 2.5)], title: "Run <1>")
        for document in [line.document(), empty.document(), heatmap.document(), plot.document()] {
            XCTAssertTrue(document.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\""))
            XCTAssertTrue(document.contains("Noto Sans CJK SC"))
            assertWellFormedXML(document)
        }
        XCTAssertTrue(assertWellFormedXML(empty.document()).text.contains("no data yet"))
        XCTAssertTrue(assertWellFormedXML(plot.document()).text.contains("elapsed (min)"))
        // Only three of the four heatmap cells apply, so three carry a tooltip.
        XCTAssertEqual(heatmap.svg().components(separatedBy: "<title>").count - 1, 3)
    }

    func testAxisTicksAreNiceNumbersCoveringTheRange() {
        let a = AxisTicks(low: 0, high: 1)
        XCTAssertEqual(a.step, 0.2, accuracy: 1e-12)
        XCTAssertEqual(a.values.count, 6)
        XCTAssertEqual(a.label(0.4), "0.4")
        let b = AxisTicks(low: 1.13, high: 4.21)
        XCTAssertLessThanOrEqual(b.lower, 1.13)
        XCTAssertGreaterThanOrEqual(b.upper, 4.21)
        XCTAssertEqual(b.step, 0.5, accuracy: 1e-12)
        let c = AxisTicks(low: 0, high: 5000)
        XCTAssertEqual(c.step, 1000)
        XCTAssertEqual(c.label(3000), "3000")
        let flat = AxisTicks(low: 2, high: 2)
        XCTAssertLessThan(flat.lower, 2)
        XCTAssertGreaterThan(flat.upper, 2)
    }

    func testColourScaleRunsFromLightToDark() {
        XCTAssertEqual(ChartColours.sequential(0), "#f7fbff")
        XCTAssertEqual(ChartColours.sequential(1), "#08306b")
        XCTAssertEqual(ChartColours.sequential(.nan), "#f7fbff")
    }
}

/// The library's softmax(z / T) of an array, as the temperature page computes it.
private func softmax(_ logits: [Float], temperature: Double) -> [Double] {
    logits.withUnsafeBufferPointer { Softmax.probabilities($0.baseAddress!, count: $0.count, temperature: temperature) }
}
