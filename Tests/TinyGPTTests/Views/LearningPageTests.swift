// Tests of the inspector's learning half (InspectorLearning.swift, learning.js): the page
// carries the loss per position, the η ladder and the Q/K/V vectors exactly as Swift computed
// them, and every rung equals a Swift recompute of the stepped model to 1e-5; in headless
// Chromium, in English and Chinese, the new controls (a loss position, the η slider, the
// layer/head/query of the Q/K/V vectors) work without a script error; the baby model's page
// stays within its size budget.
//
// INSPECTOR_SCREENSHOTS=DIR also saves the new sections' screenshots into DIR.

import Foundation
import XCTest
@testable import TinyGPT
@testable import TinyGPTViews

final class LearningPageTests: XCTestCase {
    static let vocabulary = InspectorPageTests.vocabulary
    static let config = InspectorPageTests.config

    /// A model trained a little on the prompt (plain gradient descent), so that the loss means something.
    static let model: GPT = {
        let model = SamplerTests.randomModel(config, seed: 21, scale: 0.1)
        let inputs = Array(prompt.dropLast()), targets = Array(prompt.dropFirst())
        var rng = RandomGenerator(seed: 0)
        for _ in 0..<20 {
            model.zeroGradients()
            inputs.withUnsafeBufferPointer { i in
                targets.withUnsafeBufferPointer { t in
                    _ = model.forward(tokens: i.baseAddress!, targets: t.baseAddress!, B: 1, T: inputs.count, rng: &rng)
                }
            }
            model.backward()
            for i in 0..<model.parameterCount { model.parameters.pointer[i] -= 0.05 * model.gradients.pointer[i] }
        }
        return model
    }()

    static var prompt: [Int32] {
        let base: [Int32] = [10, 12, 11, 5, 13, 1, 5, 2, 6, 1, 3, 7, 0, 14, 15, 16, 1, 19, 1, 17, 18]
        return (0..<64).map { base[$0 % base.count] }
    }

    func page(_ language: InspectorPage.Language, model: GPT = LearningPageTests.model,
              vocabulary: [String] = LearningPageTests.vocabulary, prompt: [Int32] = LearningPageTests.prompt) throws -> InspectorPage {
        let trace = model.trace(tokens: prompt, newline: 0, space: 1)
        var page = try InspectorPage(trace: trace, vocabulary: vocabulary, language: language, modelName: "test")
        page.learning = model.learningStep(tokens: prompt)
        page.baselines = [BaselineLoss(name: "unigram", loss: 2.5), BaselineLoss(name: "bigram", loss: 2.1)]
        return page
    }

    static func data(_ html: String) throws -> [String: Any] {
        let start = html.range(of: "<script type=\"application/json\" id=\"inspector-data\">")!
        let end = html[start.upperBound...].range(of: "</script>")!
        return try JSONSerialization.jsonObject(with: Data(html[start.upperBound..<end.lowerBound].utf8)) as! [String: Any]
    }

    /// L(θ − η·∇L) on the prompt from a model built anew, scored by `tinygpt eval`'s code.
    static func recomputedLadder(_ model: GPT, _ prompt: [Int32], _ etas: [Double]) throws -> (loss: Double, after: [Double]) {
        let copy = GPT(config: model.config, parameters: Array(model.parameters.buffer))
        let inputs = Array(prompt.dropLast()), targets = Array(prompt.dropFirst())
        var rng = RandomGenerator(seed: 0)
        copy.zeroGradients()
        inputs.withUnsafeBufferPointer { i in
            targets.withUnsafeBufferPointer { t in
                _ = copy.forward(tokens: i.baseAddress!, targets: t.baseAddress!, B: 1, T: inputs.count, rng: &rng)
            }
        }
        copy.backward()
        let theta = Array(copy.parameters.buffer), g = Array(copy.gradients.buffer)
        let loss = try Evaluation.score(model: copy, tokens: prompt).loss
        let after = try etas.map { eta -> Double in
            let stepped = GPT(config: model.config, parameters: zip(theta, g).map { $0 - Float(eta) * $1 })
            return try Evaluation.score(model: stepped, tokens: prompt).loss
        }
        return (loss, after)
    }

