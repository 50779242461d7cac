// The README's "Use it from Swift" program, run as written, and a check that the README's
// code block is exactly the code between the markers below (after its `import TinyGPT`,
// which is at the top of this file), so the two cannot drift apart.

import Foundation
import XCTest
import TinyGPT  // not @testable: the example may use only what a Swift program can reach

final class LibraryExampleTests: XCTestCase {
    func testReadmeExampleTrainsAndSamples() throws {
        // README example begins
        // Any text: a string here, or TextFile.readTokens("input.txt") for a file.
        let text = String(repeating: "the lamp is lit. the sea is calm. the keeper sleeps. ", count: 30)
        let tokenizer = CharTokenizer(fitting: TextFile.scalars(of: text))
        let tokens = TokenIds(try tokenizer.encode(text))

        // The tiny preset cut to 150 steps; warmup, evaluation interval and min lr follow the rules.
        var overrides = TrainingPlan.Overrides()
        overrides.steps = 150
        let plan = try TrainingPlan(preset: .tiny, vocabSize: tokenizer.vocabSize, overrides: overrides)
        let trainer = try Trainer(plan: plan, tokenizer: tokenizer, tokens: tokens, corpusName: "lamp")
        while !trainer.isFinished { _ = trainer.trainStep() }
        print("validation loss:", trainer.evaluate())

        // Two continuations of a prompt, streamed one character at a time.
        let session = try GenerationSession(checkpoint: trainer.checkpoint())
        let prompt = try session.encodePrompt("the ")
        try session.generate(prompt, count: 60, settings: SamplingSettings(temperature: 0.8), seed: 7, streams: 2) { c in
            if c.position == 0 { print("\n--- sample \(c.stream + 1) ---") }
            print(c.text, terminator: "")
        }
        // README example ends
        print("")
        // It learned: far below the uniform guess, ln(vocabulary size).
        XCTAssertEqual(trainer.step, 150)
        XCTAssertLessThan(Double(trainer.evaluate()), 0.5 * log(Double(tokenizer.vocabSize)))
        let texts = try session.sample("the ", count: 60, settings: SamplingSettings(temperature: 0.8), seed: 7, streams: 2)
        XCTAssertEqual(texts.count, 2)
        XCTAssertTrue(texts.allSatisfy { $0.unicodeScalars.count == 60 })
    }

    func testReadmeShowsExactlyTheTestedCode() throws {
        let testFile = try String(contentsOfFile: #filePath, encoding: .utf8)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)

        let lines = testFile.components(separatedBy: "\n")
        let begin = try XCTUnwrap(lines.firstIndex { $0.hasSuffix("// README example " + "begins") })
        let end = try XCTUnwrap(lines.firstIndex { $0.hasSuffix("// README example " + "ends") })
        let tested = Self.dedented(Array(lines[(begin + 1)..<end]))

        let section = try XCTUnwrap(readme.range(of: "## Use it from Swift"))
        let afterSection = readme[section.upperBound...]
        let open = try XCTUnwrap(afterSection.range(of: "```swift\n"))
        let close = try XCTUnwrap(afterSection[open.upperBound...].range(of: "\n```"))
        var shown = String(afterSection[open.upperBound..<close.lowerBound]).components(separatedBy: "\n")
        // The README's program opens with the import that this file has at its top.
        XCTAssertEqual(Array(shown.prefix(2)), ["import TinyGPT", ""])
        shown.removeFirst(2)

        XCTAssertEqual(shown.count, tested.count, "the README's example and the test's differ in length")
        for (i, (a, b)) in zip(shown, tested).enumerated() where a != b {
            XCTFail("line \(i + 1) differs:\n README: \(a)\n   test: \(b)")
            break
        }
    }

    /// The lines with their common leading spaces removed (blank lines stay empty).
    static func dedented(_ lines: [String]) -> [String] {
        let indent = lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { $0.prefix { $0 == " " }.count }.min() ?? 0
        return lines.map { $0.trimmingCharacters(in: .whitespaces).isEmpty ? "" : String($0.dropFirst(indent)) }
    }
}
