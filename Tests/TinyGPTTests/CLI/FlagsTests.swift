// Tests of the command-line flag parser: a table of command lines with the values or the
// error each must give, then the "did you mean" distance, help text and command lookup.

import XCTest
@testable import TinyGPT
@testable import tinygpt_cli

final class FlagsTests: XCTestCase {
    // MARK: - Fixtures

    static let train = CommandSpec(
        name: "train", summary: "Train a character-level GPT on a text file.",
        positionals: [PositionalSpec("CORPUS", help: "text file to learn from", required: false)],
        flags: [
            .int("--steps", "N", in: 1...1_000_000, help: "optimizer steps", default: "2000"),
            .int("--eval-every", "N", in: 1...Int.max, help: "evaluate every N steps"),
            .float("--lr", "RATE", in: .open(0, 10), help: "peak learning rate"),
            .float("--dropout", "P", in: .halfOpen(0, 1), help: "dropout probability"),
            .uint64("--seed", "N", help: "random seed"),
            .boolean("--quiet", help: "print less"),
        ])

    static let sample = CommandSpec(
        name: "sample", summary: "Continue a prompt with a trained model.",
        positionals: [
            PositionalSpec("CHECKPOINT", help: "checkpoint to load"),
            PositionalSpec("OUT", help: "file to write", required: false),
        ],
        flags: [
            .string("--prompt", "TEXT", help: "text to continue"),
            .float("--temperature", "T", in: .greaterThan(0), help: "sampling temperature", default: "0.8"),
            .int("--top-k", "K", in: 1...1_000_000, help: "keep only the K most likely characters"),
            .floatList("--temps", "LIST", in: .closed(0, 5), help: "temperatures to compare"),
            .boolean("--greedy", help: "always pick the most likely character"),
            .choice("--format", "FMT", ["text", "json"], help: "output format"),
        ],
        examples: ["tinygpt sample Checkpoints/model.bin --prompt \"ROMEO:\""])

    static let plot = CommandSpec(
        name: "plot", summary: "Plot loss curves.",
        positionals: [PositionalSpec("LOG", help: "training logs", repeats: true)],
        flags: [])

    // MARK: - The table

    enum Expectation {
        case help
        case parsed((ParsedFlags) -> Void)
        /// The error message must contain every fragment (and lack each of `excluding`).
        case error([String], excluding: [String] = [])
    }

    struct Case {
        let spec: CommandSpec
        let args: [String]
        let expect: Expectation
        let line: UInt
        init(_ spec: CommandSpec, _ args: [String], _ expect: Expectation, line: UInt = #line) {
            self.spec = spec
            self.args = args
            self.expect = expect
            self.line = line
        }
    }