    func testPageCarriesSwiftsLossLadderAndVectors() throws {
        let p = try page(.en)
        let data = try Self.data(p.html())
        let learning = try XCTUnwrap(data["learning"] as? [String: Any])
        let (loss, after) = try Self.recomputedLadder(Self.model, Self.prompt, LearningStep.defaultLadder)
        XCTAssertEqual((learning["loss"] as! NSNumber).doubleValue, loss, accuracy: 1e-4, "the page's loss is eval's")
        let ladder = learning["ladder"] as! [[String: Any]]
        XCTAssertEqual(ladder.count, after.count)
        var worst = 0.0
        for (rung, want) in zip(ladder, after) { worst = max(worst, abs((rung["after"] as! NSNumber).doubleValue - want)) }
        XCTAssertLessThan(worst, 1e-5, "every rung equals Swift's recompute")
        print("learning page: largest rung difference against a recompute: \(worst)")
        XCTAssertEqual((learning["p"] as! [NSNumber]).count, Self.prompt.count - 1)
        XCTAssertEqual((learning["flow"] as! [Any]).count, 2 * Self.config.layerCount + 3)
        // The vectors are the model's own bits.
        let qkv = data["qkv"] as! [[String: String]]
        XCTAssertEqual(qkv.count, Self.config.layerCount)
        let bytes = try XCTUnwrap(Data(base64Encoded: qkv[1]["qkv"]!))
        let floats = bytes.withUnsafeBytes { raw in (0..<(bytes.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.load(fromByteOffset: 4 * $0, as: UInt32.self))) } }
        XCTAssertEqual(floats, p.trace.qkv[1])
    }

    func testEveryLearningWordHasBothLanguages() throws {
        let source = PageFiles.inspectorLearningScript
        let words = try XCTUnwrap(source.range(of: "var LEARN_WORDS"))
        let body = String(source[words.lowerBound...])
        let zhStart = try XCTUnwrap(body.range(of: "\n  zh: {"))
        func entries(_ s: Substring) -> [String: String] {
            var out: [String: String] = [:]
            for line in s.split(separator: "\n") {
                let t = line.trimmingCharacters(in: .whitespaces)
                guard let colon = t.firstIndex(of: ":"), t.hasSuffix("\","), t[t.index(after: colon)...].hasPrefix(" \"") else { continue }
                out[String(t[..<colon])] = String(t[t.index(colon, offsetBy: 3)..<t.index(t.endIndex, offsetBy: -2)])
            }
            return out
        }
        let en = entries(body[..<zhStart.lowerBound]), zh = entries(body[zhStart.upperBound...])
        XCTAssertGreaterThan(en.count, 50)
        XCTAssertEqual(Set(en.keys), Set(zh.keys), "a key lacks a language")
        let holes = { (s: String) in Set(s.components(separatedBy: "{").dropFirst().map { $0.prefix { $0 != "}" } }) }
        for (key, text) in en { XCTAssertEqual(holes(text), holes(zh[key] ?? ""), key) }
        // Every key the script asks for exists.
        let used = try NSRegularExpression(pattern: #"learnWord\("(\w+)""#)
        let range = NSRange(source.startIndex..., in: source)
        for match in used.matches(in: source, range: range) {
            let key = String(source[Range(match.range(at: 1), in: source)!])
            XCTAssertNotNil(en[key], "no words for \(key)")
        }
        for part in source.components(separatedBy: "data-t=\\\"").dropFirst() {
            let key = String(part.prefix { $0 != "\\" })
            XCTAssertNotNil(en[key], "no words for \(key)")
        }
    }

    func testBabyModelPageSizes() throws {
        // The baby preset's shape (4 layers, 4 heads, width 128, context 64) and a 70-character vocabulary.
        let vocabulary = (0..<70).map { String(UnicodeScalar(UInt8(33 + $0))) }
        let config = GPTConfig(vocabSize: 70, contextLength: 64, layerCount: 4, headCount: 4, modelWidth: 128)
        let model = GPT(config: config, seed: 1)
        var rng = RandomGenerator(seed: 2)
        let prompt = randomTokens(64, below: 70, &rng)
        var p = try page(.en, model: model, vocabulary: vocabulary, prompt: prompt)
        let plain = p.html().utf8.count
        p.weights = EmbeddedWeights(parameters: Array(model.parameters.buffer), layout: model.layout, gelu: config.gelu)
        let withModel = p.html().utf8.count
        print("learning page: baby model, 64-character prompt: \(plain) bytes plain, \(withModel) with the model")
        XCTAssertLessThanOrEqual(plain, 1_500_000)
        XCTAssertLessThanOrEqual(withModel, 6_000_000)
    }

    // MARK: - In a real browser

    func testNewControlsInChromiumInBothLanguages() throws {
        guard InspectorPageTests.chromium != nil else { throw XCTSkip("chromium is not installed (apt-get install -y chromium fonts-noto-cjk)") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learning-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (_, after) = try Self.recomputedLadder(Self.model, Self.prompt, LearningStep.defaultLadder)
        let eval = try Evaluation.score(model: Self.model, tokens: Self.prompt).loss
        for language in [InspectorPage.Language.en, .zh] {
            let p = try page(language)
            let file = folder.appendingPathComponent("inspect-\(language.rawValue).html")
            try Data(p.html().utf8).write(to: file)
            var url = URLComponents(url: file, resolvingAgainstBaseURL: false)!
            url.fragment = "head=1,2&query=20&lpos=7&eta=3&learncheck=1"
            let dom = try InspectorPageTests.runChromium(["--dump-dom"], url: url.url!)
            XCTAssertEqual(InspectorPageTests.element("errors", in: dom), "", "script errors in the page (\(language))")
            let result = try XCTUnwrap(InspectorPageTests.element("check-result", in: dom))
            let check = try JSONSerialization.jsonObject(with: Data(result.utf8)) as! [String: Any]
            XCTAssertEqual(check["pos"] as? Int, 7, "the loss position follows the click")
            XCTAssertEqual(check["rung"] as? Int, 3, "the η slider moved")
            XCTAssertEqual(Double(check["loss"] as! String)!, eval, accuracy: 1e-4, "the loss shown is eval's")
            let shown = (check["shownAfter"] as! [NSNumber]).map(\.doubleValue)
            XCTAssertEqual(shown.count, after.count)
            for (s, want) in zip(shown, after) { XCTAssertEqual(s, want, accuracy: 1e-5, "a rung shown on the page") }
            let out = (check["qkvOut"] as! [NSNumber]).map(\.doubleValue)
            let want = p.trace.attentionOutput(layer: 1, head: 2, query: 20)
            XCTAssertEqual(out.count, want.count)
            for (a, b) in zip(out, want) { XCTAssertEqual(a, b, accuracy: 1e-3, "Σ a_j v_j on the page") }
            XCTAssertTrue((check["qkTerms"] as! String).contains("…"), "q·k written out term by term")
            XCTAssertEqual(check["checksOk"] as? Bool, true)
            XCTAssertTrue(dom.contains(language == .zh ? "学习的一步" : "One step of learning"))
            XCTAssertTrue(dom.contains(language == .zh ? "梯度往回流" : "The gradient flowing back"))
            if let target = ProcessInfo.processInfo.environment["INSPECTOR_SCREENSHOTS"] {
                for section in ["loss", "qkv", "learn"] {
                    var shotURL = URLComponents(url: file, resolvingAgainstBaseURL: false)!
                    shotURL.fragment = "lang=\(language.rawValue)&head=1,2&query=20&lpos=7&show=\(section)"
                    let shot = URL(fileURLWithPath: target).appendingPathComponent("inspect-\(section)-\(language.rawValue).png")
                    _ = try InspectorPageTests.runChromium(["--window-size=1200,\(section == "learn" ? 2200 : 1300)", "--screenshot=\(shot.path)"],
                                                           url: shotURL.url!)
                }
            }
        }
    }
}
