// Tests of the inspector page (TinyGPTViews/Inspector): the file is self-contained,
// well-formed, small, and carries prompts in any script; and in a real browser (headless
// Chromium, skipped only when it is not installed) its sliders give the probabilities and
// entropy Swift computes, with no script error, in English and in Chinese.
//
// INSPECTOR_SCREENSHOTS=DIR also saves one screenshot per section and language into DIR.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import TinyGPT
@testable import TinyGPTViews

final class InspectorPageTests: XCTestCase {
    // A vocabulary with a newline, a space, markup characters, Chinese and an emoji.
    static let vocabulary = ["\n", " ", "&", "<", "\"", "a", "b", "c", "d", "e", "M", "R", "I", ":", "注", "意", "力", "机", "制", "😀"]
    static let config = GPTConfig(vocabSize: vocabulary.count, contextLength: 64, layerCount: 2, headCount: 4, modelWidth: 32)

    private func page(prompt: [Int32], language: InspectorPage.Language? = nil) throws -> (InspectorPage, String) {
        let model = SamplerTests.randomModel(Self.config, seed: 21, scale: 0.3)
        let trace = model.trace(tokens: prompt, newline: 0, space: 1)
        let text = prompt.map { Self.vocabulary[Int($0)] }.joined()
        let page = try InspectorPage(trace: trace, vocabulary: Self.vocabulary,
                                     language: language ?? .guess(from: text), modelName: "test <model> & co")
        return (page, page.html())
    }

    private var mixedPrompt: [Int32] {
        // "MIRA: a&b <c>\n注意力 😀 机制" cycled to 64 positions.
        let base: [Int32] = [10, 12, 11, 5, 13, 1, 5, 2, 6, 1, 3, 7, 0, 14, 15, 16, 1, 19, 1, 17, 18]
        return (0..<64).map { base[$0 % base.count] }
    }

    // MARK: - The file