    static let cases: [Case] = [
        // Values, both syntaxes.
        Case(train, ["--steps", "500"], .parsed { XCTAssertEqual($0.int("--steps"), 500) }),
        Case(train, ["--steps=500"], .parsed { XCTAssertEqual($0.int("--steps"), 500) }),
        Case(train, [], .parsed { p in
            XCTAssertNil(p.int("--steps"))
            XCTAssertFalse(p.bool("--quiet"))
            XCTAssertFalse(p.contains("--lr"))
            XCTAssertEqual(p.positionals, [])
        }),
        Case(train, ["--quiet", "corpus.txt", "--lr", "1e-3"], .parsed { p in
            XCTAssertTrue(p.bool("--quiet"))
            XCTAssertEqual(p.float("--lr"), 1e-3)
            XCTAssertEqual(p.positional(0), "corpus.txt")
            XCTAssertNil(p.positional(1))
        }),
        Case(train, ["--lr=0.5", "--dropout", "0"], .parsed { p in
            XCTAssertEqual(p.double("--lr"), 0.5)
            XCTAssertEqual(p.float("--dropout"), 0)
        }),
        Case(train, ["--seed", "18446744073709551615"], .parsed { XCTAssertEqual($0.uint64("--seed"), .max) }),
        Case(train, ["--eval-every", "9223372036854775807"], .parsed { XCTAssertEqual($0.int("--eval-every"), .max) }),
        // Unicode and awkward values.
        Case(sample, ["m.bin", "--prompt", "你好"], .parsed { XCTAssertEqual($0.string("--prompt"), "你好") }),
        Case(sample, ["m.bin", "--prompt=你好，世界 🌏"], .parsed { XCTAssertEqual($0.string("--prompt"), "你好，世界 🌏") }),
        Case(sample, ["m.bin", "--prompt=a=b"], .parsed { XCTAssertEqual($0.string("--prompt"), "a=b") }),
        Case(sample, ["m.bin", "--prompt", "-dash first"], .parsed { XCTAssertEqual($0.string("--prompt"), "-dash first") }),
        Case(sample, ["m.bin", "--prompt=--literally"], .parsed { XCTAssertEqual($0.string("--prompt"), "--literally") }),
        Case(sample, ["m.bin", "--prompt", "line one\nline two"], .parsed { XCTAssertEqual($0.string("--prompt"), "line one\nline two") }),
        Case(sample, ["m.bin", "--format", "json", "--greedy"], .parsed { p in
            XCTAssertEqual(p.string("--format"), "json")
            XCTAssertTrue(p.bool("--greedy"))
        }),
        // Float lists.
        Case(sample, ["m.bin", "--temps", "0,0.5,1,1.5"], .parsed { XCTAssertEqual($0.floatList("--temps"), [0, 0.5, 1, 1.5]) }),
        Case(sample, ["m.bin", "--temps=2"], .parsed { XCTAssertEqual($0.floatList("--temps"), [2]) }),
        Case(sample, ["m.bin", "--temps", "0,,1"], .error(["item 2 of --temps is empty"])),
        Case(sample, ["m.bin", "--temps", "0.5,"], .error(["item 2 of --temps is empty"])),
        Case(sample, ["m.bin", "--temps", "0.5,abc"], .error(["item 2 of --temps expects a number, got 'abc'"])),
        Case(sample, ["m.bin", "--temps", "0.5,-1"], .error(["item 2 of --temps must be in [0, 5], got '-1'"])),
        Case(sample, ["m.bin", "--temps=1,nan"], .error(["item 2 of --temps must be a finite number"])),
        // Positionals.
        Case(sample, ["m.bin", "out.txt"], .parsed { XCTAssertEqual($0.positionals, ["m.bin", "out.txt"]) }),
        Case(sample, ["--", "--odd-name.bin"], .parsed { XCTAssertEqual($0.positional(0), "--odd-name.bin") }),
        Case(sample, ["--greedy"], .error(["'tinygpt sample' needs CHECKPOINT", "usage: tinygpt sample [options] CHECKPOINT [OUT]"])),
        Case(sample, ["a", "b", "c"], .error(["unexpected argument 'c'", "takes at most 2 arguments (CHECKPOINT OUT)"])),
        Case(plot, ["a", "b", "c"], .parsed { XCTAssertEqual($0.positionals, ["a", "b", "c"]) }),
        Case(plot, [], .error(["needs LOG"])),
        // Help.
        Case(train, ["-h"], .help),
        Case(train, ["--help"], .help),
        Case(train, ["--steps", "abc", "--help"], .help),
        Case(train, ["--", "--help"], .parsed { XCTAssertEqual($0.positional(0), "--help") }),
        Case(train, ["a.txt", "--", "--help"], .error(["unexpected argument '--help': 'tinygpt train' takes at most 1 argument (CORPUS)"])),
        // Unknown flags and suggestions.
        Case(train, ["--stpes", "5"], .error(["unknown flag --stpes for 'tinygpt train'; did you mean --steps? (see tinygpt train --help)"])),
        Case(sample, ["m.bin", "--temprature", "0.8"], .error(["did you mean --temperature?"])),
        Case(sample, ["m.bin", "--top_k", "5"], .error(["unknown flag --top_k", "did you mean --top-k?"])),
        Case(sample, ["m.bin", "--topk=5"], .error(["unknown flag --topk for", "did you mean --top-k?"])),
        Case(train, ["-steps", "5"], .error(["did you mean --steps?"])),
        Case(train, ["--Steps", "5"], .error(["did you mean --steps?"])),
        Case(train, ["--eval", "5"], .error(["did you mean --eval-every?"])),
        Case(train, ["--hlep"], .error(["did you mean --help?"])),
        Case(train, ["--banana"], .error(["unknown flag --banana for 'tinygpt train' (see tinygpt train --help)"], excluding: ["did you mean"])),
        Case(train, ["--温度", "1"], .error(["unknown flag --温度"], excluding: ["did you mean"])),
        // Missing and empty values.
        Case(train, ["--steps"], .error(["--steps needs a value (N)"])),
        Case(train, ["--steps", "--quiet"], .error(["--steps needs a value (N)"])),
        Case(train, ["--steps="], .error(["--steps got an empty value"])),
        Case(sample, ["m.bin", "--prompt", ""], .error(["--prompt got an empty value"])),
        // Malformed and out-of-range numbers.
        Case(train, ["--steps", "abc"], .error(["--steps expects a whole number", "got 'abc'"])),
        Case(train, ["--steps", "1.5"], .error(["--steps expects a whole number", "got '1.5'"])),
        Case(train, ["--steps", " 5"], .error(["--steps expects a whole number"])),
        Case(train, ["--steps", "-5"], .error(["--steps must be between 1 and 1000000, got '-5'"])),
        Case(train, ["--steps", "0"], .error(["--steps must be between 1 and 1000000, got '0'"])),
        Case(train, ["--steps", "1000001"], .error(["--steps must be between 1 and 1000000"])),
        Case(train, ["--steps", "99999999999999999999"], .error(["--steps must be between 1 and 1000000, got '99999999999999999999'"])),
        Case(train, ["--eval-every", "-99999999999999999999"], .error(["--eval-every must be at least 1"])),
        Case(train, ["--seed", "18446744073709551616"], .error(["--seed must be between 0 and 18446744073709551615"])),
        Case(train, ["--seed", "-1"], .error(["--seed must be between 0 and"])),
        Case(train, ["--lr", "fast"], .error(["--lr expects a number, got 'fast'"])),
        Case(train, ["--lr", "nan"], .error(["--lr must be a finite number in (0, 10)"])),
        Case(train, ["--lr", "inf"], .error(["--lr must be a finite number"])),
        Case(train, ["--lr=-infinity"], .error(["--lr must be a finite number"])),
        Case(train, ["--lr", "1e999"], .error(["--lr must be a finite number"])),
        Case(train, ["--lr", "0"], .error(["--lr must be in (0, 10), got '0'"])),
        Case(train, ["--lr", "-0.5"], .error(["--lr must be in (0, 10), got '-0.5'"])),
        Case(train, ["--dropout", "1"], .error(["--dropout must be in [0, 1), got '1'"])),
        Case(train, ["--lr", "0x1p-3"], .error(["--lr expects a number"])),
        Case(train, ["--lr", "0X1P-3"], .error(["--lr expects a number"])),
        Case(sample, ["m.bin", "--temperature", "1e39"], .error(["--temperature must be a finite number greater than 0"])),
        Case(sample, ["m.bin", "--format", "jsn"], .error(["--format must be one of text, json; got 'jsn', did you mean json?"])),
        // Repeats and switch misuse.
        Case(train, ["--steps", "5", "--steps", "6"], .error(["--steps is given more than once"])),
        Case(train, ["--steps", "5", "--steps=5"], .error(["--steps is given more than once"])),
        Case(train, ["--quiet", "--quiet"], .error(["--quiet is given more than once"])),
        Case(train, ["--quiet=yes"], .error(["--quiet is a switch and takes no value"])),
        // Messages stay on one line whatever the user typed.
        Case(train, ["--steps", "1\n2"], .error(["got '1\\n2'"])),
        Case(train, ["--st\neps", "1"], .error(["unknown flag '--st\\neps'"])),
        Case(train, ["a.txt", "b\u{2028}c.txt"], .error(["unexpected argument 'b\\u{2028}c.txt'"])),
        Case(train, ["--steps", String(repeating: "9", count: 500)], .error(["…'"])),
    ]

