// Issue 22 from the outside: `tinygpt --version` and the instruction-set check (with the CPU's
// features faked through TINYGPT_TEST_CPU_FLAGS, since a test machine with AVX-512 cannot lose
// it), the executable built without AVX-512 instructions so the check can run first, the shell
// completion scripts (valid to each shell, complete against the flag tables), and
// `export --to nanogpt` (Python's pickle reads meta.pkl; the ids come back as the text).

import Foundation
import XCTest
@testable import TinyGPT
@testable import tinygpt_cli

final class AnywhereCLITests: XCTestCase {
    static let work: URL = try! TinyGPTProcess.makeTemporaryFolder("anywhere")
    static let logs: URL = {
        let url = work.appendingPathComponent("logs")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    private func run(_ arguments: [String], environment: [String: String] = [:]) throws -> TinyGPTProcess.Outcome {
        guard TinyGPTProcess.executable != nil else { throw XCTSkip("the tinygpt executable is not built") }
        for (key, value) in environment { setenv(key, value, 1) }
        defer { for key in environment.keys { unsetenv(key) } }
        return try TinyGPTProcess.run(arguments, in: Self.work, logs: Self.logs, timeout: 120)
    }

    /// Runs a program (python3, bash, …) found on PATH; nil when it is not installed.
    private func shell(_ program: String, _ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String)? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = Self.work
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    // MARK: - Version and the instruction-set check

    func testVersionNamesTheVersionAndTheInstructionSet() throws {
        for arguments in [["--version"], ["-V"], ["version"]] {
            let outcome = try run(arguments)
            XCTAssertEqual(outcome.exitCode, 0, "\(arguments): \(outcome.stderr)")
            let lines = outcome.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.first, "tinygpt \(TinyGPTVersion.string)")
            XCTAssertTrue(lines.count == 3 && lines[1].hasPrefix("built for: ") && lines[2].hasPrefix("this CPU: "), "\(lines)")
            XCTAssertTrue(["AVX-512", "AVX2", "NEON"].contains { lines[1].contains($0) }, lines[1])
        }
    }