    func testPageIsSelfContainedWellFormedAndSmall() throws {
        let (_, html) = try page(prompt: mixedPrompt, language: .en)
        let parser = XMLParser(data: Data(html.utf8))
        XCTAssertTrue(parser.parse(), "not well-formed XML: \(String(describing: parser.parserError)) near line \(parser.lineNumber)")
        let withoutNamespaces = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/1999/xhtml\"", with: "")
        for outside in ["http:", "https:", "src=", "href=", "@import", "fetch(", "XMLHttpRequest", "url(http"] {
            XCTAssertFalse(withoutNamespaces.contains(outside), "the page refers to something outside itself: \(outside)")
        }
        XCTAssertTrue(html.contains("<meta charset=\"utf-8\"/>"))
        XCTAssertTrue(html.contains("lang=\"en\""))
        // 64 positions, 2 × 4 heads here; the baby model's 4 × 4 heads stay under 1.5 MB (checked in the report).
        XCTAssertLessThan(html.utf8.count, 800_000)
    }

    func testLanguageFollowsThePromptAndEveryWordHasBothLanguages() throws {
        XCTAssertEqual(InspectorPage.Language.guess(from: "MIRA: the lamp"), .en)
        XCTAssertEqual(InspectorPage.Language.guess(from: "注意力机制"), .zh)
        XCTAssertEqual(InspectorPage.Language.guess(from: "a 😀 b"), .en)
        XCTAssertEqual(InspectorPage.Language.guess(from: "abc，"), .zh)
        let (_, zh) = try page(prompt: [14, 15, 16])
        XCTAssertTrue(zh.contains("lang=\"zh\"") && zh.contains("<title>打开你的模型看一看</title>"))
        let keys = InspectorText.words.map(\.0)
        XCTAssertEqual(Set(keys).count, keys.count, "a key is listed twice")
        for (key, en, zh) in InspectorText.words {
            XCTAssertFalse(en.isEmpty || zh.isEmpty, key)
            // Placeholders are the same in both languages.
            let holes = { (s: String) in Set(s.components(separatedBy: "{").dropFirst().map { $0.prefix { $0 != "}" } }) }
            XCTAssertEqual(holes(en), holes(zh), key)
        }
        for pattern in HeadPattern.allCases { XCTAssertTrue(keys.contains(pattern.rawValue), "no words for \(pattern)") }
        // Every data-t key in the layout has words.
        for part in InspectorLayout.body.components(separatedBy: "data-t=\"").dropFirst() {
            let key = String(part.prefix { $0 != "\"" })
            XCTAssertTrue(keys.contains(key), "no words for \(key)")
        }
    }

    func testDataCarriesExactLogitsAndEscapedCharacters() throws {
        let (p, _) = try page(prompt: mixedPrompt)
        let json = p.dataJSON()
        XCTAssertFalse(json.contains("<") || json.contains("&"))
        let data = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        XCTAssertEqual(data["vocab"] as? [String], Self.vocabulary)
        let logits = (data["logits"] as! [NSNumber]).map { Float($0.doubleValue) }
        XCTAssertEqual(logits, p.trace.logits, "logits round-trip bit for bit")
        XCTAssertEqual((data["attention"] as! [[Any]]).count, 2)
    }

    /// A sweep over the test vocabulary with markup, a newline, Chinese and an emoji in its samples.
    static func sweep(temperatures: [Float]) -> TemperatureSweep {
        let texts = ["a&b <c>\n注意力", "😀 机制 \"d\"", "MIRA: e e e e"]
        let samples = temperatures.enumerated().map { i, _ in
            (0..<2).map { s in
                TemperatureSample(text: "T\(i)s\(s) " + texts[(i + s) % texts.count], logProbabilities: s == 1 && i == 0 ? nil : [-0.5, -1.25 * Double(i + 1)])
            }
        }
        return TemperatureSweep(prompt: "MIRA:", vocabulary: vocabulary, logits: [], temperatures: temperatures, samples: samples)
    }

    func testSweepIsCarriedWithEverySampleAndItsStatistics() throws {
        let (plainPage, plain) = try page(prompt: [10, 12, 11, 5, 13])
        var p = plainPage
        XCTAssertFalse(p.dataJSON().contains("\"sweep\""), "no sweep unless one is given")
        p.sweep = Self.sweep(temperatures: [0, 0.7, 1.25])
        let html = p.html()
        XCTAssertTrue(XMLParser(data: Data(html.utf8)).parse(), "not well-formed XML")
        XCTAssertGreaterThan(html.utf8.count, plain.utf8.count)
        let data = try JSONSerialization.jsonObject(with: Data(p.dataJSON().utf8)) as! [String: Any]
        let sweep = data["sweep"] as! [String: Any]
        XCTAssertEqual((sweep["temperatures"] as! [NSNumber]).map { Float($0.doubleValue) }, [0, 0.7, 1.25])
        XCTAssertEqual(sweep["prompt"] as? String, "MIRA:")
        let samples = sweep["samples"] as! [[[String: Any]]]
        for (i, perTemperature) in p.sweep!.samples.enumerated() {
            XCTAssertEqual(samples[i].count, perTemperature.count)
            for (s, sample) in perTemperature.enumerated() {
                let shown = samples[i][s]
                XCTAssertEqual(shown["text"] as? String, sample.text, "the text survives escaping")
                XCTAssertEqual(shown["repeat"] as? Int, sample.longestRepeat)
                XCTAssertEqual((shown["distinct"] as! NSNumber).doubleValue, sample.distinctCharacterRatio, accuracy: 1e-4)
                if let m = sample.meanLogProbability {
                    XCTAssertEqual((shown["logp"] as! NSNumber).doubleValue, m, accuracy: 1e-4)
                } else {
                    XCTAssertTrue(shown["logp"] is NSNull)
                }
            }
        }
        // The section's words exist in both languages and the layout has its frame.
        let keys = InspectorText.words.map(\.0)
        for key in ["s5", "s5Intro", "s5Stats", "sweepButtons", "meanLogP", "distinct", "repeat", "showT"] { XCTAssertTrue(keys.contains(key), key) }
        XCTAssertTrue(html.contains("<section id=\"sweep\" hidden=\"hidden\">"))
    }

    func testCompactNumbers() {
        func text(_ v: Float, _ d: Int) -> String { var s = ""; JSONText.appendNumber(v, decimals: d, to: &s); return s }
        XCTAssertEqual(text(0, 3), "0")
        XCTAssertEqual(text(0.25, 3), "0.25")
        XCTAssertEqual(text(-1.5, 3), "-1.5")
        XCTAssertEqual(text(0.0004, 3), "0")
        XCTAssertEqual(text(0.0312, 4), "0.0312")
        XCTAssertEqual(text(12.3456, 2), "12.35")
        XCTAssertEqual(text(-0.00049, 3), "0")
        XCTAssertEqual(text(0.1006, 3), "0.101")
    }

    // MARK: - In a real browser

    /// Headless Chromium, or nil when it is not installed.
    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs Chromium on `url` with `arguments` and returns what it printed on stdout.
    static func runChromium(_ arguments: [String], url: URL, timeout: TimeInterval = 90) throws -> String {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("inspector-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium!)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                             "--user-data-dir=\(profile.path)", "--virtual-time-budget=5000"] + arguments + [url.absoluteString]
        let output = profile.appendingPathExtension("out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning { process.terminate(); XCTFail("chromium did not finish within \(timeout) s") }
        process.waitUntilExit()
        let data = try Data(contentsOf: output)
        return String(decoding: data, as: UTF8.self)
    }

    /// The text of `<pre id="ID" …>…</pre>` in a dumped DOM, unescaped.
    static func element(_ id: String, in dom: String) -> String? {
        guard let start = dom.range(of: "<pre id=\"\(id)\""),
              let open = dom[start.upperBound...].range(of: ">"),
              let close = dom[open.upperBound...].range(of: "</pre>") else { return nil }
        return String(dom[open.upperBound..<close.lowerBound])
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
    }

    func testSlidersInChromiumGiveSwiftsProbabilitiesAndEntropy() throws {
        guard Self.chromium != nil else { throw XCTSkip("chromium is not installed (apt-get install -y chromium fonts-noto-cjk)") }
        let V = Self.vocabulary.count
        let (p, html) = try page(prompt: mixedPrompt)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inspector-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("inspect.html")
        try Data(html.utf8).write(to: file)

        let settings = ["T=0.7,k=5,p=0.9", "T=1,k=\(V),p=1", "T=0,k=\(V),p=1", "T=1.35,k=\(V),p=0.5", "T=0.05,k=3,p=1",
                        "T=2,k=\(V),p=0.99"]
        for language in ["en", "zh"] {
            var url = URLComponents(url: file, resolvingAgainstBaseURL: false)!
            url.fragment = "lang=\(language)&check=" + settings.joined(separator: ";") + "&draw=2&head=1,2&query=5"
            let dom = try Self.runChromium(["--dump-dom"], url: url.url!)
            XCTAssertEqual(Self.element("errors", in: dom), "", "script errors in the page (\(language))")
            guard let result = Self.element("check-result", in: dom), !result.isEmpty else {
                XCTFail("the page wrote no check result (\(language)); DOM starts: \(dom.prefix(300))")
                continue
            }
            let checks = try JSONSerialization.jsonObject(with: Data(result.utf8)) as! [[String: Any]]
            XCTAssertEqual(checks.count, settings.count)
            var worst = 0.0
            for check in checks {
                let T = (check["T"] as! NSNumber).doubleValue, k = (check["k"] as! NSNumber).intValue
                let topP = (check["p"] as! NSNumber).doubleValue
                let s = SamplingSettings(temperature: Float(T), topK: k < V ? k : nil, topP: topP < 1 ? Float(topP) : nil)
                let expected = p.trace.logits.withUnsafeBufferPointer { Sampler.distribution($0.baseAddress!, count: V, settings: s) }
                let shown = (check["probabilities"] as! [NSNumber]).map(\.doubleValue)
                XCTAssertEqual(shown.count, V)
                for i in 0..<V { worst = max(worst, abs(shown[i] - expected[i])) }
                worst = max(worst, abs((check["entropy"] as! NSNumber).doubleValue - TemperatureReport.entropyBits(expected)))
            }
            XCTAssertLessThan(worst, 1e-5, "the page's probabilities or entropy differ from Swift's (\(language))")
            print("inspector: largest difference between the page and Swift (\(language)): \(worst)")
            XCTAssertTrue(dom.contains(language == "zh" ? "下一个字是什么" : "The next character"))
        }

        // A screenshot renders (the Chinese page, so the CJK fonts are exercised).
        let shot = folder.appendingPathComponent("zh.png")
        var url = URLComponents(url: file, resolvingAgainstBaseURL: false)!
        url.fragment = "lang=zh"
        _ = try Self.runChromium(["--window-size=1200,1400", "--screenshot=\(shot.path)"], url: url.url!)
        let png = try Data(contentsOf: shot)
        XCTAssertGreaterThan(png.count, 10_000)
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])

        if let target = ProcessInfo.processInfo.environment["INSPECTOR_SCREENSHOTS"] {
            try Self.screenshots(of: file, into: URL(fileURLWithPath: target), prefix: "test")
        }
    }

    /// The sweep section in Chromium: every sample is on the page in both languages, the
    /// temperature buttons set the page's own slider (also off its 0.05 grid and above 2),
    /// and no script error.
    func testSweepSectionInChromiumShowsEverySampleAndSetsTheSlider() throws {
        guard Self.chromium != nil else { throw XCTSkip("chromium is not installed (apt-get install -y chromium fonts-noto-cjk)") }
        var p = try page(prompt: mixedPrompt).0
        let temperatures: [Float] = [0, 0.33, 1.25, 3]
        p.sweep = Self.sweep(temperatures: temperatures)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inspector-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("compare.html")
        try Data(p.html().utf8).write(to: file)
        func escaped(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        for (language, heading, stat) in [("en", "Continuations at several temperatures", "mean log p -0.88"),
                                          ("zh", "同一段开头，换几个温度接着写", "平均 log p -0.88")] {
            for (index, shown) in [(1, "0.33"), (2, "1.25"), (3, "3.00")] {
                var url = URLComponents(url: file, resolvingAgainstBaseURL: false)!
                url.fragment = "lang=\(language)&sweep=\(index)&check=k=\(Self.vocabulary.count)"
                let dom = try Self.runChromium(["--dump-dom"], url: url.url!)
                XCTAssertEqual(Self.element("errors", in: dom), "", "script errors in the page (\(language))")
                XCTAssertTrue(dom.contains("<output id=\"temperature-value\">\(shown)</output>"), "button \(index) sets T = \(shown) (\(language))")
                let checks = try JSONSerialization.jsonObject(with: Data((Self.element("check-result", in: dom) ?? "[]").utf8)) as! [[String: Any]]
                XCTAssertEqual((checks.first?["T"] as? NSNumber).map { Float($0.doubleValue) }, temperatures[index])
                guard index == 1 else { continue }
                XCTAssertTrue(dom.contains(heading), language)
                XCTAssertTrue(dom.contains(stat), "a sample's statistics (\(language))")
                XCTAssertEqual(dom.components(separatedBy: "class=\"temp-button").count - 1, 2 * temperatures.count, "a button per temperature, twice")
                for sample in p.sweep!.samples.joined() {
                    // In the DOM, newlines and spaces stay; markup is escaped.
                    XCTAssertTrue(dom.contains(escaped(sample.text)), "\(sample.text) (\(language))")
                }
            }
        }
        if let target = ProcessInfo.processInfo.environment["INSPECTOR_SCREENSHOTS"] {
            for language in ["en", "zh"] {
                var url = URLComponents(url: file, resolvingAgainstBaseURL: false)!
                url.fragment = "lang=\(language)&show=sweep"
                _ = try Self.runChromium(["--window-size=1200,1300", "--screenshot=\(target)/test-sweep-\(language).png"], url: url.url!)
            }
        }
    }

    func testThePageRunsTheModelItselfWithinATenThousandth() throws {
        guard Self.chromium != nil else { throw XCTSkip("chromium is not installed (apt-get install -y chromium fonts-noto-cjk)") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inspector-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let typed = "MIR: 注意力😀\n机制 a&b<c"
        let ids = typed.unicodeScalars.map { s in Int32(Self.vocabulary.firstIndex(of: String(s))!) }
        for gelu in GELUForm.allCases {
            var config = Self.config
            config.gelu = gelu
            let model = SamplerTests.randomModel(config, seed: 8, scale: 0.3)
            let trace = model.trace(tokens: [10, 12], newline: 0, space: 1)
            var page = try InspectorPage(trace: trace, vocabulary: Self.vocabulary, language: .en, modelName: "m")
            page.weights = EmbeddedWeights(parameters: Array(UnsafeBufferPointer(start: model.parameters.pointer, count: model.parameterCount)),
                                           layout: model.layout, gelu: gelu)
            let file = folder.appendingPathComponent("\(gelu.name).html")
            try Data(page.html().utf8).write(to: file)
            let expected = SamplerTests.fullForwardLastLogits(model, ids)
            var url = URLComponents(url: file, resolvingAgainstBaseURL: false)!
            url.percentEncodedFragment = "prompt=" + typed.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                + "&check=T=0.7,k=5,p=0.9"
            let dom = try Self.runChromium(["--dump-dom"], url: url.url!)
            XCTAssertEqual(Self.element("errors", in: dom), "", "script errors in the page (\(gelu.name))")
            guard let result = Self.element("check-result", in: dom), !result.isEmpty else {
                XCTFail("the page wrote no result (\(gelu.name))")
                continue
            }
            // The check after the prompt replaced the logits result; run the prompt alone too.
            url.percentEncodedFragment = "prompt=" + typed.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let alone = try Self.runChromium(["--dump-dom"], url: url.url!)
            let json = try JSONSerialization.jsonObject(with: Data(Self.element("check-result", in: alone)!.utf8)) as! [String: Any]
            let logits = (json["logits"] as! [NSNumber]).map(\.doubleValue)
            XCTAssertEqual(logits.count, expected.count)
            let worst = zip(logits, expected).map { abs($0 - Double($1)) }.max() ?? .infinity
            XCTAssertLessThan(worst, 1e-4, "the page's forward pass differs from Swift's (\(gelu.name))")
            print("inspector: largest logit difference between the page's forward and Swift's (\(gelu.name) GELU): \(worst)")
            // Drawing characters runs the model again each time, without script errors.
            url.percentEncodedFragment = "prompt=MIR&draw=5"
            let drawn = try Self.runChromium(["--dump-dom"], url: url.url!)
            XCTAssertEqual(Self.element("errors", in: drawn), "", "script errors while drawing (\(gelu.name))")
            XCTAssertEqual(drawn.components(separatedBy: "class=\"ch drawn\"").count - 1, 5, "five drawn characters")
            // The sliders then act on the new logits.
            let checks = try JSONSerialization.jsonObject(with: Data(result.utf8)) as! [[String: Any]]
            let shown = (checks[0]["probabilities"] as! [NSNumber]).map(\.doubleValue)
            let want = expected.withUnsafeBufferPointer {
                Sampler.distribution($0.baseAddress!, count: expected.count, settings: SamplingSettings(temperature: 0.7, topK: 5, topP: 0.9))
            }
            XCTAssertLessThan(zip(shown, want).map { abs($0 - $1) }.max()!, 1e-3)
        }
    }

    /// One screenshot per section and language: PREFIX-SECTION-LANG.png.
    static func screenshots(of page: URL, into folder: URL, prefix: String) throws {
        for language in ["en", "zh"] {
            for section in ["next", "attention", "heads", "stream"] {
                var url = URLComponents(url: page, resolvingAgainstBaseURL: false)!
                url.fragment = "lang=\(language)&show=\(section)"
                let shot = folder.appendingPathComponent("\(prefix)-\(section)-\(language).png")
                _ = try runChromium(["--window-size=1200,1300", "--screenshot=\(shot.path)"], url: url.url!)
            }
        }
    }
}