    func testCommandLineTable() throws {
        XCTAssertGreaterThanOrEqual(Self.cases.count, 30)
        for c in Self.cases {
            let context = "\(c.spec.name) \(c.args)"
            switch c.expect {
            case .help:
                guard case .helpRequested? = try? c.spec.parse(c.args) else {
                    XCTFail("expected help for \(context)", line: c.line)
                    continue
                }
            case .parsed(let check):
                do {
                    guard case .parsed(let flags) = try c.spec.parse(c.args) else {
                        XCTFail("unexpected help for \(context)", line: c.line)
                        continue
                    }
                    check(flags)
                } catch {
                    XCTFail("\(context) threw \(error)", line: c.line)
                }
            case .error(let fragments, let excluding):
                do {
                    _ = try c.spec.parse(c.args)
                    XCTFail("expected an error for \(context)", line: c.line)
                } catch let error as TinyGPTError {
                    XCTAssertEqual(error.kind, .usage, context, line: c.line)
                    XCTAssertFalse(error.message.isEmpty, context, line: c.line)
                    let lines = error.message.split(omittingEmptySubsequences: false) { $0.isNewline }
                    XCTAssertEqual(lines.count, 1, "not one line: \(error.message)", line: c.line)
                    XCTAssertLessThan(error.message.count, 240, error.message, line: c.line)
                    for fragment in fragments {
                        XCTAssertTrue(error.message.contains(fragment), "\(error.message) lacks \(fragment)", line: c.line)
                    }
                    for fragment in excluding {
                        XCTAssertFalse(error.message.contains(fragment), "\(error.message) has \(fragment)", line: c.line)
                    }
                } catch {
                    XCTFail("\(context) threw a non-TinyGPTError \(error)", line: c.line)
                }
            }
        }
    }

