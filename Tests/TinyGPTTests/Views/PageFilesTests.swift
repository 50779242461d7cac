// Tests of the pages' code files (TinyGPTViews/Pages, PageFiles.swift, HTMLPage.swift) and of
// the one JSON writer (TinyGPT/IO/JSONText.swift): every embedded file equals the file in the
// repository byte for byte and reaches the page unchanged; the page skeleton is filled in one
// pass; the palette and fonts come from theme.css; no page code is left in a Swift string; and
// JSON written for a <script> element cannot close it.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import TinyGPT
@testable import TinyGPTViews

final class PageFilesTests: XCTestCase {
    static let views = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../Sources/TinyGPTViews").standardized

    /// Each page file and its embedded bytes.
    static let embedded: [(name: String, bytes: [UInt8])] = [
        ("page.html", PackageResources.page_html), ("theme.css", PackageResources.theme_css),
        ("page.css", PackageResources.page_css), ("inspector.html", PackageResources.inspector_html),
        ("inspector.css", PackageResources.inspector_css), ("inspector.js", PackageResources.inspector_js),
        ("inspector-model.js", PackageResources.inspector_model_js), ("report.css", PackageResources.report_css),
        ("report.js", PackageResources.report_js),
        ("inspector-learning.js", PackageResources.inspector_learning_js),
        ("inspector-learning.css", PackageResources.inspector_learning_css),
    ]

