// The rule for every file TinyGPT writes, in this one place: every command's output (pages,
// charts, exports, imported checkpoints, and a training run's own files) is checked here
// before anything is written, and again when it is written (`OutputFile.write`, IO/).
//
// A file is never written over when it is
// 1. a checkpoint (its first bytes are TGPTCKPT), except by `train` saving its own run, in a
//    folder RunFolder chose and locked for it (kind `runCheckpoint`);
// 2. one of the command's own inputs (the same file by device and inode, whatever the path);
// 3. a file TinyGPT did not write as the same kind of output. The kind is recognised by the
//    file's first bytes, which every writer of that kind has always produced:
//      page          `<!DOCTYPE html>` then `<html xmlns="http://www.w3.org/1999/xhtml"`
//      chart         `<svg xmlns="http://www.w3.org/2000/svg" font-family=`, or that after
//                    the line `<?xml version="1.0" encoding="UTF-8"?>`
//      export        a safetensors header opening `{"__metadata__":{"format":"pt","producer":"tinygpt"`
//      sidecar       `{` then `"format": "tinygpt-safetensors-sidecar"` on the next line
//      training log  the CSV header `step,batch_loss,train_loss,val_loss,…` (or the older `step,train_loss,…`)
//      records       JSON Lines whose first object has a "step" (health.jsonl, timelapse.jsonl)
//      description   a JSON object with "dataPath" and "parameterCount" (run.json)
//      checkpoint    TGPTCKPT, for `runCheckpoint` only; `import` never replaces a file
//      export data   nothing of its own (nanoGPT's uint16 ids): replaced only where the
//                    export's sidecar beside it is tinygpt's (`vouchedBy`)
//    so a page may replace an older page and an export an older export, never a user's file
//    that happens to carry the name. An empty file holds nothing to lose and may be replaced.
// Anything that is not a regular file (a folder, a FIFO, a device) is refused too. A refusal
// is one line naming the file and the way out (another path, or removing the file), exit 1.

import Foundation

/// What kind of file a command is about to write.
public enum OutputKind: String, Sendable, CaseIterable {
    /// An HTML page: the inspector, the attention and compare reports, the training report.
    case page
    /// A standalone SVG chart (loss.svg, `plot`).
    case chart
    /// Safetensors weights written by `export`.
    case export
    /// The JSON sidecar `export` writes beside them.
    case sidecar
    /// A checkpoint made by `import`: written only where no file is.
    case checkpoint
    /// A file of the nanoGPT export (ids, vocabulary pickle, config): no signature of its
    /// own, so written where no file is, or over an older export vouched for by its sidecar.
    case exportData
    /// `train`'s own checkpoints (latest, best, step-N) in its locked run folder.
    case runCheckpoint
    /// train_log.csv.
    case trainingLog
    /// health.jsonl and timelapse.jsonl.
    case records
    /// run.json.
    case description

    /// "a page", "an export", … for messages.
    public var name: String {
        switch self {
        case .page: return "a page"
        case .chart: return "a chart"
        case .export: return "an export"
        case .sidecar: return "an export's sidecar"
        case .checkpoint, .runCheckpoint: return "a checkpoint"
        case .exportData: return "an export's data"
        case .trainingLog: return "a training log"
        case .records: return "a run's records"
        case .description: return "a run description"
        }
    }

    /// Bytes read from the start of an existing file to recognise it.
    static let prefixLength = 4096