    func testArgumentsMayBeAnArraySlice() throws {
        let argv = ["tinygpt", "train", "--steps", "7"]
        guard case .parsed(let flags) = try Self.train.parse(argv.dropFirst(2)) else {
            return XCTFail("expected parsed flags")
        }
        XCTAssertEqual(flags.int("--steps"), 7)
    }

    // MARK: - Suggestions

    func testEditDistance() {
        func d(_ a: String, _ b: String) -> Int { FlagText.editDistance(Array(a), Array(b)) }
        XCTAssertEqual(d("kitten", "sitting"), 3)
        XCTAssertEqual(d("", "abc"), 3)
        XCTAssertEqual(d("abc", ""), 3)
        XCTAssertEqual(d("steps", "steps"), 0)
        XCTAssertEqual(d("stpes", "steps"), 1, "an adjacent swap costs one edit")
        XCTAssertEqual(d("temprature", "temperature"), 1)
        XCTAssertEqual(d("ca", "abc"), 3, "optimal string alignment does not edit a swapped pair twice")
        XCTAssertEqual(d("你好", "好你"), 1)
    }

    func testNearestPrefersTheClosestCandidate() {
        let names = ["--layers", "--lr", "--min-lr", "--heads"]
        XCTAssertEqual(FlagText.nearest(to: "--layer", among: names), "--layers")
        XCTAssertEqual(FlagText.nearest(to: "--rl", among: names), "--lr")
        XCTAssertEqual(FlagText.nearest(to: "--minlr", among: names), "--min-lr")
        XCTAssertNil(FlagText.nearest(to: "--zz", among: names))
        XCTAssertNil(FlagText.nearest(to: "--", among: names))
    }

    // MARK: - Help

