// Tests of the rule that library errors name Swift fields and only the executable speaks in
// flags: the library's sources hold no flag words, every field a library message names has a
// flag in the CLI's one table, and mapping gives exactly the messages the CLI printed before.

import Foundation
import XCTest
@testable import TinyGPT
@testable import TinyGPTViews
@testable import tinygpt_cli

final class FieldFlagsTests: XCTestCase {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// (path relative to the package, text) of every Swift file under `folder`.
    static func sources(_ folder: String) throws -> [(path: String, text: String)] {
        let root = packageRoot.appendingPathComponent(folder)
        let names = try XCTUnwrap(FileManager.default.subpaths(atPath: root.path)).filter { $0.hasSuffix(".swift") }.sorted()
        XCTAssertFalse(names.isEmpty, "no sources under \(root.path)")
        return try names.map { ("\(folder)/\($0)", try String(contentsOf: root.appendingPathComponent($0), encoding: .utf8)) }
    }

    static let librarySources = ["Sources/TinyGPT", "Sources/TinyGPTViews"]

    func testLibrarySourcesHoldNoFlagWords() throws {
        let flagWord = try NSRegularExpression(pattern: "(^|[^-A-Za-z0-9_])--[a-z]")
        // The library only: a page may tell its reader which command made it (`--with-model`).
        for folder in ["Sources/TinyGPT"] {
            for (path, text) in try Self.sources(folder) {
                for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let s = String(line)
                    if flagWord.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil {
                        XCTFail("\(path):\(n + 1) holds a flag word; name the Swift field in backticks instead: \(s)")
                    }
                }
            }
        }
    }

    /// Every `field` written in backticks inside a string literal of the library (its messages)
    /// has a flag word in the CLI's table.
    func testEveryFieldNamedInALibraryMessageHasAFlag() throws {
        let backticked = try NSRegularExpression(pattern: "`([A-Za-z][A-Za-z0-9]*)`")
        var named = Set<String>()
        for folder in Self.librarySources {
            for (_, text) in try Self.sources(folder) {
                for line in text.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") {
                    // Only text between quotes: the string literals of the line.
                    let parts = line.split(separator: "\"", omittingEmptySubsequences: false)
                    for (i, part) in parts.enumerated() where i % 2 == 1 {
                        let s = String(part)
                        for m in backticked.matches(in: s, range: NSRange(s.startIndex..., in: s)) {
                            named.insert(String(s[Range(m.range(at: 1), in: s)!]))
                        }
                    }
                }
            }
        }
        XCTAssertTrue(named.isSuperset(of: ["contextLength", "learningRate", "steps", "topK"]), "found \(named.sorted())")
        let fields = Set(FieldFlags.table.map(\.field))
        XCTAssertEqual(named.subtracting(fields), [], "fields named in library messages without a flag in FieldFlags.table")
    }

    /// Each row maps a real field to a flag some command declares, with no field or flag twice.
    func testTableRowsAreRealFieldsAndDeclaredFlags() {
        let fields = Set([Mirror(reflecting: GPTConfig(vocabSize: 2)), Mirror(reflecting: TrainingConfig()),
                          Mirror(reflecting: SamplingSettings()), Mirror(reflecting: RunOptions(directory: "x"))]
            .flatMap { $0.children.compactMap(\.label) })
        let commands: [Command] = [TrainCommand(), SampleCommand(), CompareCommand(), EvalCommand(), InfoCommand(),
                                   AttentionCommand(), PlotCommand(), ExportCommand(), ImportCommand(), BenchCommand()]
        let flags = Set(commands.flatMap { $0.spec.flags.map(\.name) })
        for row in FieldFlags.table {
            XCTAssertTrue(fields.contains(row.field), "\(row.field) is not a field of the settings types")
            if let flag = row.flag { XCTAssertTrue(flags.contains(flag), "\(flag) is declared by no command") }
        }
        XCTAssertEqual(Set(FieldFlags.table.map(\.field)).count, FieldFlags.table.count)
        let flagWords = FieldFlags.table.compactMap(\.flag)
        XCTAssertEqual(Set(flagWords).count, flagWords.count)
    }

    /// Every setting of the library's table has a row here, in the table's order: a flag of
    /// train, or nil on purpose. A setting added to the library without a row fails here.
    func testEverySettingHasAFlagRowAndTrainOffersIt() {
        let rows = FieldFlags.table.filter { TrainingSetting.named($0.field) != nil }
        XCTAssertEqual(rows.map(\.field), TrainingSetting.all.map(\.field),
                       "FieldFlags.table must list every field of TrainingSetting.all, in its order (flag nil for none)")
        let train = TrainCommand().spec
        for row in rows {
            guard let flag = row.flag else { continue }
            XCTAssertNotNil(train.flags.first { $0.name == flag }, "train does not offer \(flag)")
        }
        // The flags come straight from the table: their help is the setting's, in flag words.
        for setting in TrainingSetting.all {
            guard let flag = FieldFlags.flag(setting.field), let spec = train.flags.first(where: { $0.name == flag }) else { continue }
            XCTAssertEqual(spec.help, FieldFlags.flagWords(setting.help), flag)
            XCTAssertFalse(spec.help.contains("`"), "\(flag)'s help names a field with no flag: \(spec.help)")
        }
    }

    func testMappingGivesTheCommandLinesMessages() {
        func cli(_ body: () throws -> Void) -> String {
            do { try body() } catch let error as TinyGPTError { return FieldFlags.flagWords(error.message) } catch {}
            XCTFail("no TinyGPTError")
            return ""
        }
        XCTAssertEqual(cli { try GPTConfig(vocabSize: 10, headCount: 4, modelWidth: 30).validate() },
                       "--width 30 is not divisible by --heads 4; pick a width that is a multiple of the head count")
        XCTAssertEqual(cli { try GPTConfig(vocabSize: 10, contextLength: 0).validate() },
                       "--context must be between 1 and 65536, got 0")
        var settings = TrainingConfig()
        settings.learningRate = 0.001
        settings.minLearningRate = 0.01
        XCTAssertEqual(cli { try settings.validate() }, "--min-lr must be between 0 and --lr (0.001), got 0.01")
        settings = TrainingConfig()
        settings.evalInterval = 0
        XCTAssertEqual(cli { try settings.validate() }, "--eval-every must be at least 1, got 0")
        XCTAssertEqual(cli { try SamplingSettings(temperature: 1, topK: 0).validate() }, "--top-k must be at least 1, got 0")
        XCTAssertEqual(cli { try SamplingSettings(temperature: 1, topP: 2).validate() }, "--top-p must be in (0, 1], got 2.0")
        XCTAssertEqual(FieldFlags.flagWords("lower `learningRate`, or pass `onNonFinite` skip to skip such batches"),
                       "lower --lr, or pass --on-nan skip to skip such batches")
        // Only whole backticked field names change: plain words, unknown names and a lone backtick stay.
        XCTAssertEqual(FieldFlags.flagWords("10 steps of `steps`"), "10 steps of --steps")
        XCTAssertEqual(FieldFlags.flagWords("`stepz` and `` and `"), "`stepz` and `` and `")
        XCTAssertEqual(FieldFlags.flagWords("no fields here"), "no fields here")
        XCTAssertEqual(FieldFlags.flagWords("`modelWidth`,`headCount`"), "--width,--heads")
    }
}