    /// Whether `prefix`, the first bytes of a file, shows a file TinyGPT wrote as this kind.
    public func recognises(_ prefix: [UInt8]) -> Bool {
        func starts(_ text: String, at offset: Int = 0) -> Bool {
            let bytes = Array(text.utf8)
            return prefix.count >= offset + bytes.count && prefix[offset..<offset + bytes.count].elementsEqual(bytes)
        }
        func contains(_ text: String) -> Bool { Self.contains(prefix, text) }
        switch self {
        case .page:
            return starts("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"")
        case .chart:
            let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" font-family="
            return starts(svg) || starts("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg)
        case .export:
            return starts("{\"__metadata__\":{\"format\":\"pt\",\"producer\":\"tinygpt\"", at: 8)
        case .sidecar:
            return starts("{\n  \"format\": \"tinygpt-safetensors-sidecar\"")
        case .checkpoint, .exportData:
            return false
        case .runCheckpoint:
            return starts(Self.checkpointMagic)
        case .trainingLog:
            // TrainingLog.header, and the header of logs from before the evaluation's train estimate.
            return ["step,batch_loss,train_loss,val_loss,lr,tokens_per_s,elapsed_s\n",
                    "step,train_loss,val_loss,lr,tokens_per_s,elapsed_s\n"].contains { starts($0) || starts("\u{FEFF}" + $0) }
        case .records:
            let line = Array(prefix.prefix { $0 != UInt8(ascii: "\n") })
            return line.first == UInt8(ascii: "{") && Self.contains(line, "\"step\":")
        case .description:
            return starts("{") && contains("\"dataPath\"") && contains("\"parameterCount\"")
        }
    }

    private static func contains(_ bytes: [UInt8], _ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard bytes.count >= needle.count else { return false }
        return (0...(bytes.count - needle.count)).contains { bytes[$0..<$0 + needle.count].elementsEqual(needle) }
    }

    /// The first bytes of every checkpoint (CheckpointFormat.magic).
    static let checkpointMagic = "TGPTCKPT"
}

/// Checks (and, in IO/, writes) every output file under the rule above.
public enum OutputFile {
    /// Throws unless `path` may be written as `kind` by a command that reads `inputs`: the
    /// folder must exist, and an existing file must be of the same kind and none of the
    /// inputs. `flag` names the option the path came from, for the way out.
    ///
    /// `vouchedBy`: for files that carry no signature of their own (a nanoGPT export's uint16
    /// ids, its pickle and config), a file of the same export that does (its sidecar). When
    /// that file is tinygpt's, the older export's files beside it may be replaced; checkpoints
    /// and inputs still may not.
    public static func check(_ path: String, as kind: OutputKind, inputs: [String] = [], flag: String? = nil,
                             vouchedBy voucher: (path: String, kind: OutputKind)? = nil) throws {
        let giveAnother = flag.map { "give \($0) another path" } ?? "write to another path"
        guard !path.isEmpty else { throw TinyGPTError.usage("the output path is empty; \(giveAnother)") }
        let folder = (path as NSString).deletingLastPathComponent
        if path.hasSuffix("/") {
            throw TinyGPTError.runtime("cannot write \(path): it names a folder; \(flag.map { "give \($0) a file name" } ?? "give a file name")")
        }
        if !folder.isEmpty {
            switch Platform.status(of: folder) {
            case .failure(let error) where error == .notFound:
                throw TinyGPTError.runtime("cannot write \(path): no such folder \(folder); create it first (mkdir -p \(folder)) or \(giveAnother)")
            case .failure(let error):
                throw TinyGPTError.runtime("cannot write \(path): \(error.text) (folder \(folder)); \(giveAnother)")
            case .success(let status) where status.kind != .folder:
                throw TinyGPTError.runtime("cannot write \(path): \(folder) is not a folder; \(giveAnother)")
            case .success:
                break
            }
        }
        let existing: Platform.FileStatus
        switch Platform.status(of: path) {
        case .failure(let error) where error == .notFound:
            return
        case .failure(let error):
            throw TinyGPTError.runtime("cannot write \(path): \(error.text); \(giveAnother)")
        case .success(let status):
            existing = status
        }
        if existing.kind == .folder {
            throw TinyGPTError.runtime("cannot write \(path): it is a folder; \(flag.map { "give \($0) a file name" } ?? "give a file name")")
        }
        for input in inputs {
            if case .success(let status) = Platform.status(of: input), status.isSameFile(as: existing) {
                throw TinyGPTError.runtime("refusing to write \(path): it is this command's own input (\(input)); \(giveAnother)")
            }
        }
        guard existing.kind == .regular else {
            throw TinyGPTError.runtime("refusing to write \(path): it is \(existing.kind.phrase), not \(kind.name) tinygpt wrote; \(giveAnother)")
        }
        if existing.size == 0 { return }
        let prefix = firstBytes(of: path)
        if kind.recognises(prefix) { return }
        if let voucher, !OutputKind.runCheckpoint.recognises(prefix), voucher.kind.recognises(firstBytes(of: voucher.path)) { return }
        if OutputKind.runCheckpoint.recognises(prefix) {
            throw TinyGPTError.runtime("refusing to write \(path): it is a checkpoint, and tinygpt never writes over one; \(giveAnother), or move the checkpoint away first")
        }
        if kind == .checkpoint {
            throw TinyGPTError.runtime("refusing to write \(path): a file is already there, and a checkpoint is written only where none is; \(giveAnother), or remove it first (rm \(path))")
        }
        throw TinyGPTError.runtime("refusing to write \(path): it was not written by tinygpt as \(kind.name) (it does not start like one); \(giveAnother), or remove it first (rm \(path))")
    }

    /// The first bytes of the file at `path` (fewer when it is shorter; none when unreadable).
    static func firstBytes(of path: String) -> [UInt8] {
        guard case .success(let fd) = Platform.open(path, .read) else { return [] }
        defer { Platform.close(fd) }
        var bytes = [UInt8](repeating: 0, count: OutputKind.prefixLength)
        let n = bytes.withUnsafeMutableBytes { raw in
            (try? Platform.read(fd, at: 0, into: raw.baseAddress!, count: raw.count).get()) ?? 0
        }
        return Array(bytes.prefix(n))
    }
}
