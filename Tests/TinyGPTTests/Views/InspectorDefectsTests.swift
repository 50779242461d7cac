// The inspector's defects of issue 21, each with a test that fails on the old page: most in
// headless Chromium (skipped where it is not installed), driving the page's own controls
// through its test hooks, in English and in Chinese.

import Foundation
import XCTest
@testable import TinyGPT
@testable import TinyGPTViews

final class InspectorDefectsTests: XCTestCase {
    typealias Base = InspectorPageTests

    /// "MIRA: a&b <c>\n注意力 😀 机制" cycled to 40 positions.
    static let prompt: [Int32] = {
        let base: [Int32] = [10, 12, 11, 5, 13, 1, 5, 2, 6, 1, 3, 7, 0, 14, 15, 16, 1, 19, 1, 17, 18]
        return (0..<40).map { base[$0 % base.count] }
    }()

    struct Made {
        var page: InspectorPage
        var model: GPT
        var file: URL
    }

    /// A page of a random model on `prompt`, written to a temporary file.
    private func make(prompt: [Int32] = InspectorDefectsTests.prompt, vocabulary: [String] = Base.vocabulary,
                      residual: Bool = true, edit: (inout InspectorPage) -> Void = { _ in }) throws -> Made {
        var config = GPTConfig(vocabSize: vocabulary.count, contextLength: 64, layerCount: 2, headCount: 4, modelWidth: 32)
        config.residual = residual
        let model = SamplerTests.randomModel(config, seed: 21, scale: 0.3)
        let trace = model.trace(tokens: prompt, newline: 0, space: 1)
        var page = try InspectorPage(trace: trace, vocabulary: vocabulary, language: .en, modelName: "m")
        page.positionLogits = model.positionLogits(prompt)
        edit(&page)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inspector-defects-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("page.html")
        try Data(page.html().utf8).write(to: file)
        return Made(page: page, model: model, file: file)
    }

    /// Opens `file` with `fragment` and returns the DOM after the scripts ran; fails on a script error.
    private func open(_ file: URL, _ fragment: String, window: String? = nil,
                      line: UInt = #line) throws -> String {
        var url = URLComponents(url: file, resolvingAgainstBaseURL: false)!
        url.fragment = fragment
        let dom = try Base.runChromium((window.map { ["--window-size=\($0)"] } ?? []) + ["--dump-dom"], url: url.url!)
        XCTAssertEqual(Base.element("errors", in: dom), "", "script errors (\(fragment))", line: line)
        return dom
    }