    func testHelpTextListsEverythingInAlignedColumns() {
        let help = Self.sample.helpText
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.first, "Usage: tinygpt sample [options] CHECKPOINT [OUT]")
        XCTAssertTrue(help.contains("Continue a prompt with a trained model."))
        XCTAssertTrue(help.contains("\nArguments:\n"))
        XCTAssertTrue(help.contains("\nOptions:\n"))
        XCTAssertTrue(help.contains("\nExamples:\n  tinygpt sample Checkpoints/model.bin"))
        XCTAssertTrue(help.contains("(default: 0.8)"))
        XCTAssertTrue(help.contains("(one of: text, json)"))
        XCTAssertTrue(help.contains("file to write (optional)"))
        for flag in Self.sample.flags {
            let label = flag.valueName.map { "  \(flag.name) \($0) " } ?? "  \(flag.name) "
            XCTAssertTrue(lines.contains { $0.hasPrefix(label) }, "help lacks \(label)")
        }
        let columnStarts = Set(lines.filter { $0.hasPrefix("  -") }.map { line -> Int in
            let afterLabel = line.dropFirst(2).firstRange(of: "  ")!.upperBound
            return line.distance(from: line.startIndex, to: line[afterLabel...].firstIndex { $0 != " " }!)
        })
        XCTAssertEqual(columnStarts.count, 1, "descriptions start at different columns: \(columnStarts)")
        XCTAssertTrue(lines.allSatisfy { $0.count <= CommandSpec.helpWidth })
        XCTAssertTrue(help.contains("  -h, --help"))
    }

    func testHelpWrapsLongDescriptionsUnderTheirColumn() {
        let long = String(repeating: "word ", count: 40).trimmingCharacters(in: .whitespaces)
        let spec = CommandSpec(name: "x", summary: "s", flags: [
            .boolean("--a", help: long),
            .string("--a-very-long-flag-name-indeed", "VALUE", help: "short"),
        ])
        let lines = spec.helpText.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.allSatisfy { $0.count <= CommandSpec.helpWidth }, spec.helpText)
        let wordLines = lines.filter { $0.hasSuffix("word") }
        XCTAssertGreaterThan(wordLines.count, 2)
        let column = wordLines[0].distance(from: wordLines[0].startIndex, to: wordLines[0].firstRange(of: "word")!.lowerBound)
        for line in wordLines.dropFirst() {
            XCTAssertEqual(line.prefix(while: { $0 == " " }).count, column, line)
        }
        let labelIndex = try? XCTUnwrap(lines.firstIndex(of: "  --a-very-long-flag-name-indeed VALUE"))
        XCTAssertNotNil(labelIndex, "a label wider than the column stands on its own line")
        if let labelIndex {
            XCTAssertEqual(lines[labelIndex + 1].trimmingCharacters(in: .whitespaces), "short")
        }
    }

    func testOverviewListsEveryCommand() {
        let text = CommandSpec.overviewText(summary: "tinygpt: a tiny GPT.", commands: [Self.train, Self.sample, Self.plot])
        XCTAssertTrue(text.hasPrefix("tinygpt: a tiny GPT.\n\nUsage: tinygpt <command> [options]\n"))
        XCTAssertTrue(text.contains("  train   Train a character-level GPT on a text file.\n"))
        XCTAssertTrue(text.contains("  sample  Continue a prompt with a trained model.\n"))
        XCTAssertTrue(text.contains("  plot    Plot loss curves.\n"))
        XCTAssertTrue(text.contains("tinygpt <command> --help"))
        XCTAssertEqual(Self.plot.usageLine, "tinygpt plot LOG...")
    }

    // MARK: - Commands

    func testCommandLookupSuggestsTheNearestCommand() throws {
        let commands = [Self.train, Self.sample, Self.plot]
        XCTAssertEqual(try CommandSpec.command(named: "sample", in: commands).name, "sample")
        XCTAssertThrowsError(try CommandSpec.command(named: "trian", in: commands)) { error in
            XCTAssertEqual((error as? TinyGPTError)?.message,
                           "unknown command 'trian'; did you mean 'tinygpt train'? (see tinygpt --help)")
        }
        XCTAssertThrowsError(try CommandSpec.command(named: "zebra\nx", in: commands)) { error in
            XCTAssertEqual((error as? TinyGPTError)?.message, "unknown command 'zebra\\nx' (see tinygpt --help)")
        }
    }

    func testFloatRangePhrases() {
        XCTAssertEqual(FloatRange.closed(0, 5).phrase, "in [0, 5]")
        XCTAssertEqual(FloatRange.halfOpen(0, 1).phrase, "in [0, 1)")
        XCTAssertEqual(FloatRange.open(0, 0.5).phrase, "in (0, 0.5)")
        XCTAssertEqual(FloatRange.atLeast(0).phrase, "at least 0")
        XCTAssertEqual(FloatRange.greaterThan(1e-8).phrase, "greater than 1e-08")
        XCTAssertTrue(FloatRange.finite.contains(-1e30))
        XCTAssertFalse(FloatRange.finite.contains(.infinity))
        XCTAssertFalse(FloatRange.halfOpen(0, 1).contains(1))
        XCTAssertTrue(FloatRange.halfOpen(0, 1).contains(0))
    }
}