    private func file(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: Self.views.appendingPathComponent("Pages/" + name)))
    }

    // MARK: - The files

    func testEveryPageFileIsEmbeddedByteForByte() throws {
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: Self.views.appendingPathComponent("Pages").path)
        XCTAssertEqual(Set(onDisk), Set(Self.embedded.map(\.name)), "a file in Pages/ is not embedded (Package.swift resources), or one is missing")
        for (name, bytes) in Self.embedded {
            XCTAssertEqual(bytes, try file(name), name)
            let text = PageFiles.text(bytes)
            XCTAssertEqual(Array(text.utf8), bytes, "\(name) is not valid UTF-8")
            XCTAssertTrue(text.hasSuffix("\n") && !text.hasSuffix("\n\n"), "\(name) ends with one newline")
        }
        // Non-ASCII text in the files survives: the formulas' symbols and the em space.
        XCTAssertTrue(PageFiles.inspectorMarkup.contains("softmax<sub>j≤t</sub>") && PageFiles.inspectorMarkup.contains("\u{2003}"))
        XCTAssertTrue(PageFiles.inspectorScript.contains("\"⏎\""))
    }

    func testFilesCannotBreakThePageOutOfXML() {
        for (name, bytes) in Self.embedded {
            let text = PageFiles.text(bytes)
            if name.hasSuffix(".css") {
                XCTAssertFalse(text.contains("<") || text.contains("&"), "\(name): CSS must not contain < or &")
            }
            if name.hasSuffix(".js") {
                XCTAssertFalse(text.contains("</script") || text.contains("]]>") || text.contains("<!--"),
                               "\(name) would close its script element or CDATA section")
            }
        }
        XCTAssertEqual(InspectorLayout.script.components(separatedBy: "//@MODEL@").count, 1, "the marker is replaced")
        XCTAssertEqual(InspectorLayout.script.components(separatedBy: "//@LEARNING@").count, 1, "the marker is replaced")
    }

    func testPagesCarryTheFilesByteForByte() throws {
        let (inspector, _) = try Self.inspectorPage(language: .zh)
        let html = inspector.html()
        let modelAt = try XCTUnwrap(PageFiles.inspectorScript.range(of: "\n//@MODEL@\n"))
        let learningAt = try XCTUnwrap(PageFiles.inspectorScript.range(of: "\n//@LEARNING@\n"))
        for part in [PageFiles.theme, PageFiles.pageStyle, PageFiles.inspectorStyle, PageFiles.inspectorMarkup,
                     PageFiles.inspectorLearningStyle,
                     String(PageFiles.inspectorScript[..<modelAt.lowerBound]),
                     String(PageFiles.inspectorScript[modelAt.upperBound..<learningAt.lowerBound]),
                     String(PageFiles.inspectorScript[learningAt.upperBound...]), PageFiles.inspectorModelScript,
                     PageFiles.inspectorLearningScript] where !part.isEmpty {
            XCTAssertTrue(html.contains(part), "the inspector page lacks \(part.prefix(60))…")
        }
        // Chinese from Swift (title, words) and the files' symbols arrive intact, in a well-formed file.
        XCTAssertTrue(html.contains("<title>打开你的模型看一看</title>") && html.contains("\"s1\":\"1. 下一个字是什么\""))
        XCTAssertTrue(XMLParser(data: Data(html.utf8)).parse(), "not well-formed XML")

        let report = TrainingReport(run: nil, log: [], health: [], timeLapse: [], title: "运行 <1> & 二").html()
        for part in [PageFiles.theme, PageFiles.pageStyle, PageFiles.reportStyle, PageFiles.reportScript] {
            XCTAssertTrue(report.contains(part), "the report lacks \(part.prefix(60))…")
        }
        XCTAssertTrue(report.hasPrefix("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\" data-lang=\"en\">\n"))
        // The title is in the language the report opens in (English for a run without run.json).
        XCTAssertTrue(report.contains("<title>Training report · 运行 &lt;1&gt; &amp; 二</title>"))
        XCTAssertFalse(report.contains("<h1>Training report"), "the report writes its own heading")
        XCTAssertTrue(XMLParser(data: Data(report.utf8)).parse(), "not well-formed XML")
    }

    static func inspectorPage(language: InspectorPage.Language) throws -> (InspectorPage, String) {
        let model = SamplerTests.randomModel(InspectorPageTests.config, seed: 3, scale: 0.3)
        let prompt: [Int32] = [14, 15, 16, 3, 2]
        let page = try InspectorPage(trace: model.trace(tokens: prompt, newline: 0, space: 1),
                                     vocabulary: InspectorPageTests.vocabulary, language: language, modelName: "模型 {{title}}")
        return (page, page.html())
    }

    // MARK: - The skeleton

    func testSkeletonIsFilledInOnePass() {
        XCTAssertEqual(PageFiles.fill("a{{x}}b{{y}}c", ["x": "{{y}}", "y": "中"]), "a{{y}}b中c")
        XCTAssertEqual(PageFiles.fill("no holes", [:]), "no holes")
        var page = HTMLPage(title: "T {{body}}")
        page.paragraph("{{title}}")
        let html = page.render()
        XCTAssertTrue(html.contains("<title>T {{body}}</title>") && html.contains("<p>{{title}}</p>"))
        XCTAssertTrue(html.contains("<h1>T {{body}}</h1>"))
        XCTAssertFalse(html.lowercased().contains("<script"), "no script element without a script")
        page.script = "var a = 1;"
        XCTAssertTrue(page.render().contains("<script>//<![CDATA[\nvar a = 1;\n//]]></script>\n</body>"))
    }

    // MARK: - The palette

    func testPaletteAndFontsComeFromTheme() {
        XCTAssertEqual(ChartColours.palette.count, 8)
        XCTAssertEqual(ChartColours.series(0), "#1f77b4")
        XCTAssertEqual(ChartColours.series(11), "#d62728")
        XCTAssertEqual(ChartColours.stops.count, 5)
        XCTAssertEqual(ChartColours.sequential(0.5), "#6baed6")
        XCTAssertTrue(Markup.sansFonts.hasPrefix("'Noto Sans CJK SC'") && Markup.sansFonts.hasSuffix("sans-serif"))
        XCTAssertTrue(Markup.monoFonts.hasSuffix("monospace"))
        XCTAssertEqual(Theme.parse("a { color: red; }\n  --x-0: #fff;\n--y:  1px 2px ;\n--z: no semicolon\n"),
                       ["--x-0": "#fff", "--y": "1px 2px"])
        // The pages' CSS names only colours of the palette that theme.css sets.
        for css in [PageFiles.pageStyle, PageFiles.inspectorStyle, PageFiles.reportStyle] {
            for use in css.components(separatedBy: "var(").dropFirst() {
                let name = String(use.prefix { $0 != ")" })
                XCTAssertNotNil(Theme.properties[name], "\(name) is not in theme.css")
            }
        }
    }

    // MARK: - No page code in Swift

    func testNoPageCodeLeftInSwiftStrings() throws {
        let files = FileManager.default.enumerator(atPath: Self.views.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        XCTAssertFalse(files.isEmpty)
        for name in files {
            let source = try String(contentsOf: Self.views.appendingPathComponent(name), encoding: .utf8)
            XCTAssertFalse(source.contains("\"\"\""), "\(name) holds a multi-line string: put page code in Pages/")
            for code in ["<style", "function (", "addEventListener", "<!DOCTYPE"] {
                XCTAssertFalse(source.contains(code), "\(name) holds page code (\(code)): put it in Pages/")
            }
        }
    }

    // MARK: - The JSON writer

    func testJSONForAScriptElementCannotCloseIt() throws {
        let nasty = "</script><!-- ]]> & \u{2028}\u{2029}\u{7F}\u{08}\u{0C}\u{1}\"\\\n注意😀"
        let script = JSONText.quote(nasty, escaping: .scriptElement)
        XCTAssertEqual(script, #""\u003c/script\u003e\u003c!-- ]]\u003e \u0026 \u2028\u2029\u007f\u0008\u000c\u0001\"\\\n注意😀""#)
        let plain = JSONText.quote(nasty)
        XCTAssertEqual(plain, "\"</script><!-- ]]> & \u{2028}\u{2029}\u{7F}\\b\\f\\u0001\\\"\\\\\\n注意😀\"")
        for text in [script, plain] {
            XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) as? String, nasty)
        }
        // Characters XML forbids become U+FFFD in a page; plain JSON keeps them.
        XCTAssertEqual(JSONText.quote("\u{FFFE}", escaping: .scriptElement), #""\ufffd""#)
        XCTAssertEqual(JSONText.quote("\u{FFFE}"), "\"\u{FFFE}\"")

        var j = JSONText(escaping: .scriptElement)
        j.open()
        j.key("a<b"); j.ints([1, 2])
        j.key("n"); j.numbers([0.25, -1.5, 0, 1e-9], decimals: 3)
        j.key("s"); j.array(["x", "<"]) { $0.string($1) }
        j.key("e"); j.exactOne(0.7)
        j.key("z"); j.null()
        j.close()
        XCTAssertEqual(j.text, #"{"a\u003cb":[1,2],"n":[0.25,-1.5,0,0],"s":["x","\u003c"],"e":0.7,"z":null}"#)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(j.text.utf8)))
    }
}
