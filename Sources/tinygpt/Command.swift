// What every subcommand is, and the flags and defaults several of them share.

import Foundation
import TinyGPT

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
    static let seed = FlagSpec.uint64("--seed", "N", help: "random seed; the same seed gives the same output", default: "1337")

    static func context(_ flags: ParsedFlags) -> KernelContext {
        KernelContext(threads: flags.int("--threads") ?? ThreadPool.shared.threadCount)
    }
}

/// Finding and loading checkpoints.
enum CheckpointFinder {
    /// The checkpoint named by --checkpoint, or else the newest `latest.ckpt` under Checkpoints/.
    static func resolve(_ explicit: String?) throws -> String {
        if let explicit { return explicit }
        let fm = FileManager.default
        var newest: (path: String, date: Date)?
        if let walker = fm.enumerator(atPath: Defaults.checkpointRoot) {
            for case let name as String in walker where name.hasSuffix(".ckpt") {
                let path = (Defaults.checkpointRoot as NSString).appendingPathComponent(name)
                let isLatest = (name as NSString).lastPathComponent == "latest.ckpt"
                guard let date = (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { continue }
                // Prefer latest.ckpt files; among them (or if none) the newest.
                if let current = newest {
                    let currentIsLatest = (current.path as NSString).lastPathComponent == "latest.ckpt"
                    if currentIsLatest && !isLatest { continue }
                    if currentIsLatest == isLatest && date <= current.date { continue }
                }
                newest = (path, date)
            }
        }
        guard let found = newest else {
            throw TinyGPTError.runtime("no checkpoint found under \(Defaults.checkpointRoot)/; train one first (tinygpt train) or pass --checkpoint FILE")
        }
        return found.path
    }

    static func load(_ explicit: String?) throws -> (path: String, checkpoint: Checkpoint) {
        let path = try resolve(explicit)
        return (path, try Checkpoint(contentsOf: path))
    }
}

/// Output helpers: stderr lines, flushing, and whether stdout is a terminal.
enum Console {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data(("tinygpt: " + message + "\n").utf8))
    }

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data(("warning: " + message + "\n").utf8))
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

/// Reads a corpus file and encodes it, fitting a new tokenizer or using a given one.
func loadCorpus(_ path: String, tokenizer: CharTokenizer? = nil) throws -> (tokenizer: CharTokenizer, tokens: [Int32]) {
    let scalars = try TextFile.readScalars(path)
    let tokenizer = tokenizer ?? CharTokenizer(fitting: scalars)
    do {
        return (tokenizer, try tokenizer.encode(scalars))
    } catch let error as TinyGPTError {
        throw TinyGPTError.runtime("\(path): " + error.message.replacingOccurrences(of: "; remove it or train on text that contains it", with: "; this checkpoint cannot read that text, so train on it instead"))
    }
}
