// The library's folders depend on each other one way only. Each folder may use the types of
// the folders before it in `FolderOrderTests.order`, never those after it; this test reads the
// sources (comments and string literals removed) and names any file that reaches forward.

import Foundation
import XCTest

final class FolderOrderTests: XCTestCase {
    /// Support ← Text ← Ops ← Model ← Training ← IO ← Sampling ← Runs ← Bench: the checkpoint
    /// (IO) saves the training state, so IO comes after Training; sampling may load checkpoints;
    /// a run on disk (its loop, folder, lock and records) saves checkpoints and samples probes.
    static let order = ["Support", "Text", "Ops", "Model", "Training", "IO", "Sampling", "Runs", "Bench"]

    func testFoldersDependOnEarlierFoldersOnly() throws {
        let library = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/TinyGPT").standardized
        let folders = try FileManager.default.contentsOfDirectory(atPath: library.path).filter { !$0.hasPrefix(".") }
        XCTAssertEqual(Set(folders), Set(Self.order), "a library folder was added or removed: place it in FolderOrderTests.order")

        // Each file's code, and the types each folder declares.
        var code: [(folder: String, file: String, text: String)] = []
        var declaredIn: [String: String] = [:]
        let declaration = try NSRegularExpression(pattern: #"\b(?:struct|enum|class|protocol|typealias)\s+([A-Za-z_][A-Za-z0-9_]*)"#)
        for folder in Self.order {
            let path = library.appendingPathComponent(folder).path
            for file in try FileManager.default.contentsOfDirectory(atPath: path).sorted() where file.hasSuffix(".swift") {
                let text = Self.withoutCommentsAndStrings(try String(contentsOfFile: path + "/" + file, encoding: .utf8))
                code.append((folder, file, text))
                let range = NSRange(text.startIndex..., in: text)
                for match in declaration.matches(in: text, range: range) {
                    let name = String(text[Range(match.range(at: 1), in: text)!])
                    if declaredIn[name] == nil { declaredIn[name] = folder }
                }
            }
        }
        XCTAssertEqual(declaredIn["Block"], "Model")
        XCTAssertEqual(declaredIn["TrainingState"], "Training")

        let identifier = try NSRegularExpression(pattern: #"\b[A-Z][A-Za-z0-9_]*\b"#)
        var problems: [String] = []
        for (folder, file, text) in code {
            let rank = Self.order.firstIndex(of: folder)!
            var reached = Set<String>()
            for match in identifier.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let name = String(text[Range(match.range, in: text)!])
                if let home = declaredIn[name], Self.order.firstIndex(of: home)! > rank { reached.insert("\(name) (\(home))") }
            }
            if !reached.isEmpty { problems.append("\(folder)/\(file) uses \(reached.sorted().joined(separator: ", "))") }
        }
        XCTAssert(problems.isEmpty, "folders must depend on earlier folders only (\(Self.order.joined(separator: " ← "))): "
                  + problems.joined(separator: "; "))
    }

    /// The source with `//` and `/* */` comments and string literals (single-line, multi-line
    /// and raw) blanked, so names in prose do not count.
    static func withoutCommentsAndStrings(_ source: String) -> String {
        var out = ""
        let characters = Array(source)
        var i = 0
        func starts(_ s: String) -> Bool {
            let pattern = Array(s)
            return i + pattern.count <= characters.count && Array(characters[i..<i + pattern.count]) == pattern
        }
        while i < characters.count {
            if starts("//") {
                while i < characters.count && characters[i] != "\n" { i += 1 }
            } else if starts("/*") {
                i += 2
                while i < characters.count && !starts("*/") { i += 1 }
                i += 2
            } else if starts("\"\"\"") {
                i += 3
                while i < characters.count && !starts("\"\"\"") { i += 1 }
                i += 3
                out += "\"\""
            } else if characters[i] == "\"" {
                i += 1
                while i < characters.count && characters[i] != "\"" && characters[i] != "\n" {
                    if characters[i] == "\\" { i += 1 }
                    i += 1
                }
                i += 1
                out += "\"\""
            } else {
                out.append(characters[i])
                i += 1
            }
        }
        return out
    }
}
