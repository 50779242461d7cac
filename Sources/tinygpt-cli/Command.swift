// What every subcommand is, and the flags and defaults several of them share.

import Foundation
import TinyGPT
import TinyGPTViews

protocol Command {
    var spec: CommandSpec { get }
    func run(_ flags: ParsedFlags) throws
}

enum Defaults {
    /// The corpus `train` and `eval` use without --data.
    static let corpus = "Corpora/lighthouse.txt"
    /// Where runs are saved without --out: Checkpoints/<corpus name>.
    static let checkpointRoot = "Checkpoints"
}

enum SharedFlags {
    static let threads = FlagSpec.int("--threads", "N", in: 1...256, help: "worker threads (default: all cores)")
    static let checkpoint = FlagSpec.string("--checkpoint", "FILE", help: "checkpoint to load (default: the newest under Checkpoints/)")
    /// Train's --seed (TrainingSetting.all), shared by every command that draws random numbers,
    /// so one default (TrainingConfig's) holds everywhere.
    static let seed = FieldFlags.flagSpec(TrainingSetting.named("seed")!)!

    // MARK: Sampling: sample, compare

    static let prompt = FlagSpec.string("--prompt", "TEXT", help: "text to continue (default: a newline)")
    /// For pages that look at every position of a prompt (inspect, attention).
    static let promptWindow = FlagSpec.string("--prompt", "TEXT", help: "the characters to look at (at most the context length; longer prompts keep their end)")
    static let temperature = FlagSpec.float("--temperature", "T", in: SamplingSettings.temperatureRange,
                                            help: "softmax temperature; 0 means greedy", default: "0.8")
    static let greedy = FlagSpec.boolean("--greedy", help: "always take the most likely character (same as --temperature 0)")
    static let topK = FlagSpec.int("--top-k", "K", in: SamplingSettings.topKRange, help: "sample only among the K most likely characters")
    static let topP = FlagSpec.float("--top-p", "P", in: SamplingSettings.topPRange,
                                     help: "sample only among the most likely characters whose probabilities reach P")

    /// The sampling settings of --temperature (or --greedy), --top-k and --top-p.
    static func sampling(_ flags: ParsedFlags) -> SamplingSettings {
        SamplingSettings(temperature: flags.bool("--greedy") ? 0 : flags.floatOrDefault("--temperature"),
                         topK: flags.int("--top-k"), topP: flags.float("--top-p"))
    }

    static func context(_ flags: ParsedFlags) -> KernelContext {
        KernelContext(threads: flags.int("--threads") ?? ThreadPool.shared.threadCount)
    }

    /// The prompt's ids for a page that looks at every position: its last context-length
    /// characters, with a warning when it is longer.
    static func promptWindow(_ text: String, _ session: GenerationSession) throws -> [Int32] {
        let ids = try session.tokenizer.encode(text), T = session.model.config.contextLength
        if ids.count > T { Console.warn("the prompt has \(ids.count) characters; showing its last \(T) (the context length)") }
        return Array(ids.suffix(T))
    }

    /// The text file named by --data, or the default corpus, which must then be present.
    static func dataPath(_ flags: ParsedFlags) throws -> String {
        if let path = flags.string("--data") { return path }
        guard FileManager.default.fileExists(atPath: Defaults.corpus) else {
            throw TinyGPTError.usage("the default corpus \(Defaults.corpus) is not here; run tinygpt from the project folder or pass --data FILE")
        }
        return Defaults.corpus
    }
}

/// Loading the checkpoint a command names, or the newest one (CheckpointFinder, in the library).
extension CheckpointFinder {
    /// The checkpoint named by --checkpoint, or else the newest under Checkpoints/.
    /// `howToName` tells the user how to name one when none is found.
    static func resolve(_ explicit: String?, howToName: String = "pass --checkpoint FILE") throws -> String {
        if let explicit { return explicit }
        guard let found = newest(under: Defaults.checkpointRoot) else {
            throw TinyGPTError.runtime("no checkpoint found under \(Defaults.checkpointRoot)/; train one first (tinygpt train) or \(howToName)")
        }
        return found
    }

    static func load(_ explicit: String?, howToName: String = "pass --checkpoint FILE") throws -> (path: String, checkpoint: Checkpoint) {
        let path = try resolve(explicit, howToName: howToName)
        return (path, try Checkpoint(contentsOf: path))
    }
}

/// Output helpers: stderr lines, flushing, and whether stdout is a terminal.
enum Console {
    /// Writes "tinygpt: MESSAGE" as exactly one line, whatever the message holds, with the
    /// library's field names turned into flag words.
    static func error(_ message: String) {
        FileHandle.standardError.write(Data(("tinygpt: " + oneLine(FieldFlags.flagWords(message)) + "\n").utf8))
    }

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data(("tinygpt: warning: " + oneLine(FieldFlags.flagWords(message)) + "\n").utf8))
    }

    /// The message with line breaks turned into spaces, so it stays one line on the terminal.
    static func oneLine(_ message: String) -> String {
        message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }

    static func flush() { fflush(stdout) }

    static var isTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    static var width: Int {
        var size = winsize()
        if isTerminal, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 { return Int(size.ws_col) }
        return 100
    }
}

/// "1m05s", "3h02m" style durations.
func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    if s < 60 { return "\(s)s" }
    if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
}

/// Fails early, before any work, when a file could not be written at `path` later because its
/// folder is missing or `path` is a folder; AtomicFile reports any other problem when writing.
func checkOutputPath(_ path: String, flag: String) throws {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
        throw TinyGPTError.runtime("cannot write \(path): it is a folder; give a file name to \(flag)")
    }
    let folder = (path as NSString).deletingLastPathComponent
    guard !folder.isEmpty else { return }
    if !FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
        throw TinyGPTError.runtime("cannot write \(path): no such folder \(folder); create it first (mkdir -p \(folder))")
    }
    if !isFolder.boolValue {
        throw TinyGPTError.runtime("cannot write \(path): \(folder) is not a folder")
    }
}

/// Reads the corpus named by --data and encodes it, fitting a new tokenizer or using a given one.
func loadCorpus(_ path: String, tokenizer: CharTokenizer? = nil) throws -> (tokenizer: CharTokenizer, tokens: TokenIds) {
    if !FileManager.default.fileExists(atPath: path) {
        throw TinyGPTError.runtime("file not found: \(path); check the path (--data takes a UTF-8 text file)")
    }
    return try TextFile.readTokens(path, tokenizer: tokenizer)
}
