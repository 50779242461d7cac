// The command line from the outside: the built `tinygpt` executable runs as a subprocess on
// every bad input we could think of, per subcommand and per flag, and on the happy paths. An
// error must give the documented exit code (2 for flags and arguments, 1 for files and data),
// exactly one stderr line starting "tinygpt: ", no crash report, and no files left behind.
// The exit-code convention follows sysexits-style practice as GNU tools use it (2: usage).

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import TinyGPT

// MARK: - Running the executable

/// Finds the built `tinygpt` and runs it with a timeout, capturing stdout and stderr.
enum TinyGPTProcess {
    /// What one run printed and how it ended.
    struct Outcome {
        var exitCode: Int32
        /// True when the process ended by a signal it did not handle (a crash or a kill).
        var killedBySignal: Bool
        var timedOut: Bool
        var stdout: String
        var stderr: String

        var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
    }

    /// The executable beside the test bundle (how SwiftPM lays out `.build/<config>/`), or
    /// failing that the newest `.build*/release/tinygpt` above this source file.
    static let executable: URL? = locate()

    private static func locate() -> URL? {
        let fm = FileManager.default
        if let override = ProcessInfo.processInfo.environment["TINYGPT_BINARY"], fm.isExecutableFile(atPath: override) {
            return URL(fileURLWithPath: override)
        }
        var folders: [URL] = []
        for bundle in [Bundle.main] + Bundle.allBundles + Bundle.allFrameworks {
            folders.append(bundle.bundleURL)
            folders.append(bundle.bundleURL.deletingLastPathComponent())
        }
        if let first = CommandLine.arguments.first {
            folders.append(URL(fileURLWithPath: first).deletingLastPathComponent())
        }
        for folder in folders {
            let candidate = folder.appendingPathComponent("tinygpt")
            var isFolder: ObjCBool = false
            if fm.fileExists(atPath: candidate.path, isDirectory: &isFolder), !isFolder.boolValue,
               fm.isExecutableFile(atPath: candidate.path) {
                return candidate
            }
        }
        // Walk up from this file to the package root and take the newest release build.
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while root.path != "/" && !fm.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root = root.deletingLastPathComponent()
        }
        let builds = ((try? fm.contentsOfDirectory(atPath: root.path)) ?? []).filter { $0.hasPrefix(".build") }
        var newest: (url: URL, date: Date)?
        for build in builds {
            let candidate = root.appendingPathComponent(build).appendingPathComponent("release/tinygpt")
            guard fm.isExecutableFile(atPath: candidate.path),
                  let date = (try? fm.attributesOfItem(atPath: candidate.path))?[.modificationDate] as? Date else { continue }
            if date > (newest?.date ?? .distantPast) { newest = (candidate, date) }
        }
        return newest?.url
    }

    /// Starts `tinygpt arguments` in `directory`, its output going to the two files.
    static func start(_ arguments: [String], in directory: URL, stdout: URL, stderr: URL, executable: URL? = nil) throws -> Process {
        guard let executable = executable ?? Self.executable else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "tinygpt"]) }
        let fm = FileManager.default
        _ = fm.createFile(atPath: stdout.path, contents: nil)
        _ = fm.createFile(atPath: stderr.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        try process.run()
        return process
    }

    /// Waits for `process` at most `timeout` seconds; kills it with SIGKILL after that.
    /// Returns false on a timeout.
    @discardableResult
    static func wait(_ process: Process, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return false
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        return true
    }

    /// Runs `tinygpt arguments` in `directory` to the end (or the timeout). Output is captured
    /// in files under `logs`, which must lie outside `directory`.
    static func run(_ arguments: [String], in directory: URL, logs: URL, timeout: TimeInterval = 60,
                    executable: URL? = nil) throws -> Outcome {
        let id = UUID().uuidString
        let out = logs.appendingPathComponent("\(id).out"), err = logs.appendingPathComponent("\(id).err")
        let process = try start(arguments, in: directory, stdout: out, stderr: err, executable: executable)
        let finished = wait(process, timeout: timeout)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        return Outcome(exitCode: process.terminationStatus,
                       killedBySignal: process.terminationReason == .uncaughtSignal,
                       timedOut: !finished,
                       stdout: String(decoding: (try? Data(contentsOf: out)) ?? Data(), as: UTF8.self),
                       stderr: String(decoding: (try? Data(contentsOf: err)) ?? Data(), as: UTF8.self))
    }

    /// Every file and folder under `folder`, as paths relative to it.
    static func listing(_ folder: URL) -> Set<String> {
        Set((FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String]) ?? [])
    }

    /// A fresh empty folder under the system's temporary folder.
    static func makeTemporaryFolder(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("tinygpt-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Text to train on, made here: a few KB from a fixed word list and a fixed seed.
enum TestCorpus {
    static func english(sentences: Int = 60, seed: UInt64 = 7) -> String {
        let words = ["the", "keeper", "climbed", "to", "lamp", "and", "watched", "ships", "pass", "in",
                     "night", "while", "sea", "was", "calm", "a", "gull", "cried", "over", "rocks", "light"]
        var rng = RandomGenerator(seed: seed)
        var lines: [String] = []
        for _ in 0..<sentences {
            let sentence = (0..<10).map { _ in words[rng.nextInt(below: words.count)] }.joined(separator: " ")
            lines.append(sentence.prefix(1).uppercased() + sentence.dropFirst() + ".")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func chinese(sentences: Int = 80, seed: UInt64 = 11) -> String {
        let phrases = ["老师", "学生", "今天", "我们", "学习", "温度", "模型", "文字", "认真", "思考",
                       "问题", "答案", "上课", "下课", "写字", "读书", "明天", "复习", "练习", "很好"]
        var rng = RandomGenerator(seed: seed)
        var lines: [String] = []
        for _ in 0..<sentences {
            lines.append((0..<6).map { _ in phrases[rng.nextInt(below: phrases.count)] }.joined() + "。")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

// MARK: - Tests

final class CLITests: XCTestCase {
    /// Fixtures shared by every test: corpora, bad files, a tiny trained checkpoint.
    nonisolated(unsafe) static var work: URL!
    nonisolated(unsafe) static var logs: URL!
    nonisolated(unsafe) static var trainOutcome: TinyGPTProcess.Outcome?
    nonisolated(unsafe) static var setupError: String?

    static let ckpt = "run/latest.ckpt"

    override class func setUp() {
        super.setUp()
        do {
            work = try TinyGPTProcess.makeTemporaryFolder("cli-work")
            logs = try TinyGPTProcess.makeTemporaryFolder("cli-logs")
            try makeFixtures()
        } catch {
            setupError = "\(error)"
        }
    }

    override class func tearDown() {
        if let work { try? FileManager.default.removeItem(at: work) }
        if let logs { try? FileManager.default.removeItem(at: logs) }
        super.tearDown()
    }

    override func setUpWithError() throws {
        let executable = try XCTUnwrap(TinyGPTProcess.executable, "the tinygpt executable was not found beside the tests or under .build*/release")
        XCTAssertNil(Self.setupError, "fixtures could not be made with \(executable.path)")
        if Self.setupError != nil { throw CocoaError(.fileNoSuchFile) }
    }

    private static func write(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: work.appendingPathComponent(name))
    }

    private static func makeFixtures() throws {
        try write("corpus.txt", Array(TestCorpus.english().utf8))
        try write("zh.txt", Array(TestCorpus.chinese().utf8))
        try write("empty.txt", [])
        try write("bad.txt", [0xFF, 0xFE, 0x00, 0x41, 0x42, 0x43])
        try write("short.txt", Array("hi\n".utf8))
        try write("one.txt", Array("t".utf8))
        try write("notes.txt", Array("These are notes, not a checkpoint.\n".utf8))
        try write("empty.ckpt", [])
        try FileManager.default.createDirectory(at: work.appendingPathComponent("folder"), withIntermediateDirectories: true)
        guard TinyGPTProcess.executable != nil else { return }
        let train = try TinyGPTProcess.run(["train", "--preset", "tiny", "--steps", "20", "--data", "corpus.txt", "--out", "run"],
                                           in: work, logs: logs)
        trainOutcome = train
        guard train.exitCode == 0 else {
            setupError = "training the tiny checkpoint failed (\(train.exitCode)): \(train.stderr)"
            return
        }
        let full = try Data(contentsOf: work.appendingPathComponent(ckpt))
        try write("trunc.ckpt", Array(full.prefix(1000)))
        try write("cut.ckpt", Array(full.dropLast(7)))
        let zh = try TinyGPTProcess.run(["train", "--preset", "tiny", "--steps", "20", "--data", "zh.txt", "--out", "zhrun"],
                                        in: work, logs: logs)
        let export = try TinyGPTProcess.run(["export", ckpt, "--out", "weights.safetensors"], in: work, logs: logs)
        let weightsOnly = try TinyGPTProcess.run(["import", "weights.safetensors", "--out", "weights.ckpt"], in: work, logs: logs)
        for (name, outcome) in [("Chinese training", zh), ("export", export), ("import", weightsOnly)] where outcome.exitCode != 0 {
            setupError = "\(name) failed (\(outcome.exitCode)): \(outcome.stderr)"
        }
    }

    private func run(_ arguments: [String], timeout: TimeInterval = 60) throws -> TinyGPTProcess.Outcome {
        try TinyGPTProcess.run(arguments, in: Self.work, logs: Self.logs, timeout: timeout)
    }

    // MARK: Cases

    /// One bad command line and what it must give.
    struct BadInput {
        var arguments: [String]
        var exitCode: Int32
        /// Text the one error line must contain.
        var mentions: String?
    }

    /// How a flag's value is checked, and so which bad values apply.
    enum FlagKind: Equatable {
        /// A whole number no smaller than `min`.
        case int(min: Int)
        /// A whole number from 0 to UInt64.max.
        case seed
        /// A number that is never negative; `zeroAllowed` for [0, …), `bounded` when the upper end is finite.
        case number(zeroAllowed: Bool, bounded: Bool)
        case numberList
        /// Free text (a path, a prompt).
        case text
        case choice
        case toggle
    }

    /// Every flag of every subcommand. `testFlagTableCoversEveryFlag` checks this against
    /// `--help`, so a new flag fails the tests until it is listed here.
    static let flagTable: [String: [(String, FlagKind)]] = [
        "train": [("--data", .text), ("--out", .text), ("--preset", .choice), ("--layers", .int(min: 1)),
                  ("--heads", .int(min: 1)), ("--width", .int(min: 1)), ("--context", .int(min: 1)), ("--gelu", .choice),
                  ("--no-residual", .toggle),
                  ("--batch", .int(min: 1)), ("--steps", .int(min: 1)), ("--minutes", .number(zeroAllowed: false, bounded: false)), ("--lr", .number(zeroAllowed: false, bounded: true)),
                  ("--min-lr", .number(zeroAllowed: true, bounded: true)), ("--warmup", .int(min: 0)),
                  ("--weight-decay", .number(zeroAllowed: true, bounded: true)),
                  ("--grad-clip", .number(zeroAllowed: true, bounded: false)),
                  ("--dropout", .number(zeroAllowed: true, bounded: true)), ("--seed", .seed),
                  ("--eval-every", .int(min: 1)), ("--eval-windows", .int(min: 1)), ("--save-every", .int(min: 0)),
                  ("--keep", .int(min: 0)), ("--log-every", .int(min: 1)), ("--on-nan", .choice), ("--resume", .text),
                  ("--init-from", .text), ("--freeze", .text), ("--probe", .text), ("--threads", .int(min: 1))],
        "sample": [("--checkpoint", .text), ("--prompt", .text), ("--tokens", .int(min: 1)),
                   ("--temperature", .number(zeroAllowed: true, bounded: true)), ("--greedy", .toggle),
                   ("--top-k", .int(min: 1)), ("--top-p", .number(zeroAllowed: false, bounded: true)),
                   ("--samples", .int(min: 1)), ("--seed", .seed), ("--threads", .int(min: 1))],
        "compare": [("--checkpoint", .text), ("--prompt", .text), ("--temperatures", .numberList), ("--tokens", .int(min: 1)),
                    ("--top", .int(min: 1)), ("--samples", .int(min: 1)), ("--report", .text), ("--seed", .seed),
                    ("--threads", .int(min: 1))],
        "eval": [("--checkpoint", .text), ("--data", .text), ("--max-chars", .int(min: 2)), ("--no-baselines", .toggle),
                 ("--threads", .int(min: 1))],
        "info": [],
        "attention": [("--checkpoint", .text), ("--prompt", .text), ("--layer", .int(min: 0)), ("--head", .int(min: 0)),
                      ("--report", .text), ("--threads", .int(min: 1))],
        "inspect": [("--prompt", .text), ("--checkpoint", .text), ("--out", .text), ("--lang", .choice),
                    ("--with-model", .toggle), ("--threads", .int(min: 1))],
        "plot": [("--out", .text)],
        "export": [("--format", .choice), ("--out", .text), ("--prompt", .text), ("--to", .choice), ("--checkpoint", .text),
                   ("--data", .text)],
        "import": [("--vocab", .text), ("--out", .text)],
        "bench": [("--shape", .choice), ("--steps", .int(min: 1)), ("--chars", .int(min: 1)), ("--threads", .int(min: 1))],
        "gradcheck": [("--checkpoint", .text), ("--data", .text), ("--samples", .int(min: 1)), ("--seed", .seed),
                      ("--threads", .int(min: 1))],
        "report": [("--out", .text), ("--lang", .choice)],
        "version": [],
        "completions": [],
    ]

    /// A misspelling per command and the flag the error must suggest.
    static let typos: [String: (typed: String, suggestion: String)] = [
        "train": ("--stpes", "--steps"), "sample": ("--temprature", "--temperature"),
        "compare": ("--temperatuers", "--temperatures"), "eval": ("--dta", "--data"), "info": ("--hepl", "--help"),
        "attention": ("--promt", "--prompt"), "inspect": ("--lnag", "--lang"), "plot": ("--ot", "--out"), "export": ("--fromat", "--format"),
        "import": ("--vocabb", "--vocab"), "bench": ("--shpae", "--shape"),
        "gradcheck": ("--smaples", "--samples"), "report": ("--hepl", "--help"),
        "version": ("--hepl", "--help"), "completions": ("--hepl", "--help"),
    ]

    static let huge = "99999999999999999999"

    /// Bad values for one flag, from its kind: each must be refused by the parser (exit 2).
    static func badValues(_ flag: String, _ kind: FlagKind) -> [(values: [String], mentions: String)] {
        var cases: [(values: [String], mentions: String)] = []
        if kind == .toggle {
            return [(["\(flag)=1"], "takes no value")]
        }
        cases.append(([flag], "needs a value"))
        cases.append((["\(flag)="], "empty value"))
        switch kind {
        case .int(let min):
            cases += [([flag, "-5"], flag), ([flag, huge], flag), ([flag, "abc"], "whole number"), ([flag, "1.5"], "whole number")]
            if min > 0 { cases.append(([flag, "0"], flag)) }
        case .seed:
            cases += [([flag, "-1"], flag), ([flag, huge], flag), ([flag, "abc"], "whole number")]
        case .number(let zeroAllowed, let bounded):
            cases += [([flag, "-1"], flag), ([flag, "abc"], "expects a number"), ([flag, "1e39"], "finite"),
                      ([flag, "nan"], "finite"), ([flag, "0x10"], "expects a number")]
            if !zeroAllowed { cases.append(([flag, "0"], flag)) }
            if bounded { cases.append(([flag, huge], flag)) }
        case .numberList:
            cases += [([flag, "-1"], flag), ([flag, "abc"], "expects a number"), ([flag, "0,,1"], "is empty"),
                      ([flag, "1,\(huge)"], "item 2")]
        case .choice:
            cases.append(([flag, "bogus"], "must be one of"))
        case .text, .toggle:
            break
        }
        return cases
    }

    /// Every bad command line: per flag, per command, and the runtime cases.
    static func badInputs() -> [BadInput] {
        var all: [BadInput] = []
        for (command, flags) in flagTable.sorted(by: { $0.key < $1.key }) {
            for (flag, kind) in flags {
                for bad in badValues(flag, kind) {
                    all.append(BadInput(arguments: [command] + bad.values, exitCode: 2, mentions: bad.mentions))
                }
            }
            let typo = typos[command]!
            all.append(BadInput(arguments: [command, typo.typed, "1"], exitCode: 2, mentions: "did you mean \(typo.suggestion)?"))
            all.append(BadInput(arguments: [command, "--zzzzzz"], exitCode: 2, mentions: "unknown flag --zzzzzz"))
        }
        let c = ckpt
        all += [
            // The command itself.
            BadInput(arguments: [], exitCode: 2, mentions: "no command given"),
            BadInput(arguments: ["trian"], exitCode: 2, mentions: "did you mean 'tinygpt train'?"),
            BadInput(arguments: ["frobnicate"], exitCode: 2, mentions: "unknown command 'frobnicate'"),
            BadInput(arguments: ["help", "frobnicate"], exitCode: 2, mentions: "unknown command"),
            // Positionals.
            BadInput(arguments: ["sample", "extra"], exitCode: 2, mentions: "unexpected argument 'extra'"),
            BadInput(arguments: ["bench", "extra"], exitCode: 2, mentions: "unexpected argument"),
            BadInput(arguments: ["info", c, c], exitCode: 2, mentions: "at most 1 argument"),
            BadInput(arguments: ["plot"], exitCode: 2, mentions: "needs LOG"),
            BadInput(arguments: ["export"], exitCode: 2, mentions: "needs CKPT"),
            BadInput(arguments: ["import"], exitCode: 2, mentions: "needs FILE"),
            BadInput(arguments: ["train", "--steps", "5", "--steps", "6"], exitCode: 2, mentions: "more than once"),
            // train: data files.
            BadInput(arguments: ["train", "--preset", "tiny"], exitCode: 2, mentions: "default corpus"),
            BadInput(arguments: ["train", "--data", "missing.txt"], exitCode: 1, mentions: "file not found: missing.txt"),
            BadInput(arguments: ["train", "--data", "empty.txt"], exitCode: 1, mentions: "empty.txt is empty"),
            BadInput(arguments: ["train", "--data", "bad.txt"], exitCode: 1, mentions: "not valid UTF-8: bad byte 0xFF at offset 0"),
            BadInput(arguments: ["train", "--data", "short.txt", "--preset", "tiny"], exitCode: 1, mentions: "too short for a context of 32"),
            BadInput(arguments: ["train", "--data", "folder"], exitCode: 1, mentions: "is a folder"),
            BadInput(arguments: ["train", "--data", "corpus.txt", "--out", "notes.txt", "--preset", "tiny", "--steps", "2"],
                     exitCode: 1, mentions: "is a file, not a folder"),
            // train: the model's shape and schedule.
            BadInput(arguments: ["train", "--data", "corpus.txt", "--width", "30", "--heads", "4"], exitCode: 2, mentions: "not divisible"),
            BadInput(arguments: ["train", "--data", "corpus.txt", "--lr", "0.001", "--min-lr", "0.01"], exitCode: 2, mentions: "--min-lr"),
            BadInput(arguments: ["train", "--data", "corpus.txt", "--width", "16384", "--heads", "1", "--layers", "1024"],
                     exitCode: 2, mentions: "of memory"),
            BadInput(arguments: ["train", "--data", "corpus.txt", "--preset", "tiny", "--context", "65536", "--batch", "65536"],
                     exitCode: 2, mentions: "of memory"),
            // train: resuming.
            BadInput(arguments: ["train", "--resume", c, "--layers", "3", "--data", "corpus.txt"], exitCode: 2,
                     mentions: "--layers 3 conflicts with the checkpoint (2 layers); drop --layers to resume"),
            BadInput(arguments: ["train", "--resume", c, "--preset", "baby", "--data", "corpus.txt"], exitCode: 2,
                     mentions: "--preset baby conflicts with the checkpoint (2 layers); drop --preset to resume"),
            BadInput(arguments: ["train", "--resume", c, "--preset", "tiny", "--data", "corpus.txt"], exitCode: 2, mentions: "pass --steps above 20"),
            BadInput(arguments: ["train", "--resume", c, "--lr", "0.5", "--steps", "30", "--data", "corpus.txt"], exitCode: 2,
                     mentions: "--lr 0.5 conflicts with the checkpoint (learning rate 0.002)"),
            BadInput(arguments: ["train", "--resume", c, "--steps", "10", "--data", "corpus.txt"], exitCode: 2, mentions: "already at step 20 of 10"),
            BadInput(arguments: ["train", "--resume", c, "--data", "corpus.txt"], exitCode: 2, mentions: "pass --steps above 20"),
            BadInput(arguments: ["train", "--resume", c, "--layers", "3"], exitCode: 2, mentions: "--layers 3 conflicts with the checkpoint"),
            // train: fine-tuning.
            BadInput(arguments: ["train", "--init-from", c, "--layers", "3", "--data", "corpus.txt"], exitCode: 2,
                     mentions: "--layers 3 conflicts with the checkpoint (2 layers); drop --layers to fine-tune from it"),
            BadInput(arguments: ["train", "--init-from", c, "--preset", "baby", "--data", "corpus.txt"], exitCode: 2,
                     mentions: "--preset baby conflicts with the checkpoint (2 layers); drop --preset to fine-tune from it"),
            BadInput(arguments: ["train", "--init-from", c, "--resume", c, "--data", "corpus.txt"], exitCode: 2, mentions: "give one of them"),
            BadInput(arguments: ["train", "--freeze", "embeddings", "--data", "corpus.txt"], exitCode: 2, mentions: "give --init-from CKPT with it"),
            BadInput(arguments: ["train", "--init-from", c, "--freeze", "heads", "--data", "corpus.txt"], exitCode: 2,
                     mentions: "what to freeze is \"embeddings\", a number of blocks, or both"),
            BadInput(arguments: ["train", "--init-from", c, "--freeze", "3", "--data", "corpus.txt"], exitCode: 2,
                     mentions: "more blocks than the model's 2"),
            BadInput(arguments: ["train", "--init-from", "missing.ckpt", "--data", "corpus.txt"], exitCode: 1, mentions: "file not found: missing.ckpt"),
            BadInput(arguments: ["train", "--init-from", "notes.txt", "--data", "corpus.txt"], exitCode: 1, mentions: "not a tinygpt checkpoint"),
            BadInput(arguments: ["train", "--resume", "missing.ckpt", "--data", "corpus.txt"], exitCode: 1, mentions: "checkpoint not found"),
            BadInput(arguments: ["train", "--resume", "notes.txt", "--data", "corpus.txt"], exitCode: 1, mentions: "not a tinygpt checkpoint"),
            BadInput(arguments: ["train", "--resume", "trunc.ckpt", "--data", "corpus.txt"], exitCode: 1, mentions: "truncated"),
            BadInput(arguments: ["train", "--resume", "weights.ckpt", "--data", "corpus.txt"], exitCode: 1, mentions: "weights only"),
            BadInput(arguments: ["train", "--resume", c, "--data", "zh.txt", "--steps", "30"], exitCode: 1, mentions: "not in the model's vocabulary"),
            // sample.
            BadInput(arguments: ["sample"], exitCode: 1, mentions: "no checkpoint found"),
            BadInput(arguments: ["sample", "--checkpoint", "missing.ckpt"], exitCode: 1, mentions: "checkpoint not found: missing.ckpt"),
            BadInput(arguments: ["sample", "--checkpoint", "notes.txt"], exitCode: 1, mentions: "not a tinygpt checkpoint"),
            BadInput(arguments: ["sample", "--checkpoint", "trunc.ckpt"], exitCode: 1, mentions: "truncated"),
            BadInput(arguments: ["sample", "--checkpoint", "cut.ckpt"], exitCode: 1, mentions: "cut.ckpt"),
            BadInput(arguments: ["sample", "--checkpoint", "empty.ckpt"], exitCode: 1, mentions: "empty (0 bytes)"),
            BadInput(arguments: ["sample", "--checkpoint", "folder"], exitCode: 1, mentions: "is a folder"),
            BadInput(arguments: ["sample", "--checkpoint", c, "--prompt", "中文"], exitCode: 2, mentions: "'中' (U+4E2D)"),
            BadInput(arguments: ["sample", "--checkpoint", c, "--temperature", "-0.5"], exitCode: 2, mentions: "--temperature"),
            // compare.
            BadInput(arguments: ["compare", "--checkpoint", "missing.ckpt"], exitCode: 1, mentions: "checkpoint not found"),
            BadInput(arguments: ["compare", "--checkpoint", c, "--prompt", "猫"], exitCode: 2, mentions: "not in the model's vocabulary"),
            BadInput(arguments: ["compare", "--checkpoint", c, "--report", "nowhere/report.html"], exitCode: 1, mentions: "no such folder nowhere"),
            BadInput(arguments: ["compare", "--checkpoint", c, "--report", "folder"], exitCode: 1, mentions: "is a folder"),
            // eval.
            BadInput(arguments: ["eval", "--checkpoint", c], exitCode: 2, mentions: "default corpus"),
            BadInput(arguments: ["eval", "--checkpoint", c, "--data", "missing.txt"], exitCode: 1, mentions: "file not found"),
            BadInput(arguments: ["eval", "--checkpoint", c, "--data", "empty.txt"], exitCode: 1, mentions: "is empty"),
            BadInput(arguments: ["eval", "--checkpoint", c, "--data", "bad.txt"], exitCode: 1, mentions: "not valid UTF-8"),
            BadInput(arguments: ["eval", "--checkpoint", c, "--data", "zh.txt"], exitCode: 1, mentions: "zh.txt: the character"),
            BadInput(arguments: ["eval", "--checkpoint", c, "--data", "one.txt"], exitCode: 1, mentions: "too short"),
            BadInput(arguments: ["eval", "--checkpoint", "trunc.ckpt", "--data", "corpus.txt"], exitCode: 1, mentions: "truncated"),
            // info.
            BadInput(arguments: ["info"], exitCode: 1, mentions: "tinygpt info FILE"),
            BadInput(arguments: ["info", "missing.ckpt"], exitCode: 1, mentions: "checkpoint not found"),
            BadInput(arguments: ["info", "notes.txt"], exitCode: 1, mentions: "not a tinygpt checkpoint"),
            BadInput(arguments: ["info", "bad.txt"], exitCode: 1, mentions: "not a tinygpt checkpoint"),
            BadInput(arguments: ["info", "trunc.ckpt"], exitCode: 1, mentions: "truncated"),
            BadInput(arguments: ["info", "empty.ckpt"], exitCode: 1, mentions: "empty"),
            // attention.
            BadInput(arguments: ["attention", "--checkpoint", c], exitCode: 2, mentions: "needs --prompt"),
            BadInput(arguments: ["attention", "--checkpoint", c, "--prompt", "the", "--layer", "5"], exitCode: 2, mentions: "layers 0...1"),
            BadInput(arguments: ["attention", "--checkpoint", c, "--prompt", "the", "--head", "9"], exitCode: 2, mentions: "heads 0...1"),
            BadInput(arguments: ["attention", "--checkpoint", c, "--prompt", "中"], exitCode: 2, mentions: "not in the model's vocabulary"),
            BadInput(arguments: ["attention", "--checkpoint", "missing.ckpt", "--prompt", "the"], exitCode: 1, mentions: "checkpoint not found"),
            BadInput(arguments: ["attention", "--checkpoint", c, "--prompt", "the", "--report", "nowhere/a.html"], exitCode: 1, mentions: "no such folder"),
            // inspect.
            BadInput(arguments: ["inspect", "--checkpoint", c], exitCode: 2, mentions: "needs --prompt"),
            BadInput(arguments: ["inspect", "--checkpoint", c, "--prompt", "中"], exitCode: 2, mentions: "not in the model's vocabulary"),
            BadInput(arguments: ["inspect", "--checkpoint", "missing.ckpt", "--prompt", "the"], exitCode: 1, mentions: "checkpoint not found"),
            BadInput(arguments: ["inspect", "--checkpoint", "trunc.ckpt", "--prompt", "the"], exitCode: 1, mentions: "truncated"),
            BadInput(arguments: ["inspect", "--checkpoint", c, "--prompt", "the", "--out", "nowhere/a.html"], exitCode: 1, mentions: "no such folder"),
            BadInput(arguments: ["inspect", "--checkpoint", c, "--prompt", "the", "--out", "folder"], exitCode: 1, mentions: "is a folder"),
            // plot.
            BadInput(arguments: ["plot", "missing.csv"], exitCode: 1, mentions: "missing.csv"),
            BadInput(arguments: ["plot", "empty.txt"], exitCode: 1, mentions: "empty"),
            BadInput(arguments: ["plot", "notes.txt"], exitCode: 1, mentions: "training log"),
            BadInput(arguments: ["plot", "bad.txt"], exitCode: 1, mentions: "not UTF-8"),
            BadInput(arguments: ["plot", "run/train_log.csv", "--out", "nowhere/loss.svg"], exitCode: 1, mentions: "no such folder"),
            // gradcheck and report.
            BadInput(arguments: ["gradcheck", "--checkpoint", c], exitCode: 2, mentions: "default corpus"),
            BadInput(arguments: ["gradcheck", "--checkpoint", "missing.ckpt", "--data", "corpus.txt"], exitCode: 1, mentions: "checkpoint not found"),
            BadInput(arguments: ["gradcheck", "--checkpoint", c, "--data", "zh.txt"], exitCode: 1, mentions: "zh.txt"),
            BadInput(arguments: ["gradcheck", "--checkpoint", c, "--data", "one.txt"], exitCode: 1, mentions: "too short"),
            BadInput(arguments: ["gradcheck", "--checkpoint", c, "--data", "corpus.txt", "--samples", "1001"], exitCode: 2, mentions: "--samples"),
            BadInput(arguments: ["report"], exitCode: 2, mentions: "needs RUN_DIR"),
            BadInput(arguments: ["report", "missing"], exitCode: 1, mentions: "not a folder"),
            BadInput(arguments: ["report", "notes.txt"], exitCode: 1, mentions: "not a folder"),
            BadInput(arguments: ["report", "folder"], exitCode: 1, mentions: "no train_log.csv"),
            BadInput(arguments: ["report", "run", "--out", "run/train_log.csv"], exitCode: 1, mentions: "this command's own input"),
            BadInput(arguments: ["report", "run", "zhrun", "--out", "nowhere/a.svg"], exitCode: 1, mentions: "no such folder"),
            BadInput(arguments: ["report", "run", "--lang", "fr"], exitCode: 2, mentions: "--lang"),
            BadInput(arguments: ["train", "--data", "corpus.txt", "--preset", "tiny", "--probe", "猫"], exitCode: 2, mentions: "--probe"),
            BadInput(arguments: ["train", "--data", "corpus.txt", "--preset", "tiny", "--probe", ""], exitCode: 2, mentions: "--probe"),
            // export and import.
            BadInput(arguments: ["export", c], exitCode: 2, mentions: "needs --out"),
            BadInput(arguments: ["export", "notes.txt", "--out", "x.safetensors"], exitCode: 1, mentions: "not a tinygpt checkpoint"),
            BadInput(arguments: ["export", "trunc.ckpt", "--out", "x.safetensors"], exitCode: 1, mentions: "truncated"),
            BadInput(arguments: ["export", "missing.ckpt", "--out", "x.safetensors"], exitCode: 1, mentions: "not found"),
            BadInput(arguments: ["export", c, "--out", "nowhere/x.safetensors"], exitCode: 1, mentions: "no such folder"),
            BadInput(arguments: ["export", c, "--out", "x.safetensors", "--prompt", "中"], exitCode: 2, mentions: "not in the model's vocabulary"),
            BadInput(arguments: ["import", "weights.safetensors"], exitCode: 2, mentions: "needs --out"),
            BadInput(arguments: ["import", "missing.safetensors", "--out", "x.ckpt"], exitCode: 1, mentions: "not found"),
            BadInput(arguments: ["import", "notes.txt", "--out", "x.ckpt"], exitCode: 1, mentions: "notes.txt"),
            BadInput(arguments: ["import", "weights.safetensors", "--vocab", "notes.txt", "--out", "x.ckpt"], exitCode: 1, mentions: "JSON"),
            BadInput(arguments: ["import", "notes.txt", "--vocab", "weights.safetensors.json", "--out", "x.ckpt"], exitCode: 1, mentions: "safetensors"),
            // export --to nanogpt, version and completions.
            BadInput(arguments: ["export", c, "--out", "x.safetensors", "--data", "corpus.txt"], exitCode: 2, mentions: "goes with --to nanogpt"),
            BadInput(arguments: ["export", "--to", "nanogpt", "nano", "--out", "x"], exitCode: 2, mentions: "does not go with --to nanogpt"),
            BadInput(arguments: ["export", "--to", "nanogpt", "notes.txt", "--checkpoint", c, "--data", "corpus.txt"], exitCode: 1, mentions: "it is a file"),
            BadInput(arguments: ["export", "--to", "nanogpt", "nano", "--checkpoint", c, "--data", "zh.txt"], exitCode: 1, mentions: "not in the model's vocabulary"),
            BadInput(arguments: ["export", "--to", "nanogpt", "nano", "--checkpoint", c, "--data", "short.txt"], exitCode: 1, mentions: "is not the text"),
            BadInput(arguments: ["export", "--to", "nanogpt", "nano", "--checkpoint", "weights.ckpt", "--data", "corpus.txt"], exitCode: 1, mentions: "weights only"),
            BadInput(arguments: ["export", "--to", "nanogpt", "nano", "--checkpoint", "missing.ckpt"], exitCode: 1, mentions: "not found"),
            BadInput(arguments: ["completions"], exitCode: 2, mentions: "needs SHELL"),
            BadInput(arguments: ["completions", "tcsh"], exitCode: 2, mentions: "bash, zsh and fish"),
            BadInput(arguments: ["version", "extra"], exitCode: 2, mentions: "unexpected argument"),
        ]
        return all
    }

    /// Every bad input: the right exit code, one "tinygpt: " line on stderr that says what the
    /// case is about, no crash, and the working folder exactly as it was.
    func testEveryBadInputGivesOneLineAndTheRightExitCode() throws {
        let cases = Self.badInputs()
        var failures = 0
        for bad in cases {
            let before = TinyGPTProcess.listing(Self.work)
            let outcome = try run(bad.arguments, timeout: 60)
            let after = TinyGPTProcess.listing(Self.work)
            let shown = "tinygpt " + bad.arguments.joined(separator: " ")
            let lines = outcome.stderrLines
            var problems: [String] = []
            if outcome.timedOut { problems.append("timed out") }
            if outcome.killedBySignal { problems.append("died of signal \(outcome.exitCode)") }
            if outcome.exitCode != bad.exitCode { problems.append("exit code \(outcome.exitCode), expected \(bad.exitCode)") }
            if lines.count != 1 { problems.append("\(lines.count) stderr lines") }
            if let first = lines.first, !first.hasPrefix("tinygpt: ") { problems.append("stderr does not start with 'tinygpt: '") }
            if let mentions = bad.mentions, !outcome.stderr.contains(mentions) { problems.append("stderr lacks \"\(mentions)\"") }
            for crash in ["Fatal error", "Stack dump", "Illegal instruction", "Backtrace", "Program crashed"]
            where outcome.stderr.contains(crash) || outcome.stdout.contains(crash) {
                problems.append("output shows \"\(crash)\"")
            }
            if after != before { problems.append("files changed: \(after.symmetricDifference(before).sorted())") }
            if after.contains(where: { $0.contains(".tmp") }) { problems.append("a temporary file is left") }
            if !problems.isEmpty {
                failures += 1
                XCTFail("\(shown): \(problems.joined(separator: "; ")); stderr: \(outcome.stderr)")
            }
        }
        print("CLITests: \(cases.count) bad-input cases checked, \(failures) failed (\(TinyGPTProcess.executable?.path ?? "?"))")
        XCTAssertGreaterThan(cases.count, 250, "the case table shrank")
    }

    /// The flag table above lists exactly the flags each command's --help shows.
    func testFlagTableCoversEveryFlag() throws {
        XCTAssertEqual(Set(Self.flagTable.keys), Set(Self.typos.keys))
        for (command, flags) in Self.flagTable {
            let help = try run([command, "--help"])
            let shown = Set(help.stdout.split(separator: "\n").compactMap { line -> String? in
                let trimmed = line.drop { $0 == " " }
                guard line.hasPrefix("  --"), let name = trimmed.split(separator: " ").first else { return nil }
                return String(name)
            })
            XCTAssertEqual(shown, Set(flags.map(\.0)), "\(command): the flags in --help differ from the test's table")
        }
        let overview = try run(["--help"])
        for command in Self.flagTable.keys {
            XCTAssertTrue(overview.stdout.contains("  \(command) "), "tinygpt --help does not list \(command)")
        }
    }

    func testHelpForEveryCommandExitsZero() throws {
        for command in Self.flagTable.keys.sorted() {
            for arguments in [[command, "--help"], [command, "-h"], ["help", command]] {
                let outcome = try run(arguments)
                XCTAssertEqual(outcome.exitCode, 0, "\(arguments)")
                XCTAssertEqual(outcome.stderr, "", "\(arguments)")
                XCTAssertTrue(outcome.stdout.hasPrefix("Usage: tinygpt \(command)"), "\(arguments): \(outcome.stdout.prefix(80))")
            }
        }
        for arguments in [["--help"], ["-h"], ["help"]] {
            let outcome = try run(arguments)
            XCTAssertEqual(outcome.exitCode, 0)
            XCTAssertEqual(outcome.stderr, "")
            XCTAssertTrue(outcome.stdout.contains("Usage: tinygpt <command>"))
        }
    }

    // MARK: Happy paths

    func testTrainEndsWithValidationLoss() throws {
        let train = try XCTUnwrap(Self.trainOutcome)
        XCTAssertEqual(train.exitCode, 0)
        let last = try XCTUnwrap(train.stdout.split(separator: "\n").last.map(String.init))
        XCTAssertNotNil(last.range(of: #"val loss [0-9]+\.[0-9]+"#, options: .regularExpression), "last line: \(last)")
        for name in ["latest.ckpt", "best.ckpt", "train_log.csv", "loss.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: Self.work.appendingPathComponent("run/\(name)").path), name)
        }
        XCTAssertFalse(TinyGPTProcess.listing(Self.work).contains { $0.contains(".tmp") })

        // The log is the run: steps rise to the last one, the last row's validation loss is the
        // one printed, and every validation point of the checkpoint's history is in the log.
        let run = Self.work.appendingPathComponent("run")
        let rows = try TrainingLog.read(path: run.appendingPathComponent("train_log.csv").path)
        XCTAssertEqual(rows.map(\.step), rows.map(\.step).sorted())
        let checkpoint = try Checkpoint(contentsOf: run.appendingPathComponent("latest.ckpt").path)
        let history = try XCTUnwrap(checkpoint.training?.history)
        XCTAssertEqual(rows.last?.step, checkpoint.training?.step)
        for entry in history where !entry.validationLoss.isNaN {
            let row = rows.first { $0.step == entry.step && $0.validationLoss != nil }
            XCTAssertEqual(row?.validationLoss.map(Float.init), entry.validationLoss, "step \(entry.step)")
            // The training loss at an evaluation is the mean over windows, in the log and the checkpoint.
            XCTAssertEqual(row?.trainLoss.map(Float.init), entry.trainLoss, "step \(entry.step)")
        }
        let printed = try XCTUnwrap(last.range(of: #"[0-9]+\.[0-9]+$"#, options: .regularExpression).map { Double(last[$0])! })
        XCTAssertEqual(try XCTUnwrap(rows.last?.validationLoss), printed, accuracy: 1e-4)
        let svg = try Data(contentsOf: run.appendingPathComponent("loss.svg"))
        XCTAssertTrue(XMLParser(data: svg).parse(), "loss.svg is well-formed XML")
    }

    func testSamplingIsRepeatable() throws {
        let greedy = ["sample", "--checkpoint", Self.ckpt, "--prompt", "The ", "--greedy", "--tokens", "60"]
        let g1 = try run(greedy), g2 = try run(greedy)
        XCTAssertEqual(g1.exitCode, 0, g1.stderr)
        XCTAssertTrue(g1.stdout.hasPrefix("The "))
        XCTAssertEqual(g1.stdout.count, "The ".count + 60 + 1, "prompt, 60 characters and a newline")
        XCTAssertEqual(g1.stdout, g2.stdout)

        let seeded = ["sample", "--checkpoint", Self.ckpt, "--seed", "5", "--temperature", "1", "--tokens", "200"]
        let s1 = try run(seeded), s2 = try run(seeded)
        XCTAssertEqual(s1.exitCode, 0, s1.stderr)
        XCTAssertEqual(s1.stdout, s2.stdout)
        let other = try run(["sample", "--checkpoint", Self.ckpt, "--seed", "6", "--temperature", "1", "--tokens", "200"])
        XCTAssertNotEqual(s1.stdout, other.stdout, "seeds 5 and 6 gave the same 200 characters")
    }

    func testCompareShowsEveryTemperature() throws {
        let outcome = try run(["compare", "--checkpoint", Self.ckpt, "--temperatures", "0,1", "--tokens", "40", "--prompt", "The "])
        XCTAssertEqual(outcome.exitCode, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("T = 0 (greedy)"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("T = 1.0"), outcome.stdout)
        // The report is the inspector page with the continuations; the terminal is the same.
        let report = try run(["compare", "--checkpoint", Self.ckpt, "--temperatures", "0,1", "--tokens", "40", "--prompt", "The ",
                              "--samples", "2", "--report", "compare.html"])
        XCTAssertEqual(report.exitCode, 0, report.stderr)
        XCTAssertEqual(report.stdout, outcome.stdout + "\nreport: compare.html\n")
        let html = try String(contentsOf: Self.work.appendingPathComponent("compare.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("id=\"inspector-data\"") && html.contains("<section id=\"sweep\""), "not the inspector page")
        let json = html.components(separatedBy: "id=\"inspector-data\">")[1].components(separatedBy: "</script>")[0]
        let data = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let sweep = data["sweep"] as! [String: Any]
        XCTAssertEqual((sweep["temperatures"] as! [NSNumber]).map(\.doubleValue), [0, 1])
        let samples = sweep["samples"] as! [[[String: Any]]]
        XCTAssertEqual(samples.map(\.count), [2, 2])
        // The first sample at each temperature is the one the terminal shows side by side.
        XCTAssertTrue(samples.allSatisfy { ($0[0]["text"] as! String).count == 40 })
    }

    func testGradcheckPassesOnTheTrainedCheckpoint() throws {
        let outcome = try run(["gradcheck", "--checkpoint", Self.ckpt, "--data", "corpus.txt", "--samples", "2"])
        XCTAssertEqual(outcome.exitCode, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("nudging one weight"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("transformer.h.1.mlp.c_proj.weight"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("agree"), outcome.stdout)
        XCTAssertFalse(outcome.stdout.contains("FAIL"), outcome.stdout)
    }

    func testTrainWritesTheReportAndReportRedrawsIt() throws {
        let folder = Self.work.appendingPathComponent("run")
        for name in ["report.html", "health.jsonl", "timelapse.jsonl", "run.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), name)
        }
        let outcome = try run(["report", "run"])
        XCTAssertEqual(outcome.exitCode, 0, outcome.stderr)
        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        for part in ["Time-lapse", "延时摄影", "Gradient norm per block", "Learning rate", "unigram"] {
            XCTAssertTrue(html.contains(part), part)
        }
    }

    /// A run on Chinese text opens in Chinese; --lang chooses; several runs go side by side,
    /// labelled by what differs (here the text), as a page or as one SVG.
    func testReportChoosesItsLanguageAndPutsRunsSideBySide() throws {
        let zh = try run(["report", "zhrun"])
        XCTAssertEqual(zh.exitCode, 0, zh.stderr)
        XCTAssertTrue(try String(contentsOf: Self.work.appendingPathComponent("zhrun/report.html"), encoding: .utf8)
            .contains("data-lang=\"zh\""))
        let forced = try run(["report", "zhrun", "--lang", "en", "--out", "zh-in-english.html"])
        XCTAssertEqual(forced.exitCode, 0, forced.stderr)
        XCTAssertTrue(try String(contentsOf: Self.work.appendingPathComponent("zh-in-english.html"), encoding: .utf8)
            .contains("data-lang=\"en\""))
        let both = try run(["report", "run", "zhrun", "--out", "both.html"])
        XCTAssertEqual(both.exitCode, 0, both.stderr)
        XCTAssertTrue(both.stdout.contains("2 runs: data corpus.txt · data zh.txt"), both.stdout)
        let page = try String(contentsOf: Self.work.appendingPathComponent("both.html"), encoding: .utf8)
        XCTAssertTrue(page.contains("Runs side by side") && page.contains("数据 zh.txt"))
        let svg = try run(["report", "run", "zhrun", "--out", "both.svg", "--lang", "zh"])
        XCTAssertEqual(svg.exitCode, 0, svg.stderr)
        let figure = try Data(contentsOf: Self.work.appendingPathComponent("both.svg"))
        XCTAssertTrue(XMLParser(data: figure).parse())
        XCTAssertTrue(String(decoding: figure, as: UTF8.self).contains("损失随步数的变化"))
        for name in ["zh-in-english.html", "both.html", "both.svg"] {
            try? FileManager.default.removeItem(at: Self.work.appendingPathComponent(name))
        }
    }

    /// A prompt or a probe longer than the context says the model sees only its end (issue 21).
    func testALongPromptOrProbeSaysWhatTheModelSees() throws {
        let long = String(repeating: "the cat sat. ", count: 20)  // 260 characters, context 32
        let compare = try run(["compare", "--checkpoint", Self.ckpt, "--prompt", long, "--temperatures", "0,1", "--tokens", "8"])
        XCTAssertEqual(compare.exitCode, 0, compare.stderr)
        XCTAssertTrue(compare.stdout.contains("(260 characters; the model sees the last 32, its context length"), compare.stdout)
        XCTAssertFalse(compare.stdout.contains(long), "the whole prompt is printed")
        let train = try run(["train", "--data", "corpus.txt", "--preset", "tiny", "--steps", "2", "--eval-every", "2",
                             "--probe", long, "--out", "long-probe"])
        XCTAssertEqual(train.exitCode, 0, train.stderr)
        XCTAssertTrue(train.stderr.contains("--probe has 260 characters; the model sees only its last 32"), train.stderr)
        try? FileManager.default.removeItem(at: Self.work.appendingPathComponent("long-probe"))
    }

    func testInspectWritesOneSelfContainedPage() throws {
        let out = Self.work.appendingPathComponent("inspect-test")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }
        for (prompt, language) in [("The ", "en"), ("老师", "zh")] {
            let checkpoint = language == "zh" ? "zhrun/latest.ckpt" : Self.ckpt
            let outcome = try run(["inspect", "--checkpoint", checkpoint, "--prompt", prompt, "--out", "inspect-test/\(language).html"])
            XCTAssertEqual(outcome.exitCode, 0, outcome.stderr)
            XCTAssertTrue(outcome.stdout.contains("page: inspect-test/\(language).html"), outcome.stdout)
            XCTAssertTrue(outcome.stdout.contains(", \(language), "), "language chosen from the prompt: \(outcome.stdout)")
            let html = try String(contentsOf: out.appendingPathComponent("\(language).html"), encoding: .utf8)
            XCTAssertTrue(html.contains("lang=\"\(language)\"") && html.contains("id=\"inspector-data\""))
        }
        let forced = try run(["inspect", "--checkpoint", Self.ckpt, "--prompt", "The ", "--lang", "zh", "--out", "inspect-test/forced.html"])
        XCTAssertTrue(forced.stdout.contains(", zh, "), forced.stdout)
    }

    func testInspectPrintsThePromptsLossAndEvalAgreesOnTheSameText() throws {
        // A prompt shorter than the context (32): eval scores it as one window.
        let prompt = "The lamp is lit and the sea"
        try Data(prompt.utf8).write(to: Self.work.appendingPathComponent("prompt.txt"))
        defer { try? FileManager.default.removeItem(at: Self.work.appendingPathComponent("prompt.txt")) }
        let inspect = try run(["inspect", "--checkpoint", Self.ckpt, "--prompt", prompt, "--out", "loss.html"])
        XCTAssertEqual(inspect.exitCode, 0, inspect.stderr)
        let line = try XCTUnwrap(inspect.stdout.split(separator: "\n").first { $0.hasPrefix("loss on the prompt: ") }, inspect.stdout)
        XCTAssertTrue(line.contains("over \(prompt.count - 1) positions"), String(line))
        let shown = Double(line.dropFirst("loss on the prompt: ".count).prefix { $0 != " " })!
        let eval = try run(["eval", "--checkpoint", Self.ckpt, "--data", "prompt.txt", "--no-baselines"])
        XCTAssertEqual(eval.exitCode, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains("\(prompt.count - 1) characters scored"), eval.stdout)
        let scored = try XCTUnwrap(eval.stdout.range(of: #"loss [0-9.]+ nats"#, options: .regularExpression))
        let evalLoss = Double(eval.stdout[scored].dropFirst(5).dropLast(5))!
        XCTAssertEqual(shown, evalLoss, accuracy: 1e-4, "inspect's loss is eval's on the same text")
    }

    func testEvalReportsLossBitsAndPerplexity() throws {
        let outcome = try run(["eval", "--checkpoint", Self.ckpt, "--data", "corpus.txt"])
        XCTAssertEqual(outcome.exitCode, 0, outcome.stderr)
        let pattern = #"loss [0-9.]+ nats/char · [0-9.]+ bits/char · perplexity [0-9.]+"#
        XCTAssertNotNil(outcome.stdout.range(of: pattern, options: .regularExpression), outcome.stdout)
    }

    /// `train --init-from` on a text with characters the model lacks: one line says how many were
    /// added, the run has its own folder, and `info` shows the writer and the lineage.
    func testFineTuningFromTheTrainedCheckpoint() throws {
        let text = String(repeating: "Quod 7 ZEBRAS; jump [over] the QUIET fox!\n", count: 30)
        try Data(text.utf8).write(to: Self.work.appendingPathComponent("new.txt"))
        let tune = try run(["train", "--init-from", Self.ckpt, "--data", "new.txt", "--steps", "4", "--eval-windows", "2",
                            "--batch", "2", "--freeze", "embeddings", "--out", "tuned"])
        XCTAssertEqual(tune.exitCode, 0, tune.stderr)
        XCTAssertTrue(tune.stdout.contains("fine-tuning from run/latest.ckpt (step 20"), tune.stdout)
        XCTAssertNotNil(tune.stdout.range(of: #"vocabulary: [0-9]+ new characters added to the model's [0-9]+:"#, options: .regularExpression),
                        tune.stdout)
        XCTAssertTrue(tune.stdout.contains("frozen: embeddings"), tune.stdout)
        XCTAssertTrue(tune.stdout.contains("before fine-tuning: val loss"), tune.stdout)
        let info = try run(["info", "tuned/latest.ckpt"])
        XCTAssertEqual(info.exitCode, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("written by: tinygpt \(TinyGPTVersion.string)"), info.stdout)
        XCTAssertTrue(info.stdout.contains("lineage: run/latest.ckpt (step 20"), info.stdout)
        XCTAssertTrue(info.stdout.contains("→ this model"), info.stdout)
        XCTAssertTrue(info.stdout.contains("frozen: "), info.stdout)
        let report = try String(contentsOf: Self.work.appendingPathComponent("tuned/report.html"), encoding: .utf8)
        XCTAssertTrue(report.contains("Fine-tuned from run/latest.ckpt (step 20)"), "the report names the source")
        XCTAssertTrue(report.contains("fine-tuning start"), "the loss chart marks where fine-tuning began")
    }

    func testInfoPrintsTheConfig() throws {
        let outcome = try run(["info", Self.ckpt])
        XCTAssertEqual(outcome.exitCode, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("model: 2 layers, 2 heads, width 64, context 32"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("training: step 20 of 20"), outcome.stdout)
    }

    func testChinesePromptOnAChineseModel() throws {
        let prompt = "老师"
        let outcome = try run(["sample", "--checkpoint", "zhrun/latest.ckpt", "--prompt", prompt, "--tokens", "30", "--seed", "3"])
        XCTAssertEqual(outcome.exitCode, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.hasPrefix(prompt), outcome.stdout)
        let generated = outcome.stdout.unicodeScalars.dropFirst(prompt.unicodeScalars.count)
        let corpus = Set(TestCorpus.chinese().unicodeScalars)
        XCTAssertTrue(generated.allSatisfy { corpus.contains($0) || $0 == "\n" }, "characters outside the corpus: \(outcome.stdout)")
        XCTAssertGreaterThanOrEqual(generated.filter { (0x4E00...0x9FFF).contains($0.value) }.count, 10,
                                    "expected Chinese characters, got \(outcome.stdout)")
    }
}