    /// On a CPU without the instruction set the binary was built for, every command stops in one
    /// line with exit 1 (not "Illegal instruction"); --version says what is missing and exits 0.
    func testABinaryBuiltForMoreThanTheCPUHasStopsInOneLine() throws {
        let required = InstructionSet.required
        guard !required.isEmpty else { throw XCTSkip("this build needs nothing beyond the architecture's baseline") }
        // A CPU with everything but the last required feature (for AVX-512: avx512vl; for AVX2: movbe).
        let fake = ["TINYGPT_TEST_CPU_FLAGS": required.dropLast().joined(separator: " ")]
        for arguments in [["sample", "--tokens", "3"], ["train", "--preset", "tiny"], ["bench"], ["info"]] {
            let outcome = try run(arguments, environment: fake)
            XCTAssertEqual(outcome.exitCode, 1, "\(arguments)")
            XCTAssertFalse(outcome.killedBySignal, "\(arguments)")
            XCTAssertEqual(outcome.stderrLines.count, 1, "\(arguments): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.hasPrefix("tinygpt: this binary was built for \(InstructionSet.built)"), outcome.stderr)
            XCTAssertTrue(outcome.stderr.contains(required.last!) && outcome.stderr.contains("TINYGPT_PORTABLE=1"), outcome.stderr)
            XCTAssertEqual(outcome.stdout, "")
        }
        let version = try run(["--version"], environment: fake)
        XCTAssertEqual(version.exitCode, 0)
        XCTAssertTrue(version.stdout.contains("this CPU: lacks \(InstructionSet.built) (no \(required.last!))"), version.stdout)
        // With every feature the check lets the command through.
        let all = try run(["completions", "bash"], environment: ["TINYGPT_TEST_CPU_FLAGS": required.joined(separator: " ")])
        XCTAssertEqual(all.exitCode, 0)
    }

    /// The check can only run first if the code before it has no AVX-512 instruction: the
    /// executable's own object files must have none, while the library's may (with -march=x86-64-v4
    /// the compiler uses them well outside the kernels).
    func testTheExecutableItselfHasNoAVX512Instructions() throws {
        #if arch(x86_64)
        let binary = try XCTUnwrap(TinyGPTProcess.executable)
        let objects = binary.deletingLastPathComponent().appendingPathComponent("tinygpt_cli.build")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: objects.path)) ?? []).filter { $0.hasSuffix(".o") }
        guard !files.isEmpty else { throw XCTSkip("no object files beside \(binary.path)") }
        for file in files {
            guard let result = try shell("objdump", ["-d", "--no-show-raw-insn", objects.appendingPathComponent(file).path]) else {
                throw XCTSkip("objdump is not installed")
            }
            // zmm registers, the upper 16 xmm/ymm registers and mask registers exist only with AVX-512.
            let evex = result.output.split(separator: "\n").filter {
                $0.range(of: #"%zmm|%[xy]mm(1[6-9]|2[0-9]|3[01])\b|%k[0-7]\b"#, options: .regularExpression) != nil
            }
            XCTAssertEqual(evex.count, 0, "\(file) has AVX-512 instructions, e.g. \(evex.prefix(3))")
        }
        #else
        throw XCTSkip("x86-64 only")
        #endif
    }

    // MARK: - Completions

    static let presetNames = Preset.all.map(\.name)

    func testCompletionScriptsAreValidAndHoldEveryCommandAndFlag() throws {
        let specs = Commands.all.map(\.spec)
        for shellName in ["bash", "zsh", "fish"] {
            let outcome = try run(["completions", shellName])
            XCTAssertEqual(outcome.exitCode, 0, outcome.stderr)
            let script = outcome.stdout
            for spec in specs {
                XCTAssertTrue(script.contains(spec.name), "\(shellName): no command \(spec.name)")
                for flag in spec.flags {
                    let word = shellName == "fish" ? "-l \(flag.name.dropFirst(2)) " : flag.name
                    XCTAssertTrue(script.contains(word), "\(shellName): no \(flag.name) for \(spec.name)")
                }
            }
            for preset in Self.presetNames { XCTAssertTrue(script.contains(preset), "\(shellName): no preset \(preset)") }
            // The shell's own syntax check, where the shell is installed.
            let file = Self.work.appendingPathComponent("completion.\(shellName)")
            try script.write(to: file, atomically: true, encoding: .utf8)
            if let check = try shell(shellName, ["-n", file.path]) {
                XCTAssertEqual(check.status, 0, "\(shellName) -n: \(check.output)")
            }
        }
    }

    /// What bash offers: commands, then a command's flags, then a choice flag's values.
    func testBashCompletesCommandsFlagsAndPresets() throws {
        let script = try run(["completions", "bash"]).stdout
        func offered(_ words: [String]) throws -> [String]? {
            let quoted = words.map { "'\($0)'" }.joined(separator: " ")
            let program = script + "\nCOMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1); _tinygpt; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
            guard let result = try shell("bash", ["-s"], input: program) else { return nil }
            XCTAssertEqual(result.status, 0, result.output)
            return result.output.split(separator: "\n").map(String.init)
        }
        guard let first = try offered(["tinygpt", "tr"]) else { throw XCTSkip("bash is not installed") }
        XCTAssertEqual(first, ["train"])
        XCTAssertEqual(try offered(["tinygpt", "train", "--pre"]), ["--preset"])
        XCTAssertEqual(Set(try offered(["tinygpt", "train", "--preset", ""]) ?? []), Set(Self.presetNames))
        XCTAssertEqual(try offered(["tinygpt", "completions", "z"]), ["zsh"])
        XCTAssertEqual(try offered(["tinygpt", "export", "--to", ""]), ["nanogpt"])
    }

    // MARK: - export --to nanogpt

    func testExportToNanoGPTWritesWhatNanoGPTReads() throws {
        let fm = FileManager.default
        let text = TestCorpus.english()
        try text.write(to: Self.work.appendingPathComponent("story.txt"), atomically: true, encoding: .utf8)
        let train = try run(["train", "--preset", "tiny", "--steps", "5", "--data", "story.txt", "--out", "storyrun"])
        XCTAssertEqual(train.exitCode, 0, train.stderr)
        let export = try run(["export", "--to", "nanogpt", "nano", "--checkpoint", "storyrun/latest.ckpt", "--data", "story.txt"])
        XCTAssertEqual(export.exitCode, 0, export.stderr)
        XCTAssertTrue(export.stdout.contains("python train.py config/train_story.py"), export.stdout)

        // The ids round-trip: train.bin then val.bin, decoded with the checkpoint's vocabulary, are the text.
        let dir = Self.work.appendingPathComponent("nano/data/story")
        let checkpoint = try Checkpoint(contentsOf: Self.work.appendingPathComponent("storyrun/latest.ckpt").path)
        let tokenizer = try CharTokenizer(vocabulary: checkpoint.vocabulary)
        let trainIds = NanoGPTExport.ids(fromUInt16: Array(try Data(contentsOf: dir.appendingPathComponent("train.bin"))))
        let valIds = NanoGPTExport.ids(fromUInt16: Array(try Data(contentsOf: dir.appendingPathComponent("val.bin"))))
        XCTAssertEqual(tokenizer.decode(trainIds + valIds), text)
        XCTAssertEqual(valIds.count, Int((Double(trainIds.count + valIds.count) * 0.1).rounded()), "the run's split")

        // The config holds the run's shape and schedule in nanoGPT's names.
        let config = try String(contentsOf: Self.work.appendingPathComponent("nano/config/train_story.py"), encoding: .utf8)
        for line in ["dataset = 'story'", "n_layer = 2", "n_head = 2", "n_embd = 64", "block_size = 32", "batch_size = 8",
                     "max_iters = 5", "learning_rate = 0.002", "bias = True"] {
            XCTAssertTrue(config.contains("\n" + line + "\n"), "config lacks \(line)")
        }
        XCTAssertTrue(fm.fileExists(atPath: Self.work.appendingPathComponent("nano/story-sidecar.json").path))

        // Python's own pickle reads meta.pkl, and numpy's way of reading the .bin files gives the text.
        let check = """
            import pickle, sys, array, ast
            meta = pickle.load(open('nano/data/story/meta.pkl', 'rb'))
            assert sorted(meta) == ['itos', 'stoi', 'vocab_size'], meta.keys()
            chars = sorted(set(open('story.txt', encoding='utf-8').read()))
            assert meta['vocab_size'] == len(chars), meta['vocab_size']
            assert meta['stoi'] == {c: i for i, c in enumerate(chars)}
            assert meta['itos'] == {i: c for i, c in enumerate(chars)}
            ids = array.array('H'); ids.frombytes(open('nano/data/story/train.bin', 'rb').read() + open('nano/data/story/val.bin', 'rb').read())
            assert ''.join(meta['itos'][i] for i in ids) == open('story.txt', encoding='utf-8').read()
            config = {}
            exec(open('nano/config/train_story.py').read(), config)
            assert config['n_layer'] == 2 and config['dataset'] == 'story' and config['learning_rate'] == 0.002
            print('python: meta.pkl, ids and config read back')
            """
        guard let python = try shell("python3", ["-"], input: check) else { throw XCTSkip("python3 is not installed") }
        XCTAssertEqual(python.status, 0, python.output)
        XCTAssertTrue(python.output.contains("read back"), python.output)
    }

    /// The hand-written pickle, byte for byte, for a small vocabulary (what Python's pickle
    /// protocol 2 writes for the same dict without its memo opcodes).
    func testMetaPickleBytes() throws {
        let bytes = try NanoGPTExport.metaPickle(vocabulary: [0x0A, 0x61, 0x4E2D])
        var expected: [UInt8] = [0x80, 0x02, 0x7D, 0x28]
        func str(_ s: String) { let u = Array(s.utf8); expected += [0x58, UInt8(u.count), 0, 0, 0] + u }
        str("vocab_size"); expected += [0x4B, 3]
        str("itos"); expected += [0x7D, 0x28]
        for (i, s) in ["\n", "a", "中"].enumerated() { expected += [0x4B, UInt8(i)]; str(s) }
        expected.append(0x75)
        str("stoi"); expected += [0x7D, 0x28]
        for (i, s) in ["\n", "a", "中"].enumerated() { str(s); expected += [0x4B, UInt8(i)] }
        expected += [0x75, 0x75, 0x2E]
        XCTAssertEqual(bytes, expected)
        // Larger ids take two bytes (BININT2), as Python writes them.
        var p = NanoGPTExport.Pickle()
        p.int(300)
        p.int(70_000)
        XCTAssertEqual(p.bytes, [0x4D, 0x2C, 0x01, 0x4A, 0x70, 0x11, 0x01, 0x00])
    }
}