    private func state(_ dom: String, line: UInt = #line) throws -> [String: Any] {
        let text = try XCTUnwrap(Base.element("state-result", in: dom), "no state written", line: line)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], line: line)
    }

    private func requireChromium() throws {
        guard Base.chromium != nil else { throw XCTSkip("chromium is not installed (apt-get install -y chromium fonts-noto-cjk)") }
    }

    // MARK: - Section 1

    /// "= 0.248 → 0.248" came from float rounding: the arrow belongs to top-k / top-p only.
    func testTheArrowShowsOnlyWhenTopKOrTopPCutSomething() throws {
        try requireChromium()
        let made = try make()
        let V = Base.vocabulary.count
        for lang in ["en", "zh"] {
            for T in ["1", "0.5", "0.7", "0.9", "2"] {
                let s = try state(try open(made.file, "lang=\(lang)&check=T=\(T),k=\(V),p=1&state=1"))
                XCTAssertEqual(s["arrows"] as? Int, 0, "T = \(T) without a cut shows an arrow (\(lang))")
            }
            let cut = try state(try open(made.file, "lang=\(lang)&check=T=0.7,k=5,p=1&state=1"))
            XCTAssertEqual(cut["arrows"] as? Int, 3, "top-k 5 renormalises the three shown (\(lang))")
        }
    }

    /// At T = 0 the bars after the first were in vocabulary order.
    func testBarsAreInRankOrderAtTemperatureZero() throws {
        try requireChromium()
        let made = try make()
        let logits = made.page.trace.logits
        let expected = logits.indices.sorted { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }
            .prefix(16).map { Markup.visible(Base.vocabulary[$0]) }
        for lang in ["en", "zh"] {
            let s = try state(try open(made.file, "lang=\(lang)&check=T=0&state=1"))
            XCTAssertEqual(s["nextOrder"] as? [String], Array(expected), lang)
        }
    }

    /// The top-k slider was linear over 1…V: with 1,144 characters on 129 px a click gave 1, 82,
    /// 163 … Now it is logarithmic, and every small k has a stop of its own.
    func testTopKSliderReachesEverySmallKWithALargeVocabulary() throws {
        try requireChromium()
        // 1,144 characters, as the Chinese model's vocabulary.
        let vocabulary = Base.vocabulary + (0..<(1144 - Base.vocabulary.count)).map { String(UnicodeScalar(0x4E00 + $0)!) }
        let made = try make(vocabulary: vocabulary)
        let ks = [1, 2, 3, 4, 5, 6, 7, 8, 10, 20, 50, 100, 1144]
        let dom = try open(made.file, "lang=zh&check=" + ks.map { "k=\($0)" }.joined(separator: ";"))
        let results = try JSONSerialization.jsonObject(with: Data(Base.element("check-result", in: dom)!.utf8)) as! [[String: Any]]
        XCTAssertEqual(results.map { $0["k"] as? Int }, ks.map { $0 }, "each k is one stop of the slider")
        // A slider 129 px wide: its first stops (about 1000/129 positions a pixel) give k = 1, 1, 1, 2, …
        func k(_ s: Double) -> Int { max(1, min(1144, Int((pow(1144, s / 1000)).rounded()))) }
        let perPixel = (0...10).map { k(Double($0) * 1000 / 129) }
        XCTAssertTrue(perPixel.contains(2), "k = 2 is within the first ten pixels: \(perPixel)")
        XCTAssertLessThanOrEqual(perPixel[10], 3, "the first ten pixels stay within k ≤ 3")
        XCTAssertEqual(perPixel, perPixel.sorted())
    }

    /// Clicking a prompt character moved attention and the stream but not section 1's bars.
    func testClickingACharacterMovesSectionOne() throws {
        try requireChromium()
        let made = try make()
        let V = Base.vocabulary.count, t = 7
        let row = Array(made.model.positionLogits(Self.prompt)[(t * V)..<((t + 1) * V)])
        let expected = row.withUnsafeBufferPointer { Sampler.distribution($0.baseAddress!, count: V, settings: SamplingSettings(temperature: 1)) }
        for lang in ["en", "zh"] {
            let dom = try open(made.file, "lang=\(lang)&query=\(t)&check=T=1,k=\(V),p=1&state=1")
            let results = try JSONSerialization.jsonObject(with: Data(Base.element("check-result", in: dom)!.utf8)) as! [[String: Any]]
            let shown = (results[0]["probabilities"] as! [NSNumber]).map(\.doubleValue)
            XCTAssertLessThan(zip(shown, expected).map { abs($0 - $1) }.max()!, 1e-3, "section 1 shows position \(t) (\(lang))")
            XCTAssertEqual(try state(dom)["query"] as? Int, t)
            XCTAssertTrue(dom.contains(lang == "zh" ? "位置 \(t)「" : "After position \(t), "), lang)
        }
    }

    /// "The temperatures of the comparison below:" showed on every page: `.controls` beat `hidden`.
    func testSweepButtonsStayHiddenWithoutASweep() throws {
        try requireChromium()
        let plain = try make()
        let swept = try make { $0.sweep = Base.sweep(temperatures: [0, 1]) }
        for lang in ["en", "zh"] {
            XCTAssertEqual(try state(try open(plain.file, "lang=\(lang)&state=1"))["sweepButtonsShown"] as? Bool, false, lang)
            XCTAssertEqual(try state(try open(swept.file, "lang=\(lang)&state=1"))["sweepButtonsShown"] as? Bool, true, lang)
        }
    }

    // MARK: - Sections 2 to 4

    /// `attention --layer 2 --head 3 --report a.html` opened at layer 0, head 0.
    func testThePageOpensAtTheHeadAskedFor() throws {
        try requireChromium()
        let made = try make { $0.openAt = (1, 3) }
        for lang in ["en", "zh"] {
            let s = try state(try open(made.file, "lang=\(lang)&state=1"))
            XCTAssertEqual(s["layer"] as? Int, 1, lang)
            XCTAssertEqual(s["head"] as? Int, 3, lang)
        }
    }

    /// The flow SVG ran past the window below about 960 px.
    func testFlowFitsANarrowWindow() throws {
        try requireChromium()
        let made = try make()
        for lang in ["en", "zh"] {
            let s = try state(try open(made.file, "lang=\(lang)&state=1", window: "720,1200"))
            XCTAssertEqual(s["flowOverflows"] as? Bool, false, lang)
        }
    }

    /// "mask, softmax" stayed English in the Chinese flow chart.
    func testFlowChartWordsAreTranslated() throws {
        try requireChromium()
        let made = try make()
        // The words of both languages are in the page's data; the chart is what the flow div holds.
        func flow(_ dom: String) -> String {
            guard let start = dom.range(of: "<div id=\"flow\">"), let end = dom[start.upperBound...].range(of: "</svg>") else { return "" }
            return String(dom[start.upperBound..<end.upperBound])
        }
        let zh = flow(try open(made.file, "lang=zh")), en = flow(try open(made.file, "lang=en"))
        XCTAssertFalse(zh.contains("mask"), zh)
        XCTAssertTrue(zh.contains("遮住后面，softmax"))
        XCTAssertTrue(en.contains("mask, softmax"))
    }

    /// A model without skip connections was told "the input is never replaced, only added to"
    /// and shown x⁽ˡ⁺¹⁾ = x⁽ˡ⁾ + ….
    func testAModelWithoutSkipConnectionsIsDescribedAsItIs() throws {
        try requireChromium()
        let plain = try make(residual: false), skips = try make()
        XCTAssertTrue(plain.page.dataJSON().contains("\"residual\":false"))
        for lang in ["en", "zh"] {
            let dom = try open(plain.file, "lang=\(lang)")
            // The words of both languages are in the page's data; the intro is what its element holds.
            func intro(_ dom: String) -> String {
                guard let start = dom.range(of: "id=\"stream-intro\">"), let end = dom[start.upperBound...].range(of: "</p>") else { return "" }
                return String(dom[start.upperBound..<end.lowerBound])
            }
            XCTAssertTrue(intro(dom).hasPrefix(lang == "zh" ? "这个模型没有残差连接" : "This model has no skip connections"), lang)
            XCTAssertFalse(intro(dom).contains(lang == "zh" ? "原来的输入从来没有被换掉" : "never replaced"), lang)
            XCTAssertTrue(dom.contains("id=\"stream-formula\" hidden=\"\"") || dom.contains("id=\"stream-formula\" hidden=\"hidden\""), lang)
            let withSkips = try open(skips.file, "lang=\(lang)")
            XCTAssertTrue(intro(withSkips).contains(lang == "zh" ? "原来的输入从来没有被换掉" : "never replaced"), lang)
        }
    }

    /// U+2028, U+2029 and zero-width characters were blank cells.
    func testInvisibleCharactersGetAVisibleStandIn() throws {
        try requireChromium()
        let vocabulary = Base.vocabulary + ["\u{2028}", "\u{2029}", "\u{200B}", "\u{3000}"]
        let n = Int32(Base.vocabulary.count)
        let made = try make(prompt: [10, n, 12, n + 1, 11, n + 2, 5, n + 3], vocabulary: vocabulary)
        for lang in ["en", "zh"] {
            let dom = try open(made.file, "lang=\(lang)")
            for symbol in ["␤", "¶", "◌", "⍽"] {
                XCTAssertTrue(dom.contains(">\(symbol)</span>"), "\(symbol) (\(lang))")
            }
            XCTAssertFalse(dom.contains(">\u{2028}</span>") || dom.contains(">\u{200B}</span>"), lang)
        }
    }

    // MARK: - Words

    func testHeadSummariesSayWhatTheyMeasure() {
        let words = Dictionary(uniqueKeysWithValues: InspectorText.words.map { ($0.0, ($0.1, $0.2)) })
        // 25% is no "most": the line names the largest share.
        XCTAssertFalse(words["strongestSingle"]!.0.contains("most"))
        XCTAssertTrue(words["strongestSingle"]!.0.contains("largest share"))
        // "measured from its weights": attention weights, not parameters.
        XCTAssertTrue(words["s3Intro"]!.0.contains("attention weights"))
        XCTAssertTrue(words["s3Intro"]!.1.contains("注意力权重"))
    }
}
