// The training log: one CSV row per logged step, written as training runs (so a crash keeps
// every row before it) and read back for plots. Columns:
//   step,batch_loss,train_loss,val_loss,lr,tokens_per_s,elapsed_s
// batch_loss is the loss of the one batch the step trained on (noisy; every logged step).
// train_loss and val_loss are measured only at evaluations (empty on other rows), each the
// mean over the same number of fixed windows (`evalWindows`) of the training and of the
// validation text, as nanoGPT's estimate_loss measures both: those two compare like with like.
// A log written before train_loss existed (header step,train_loss,val_loss,…, where
// train_loss was the batch's loss) reads with its column as batch_loss. CSV as in RFC 4180, restricted to
// unquoted numeric fields. A number that is exactly a Float (the trainer's losses and rates)
// is printed as that Float's shortest decimal ("2.3"), which reads back as the same Float;
// any other Double is printed so that it reads back exactly.

import Foundation

/// One row of the training log.
public struct TrainingLogRow: Equatable, Sendable {
    public var step: Int
    /// Mean loss over the positions of the one batch this step trained on, in nats per character.
    public var batchLoss: Double
    /// At an evaluation: the mean loss over `evalWindows` fixed windows of the training text,
    /// measured like `validationLoss` (nil on other rows and in logs from before it existed).
    public var trainLoss: Double?
    /// Validation loss when it was measured at this step.
    public var validationLoss: Double?
    public var learningRate: Double
    public var tokensPerSecond: Double
    /// Wall-clock seconds since training started (including earlier runs when resumed).
    public var elapsedSeconds: Double

    public init(step: Int, batchLoss: Double, trainLoss: Double? = nil, validationLoss: Double? = nil, learningRate: Double,
                tokensPerSecond: Double, elapsedSeconds: Double) {
        self.step = step
        self.batchLoss = batchLoss
        self.trainLoss = trainLoss
        self.validationLoss = validationLoss
        self.learningRate = learningRate
        self.tokensPerSecond = tokensPerSecond
        self.elapsedSeconds = elapsedSeconds
    }

    /// Equal when every field is equal, counting NaN equal to NaN (a diverged loss).
    public static func == (a: TrainingLogRow, b: TrainingLogRow) -> Bool {
        func same(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
        func sameOrBothNil(_ x: Double?, _ y: Double?) -> Bool {
            switch (x, y) {
            case (nil, nil): return true
            case let (x?, y?): return same(x, y)
            default: return false
            }
        }
        return a.step == b.step && same(a.batchLoss, b.batchLoss) && sameOrBothNil(a.trainLoss, b.trainLoss)
            && sameOrBothNil(a.validationLoss, b.validationLoss) && same(a.learningRate, b.learningRate)
            && same(a.tokensPerSecond, b.tokensPerSecond) && same(a.elapsedSeconds, b.elapsedSeconds)
    }
}

/// Formatting and parsing of the training-log CSV.
public enum TrainingLog {
    public static let header = "step,batch_loss,train_loss,val_loss,lr,tokens_per_s,elapsed_s"
    /// The header of logs written before `train_loss` (the evaluation's estimate) existed.
    static let headerWithoutEstimate = "step,train_loss,val_loss,lr,tokens_per_s,elapsed_s"

    /// One CSV line (without the newline).
    public static func line(for row: TrainingLogRow) -> String {
        [String(row.step), number(row.batchLoss), row.trainLoss.map(number) ?? "", row.validationLoss.map(number) ?? "",
         number(row.learningRate),
         number(row.tokensPerSecond), number(row.elapsedSeconds)].joined(separator: ",")
    }

    /// `value` as text: the shortest decimal that reads back as the same Float when `value` is
    /// exactly a Float ("2.3", not "2.299999952316284"), else the shortest that reads back as
    /// the same Double.
    static func number(_ value: Double) -> String {
        if value.isFinite, let f = Float(exactly: value) { return "\(f)" }
        return "\(value)"
    }

    /// Parses a whole log. `name` (e.g. the file path) appears in errors, which name the line.
    public static func parse(_ text: String, name: String = "training log") throws -> [TrainingLogRow] {
        // "\r\n" is one Character in Swift, so both line endings are separators.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        guard let first = lines.first else {
            throw TinyGPTError.runtime("\(name) is empty; expected the header \(header)")
        }
        let headerLine = first.hasPrefix("\u{FEFF}") ? first.dropFirst() : first
        guard headerLine == header || headerLine == headerWithoutEstimate else {
            throw TinyGPTError.runtime("\(name) line 1: expected the header \(header), found \(headerLine.prefix(80)); is this a TinyGPT training log?")
        }
        let columns = headerLine.split(separator: ",").map(String.init)
        var rows: [TrainingLogRow] = []
        rows.reserveCapacity(lines.count - 1)
        for (index, line) in lines.enumerated().dropFirst() {
            rows.append(try parseRow(line, lineNumber: index + 1, name: name, columns: columns))
        }
        return rows
    }

    /// Reads and parses the log at `path`.
    public static func read(path: String) throws -> [TrainingLogRow] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TinyGPTError.runtime("cannot read the training log \(path); check that the file exists")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TinyGPTError.runtime("the training log \(path) is not UTF-8 text; delete it or point to the right file")
        }
        return try parse(text, name: path)
    }

    static func parseRow(_ line: Substring, lineNumber: Int, name: String,
                         columns: [String] = header.split(separator: ",").map(String.init)) throws -> TrainingLogRow {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        // An old log has no estimate column; its train_loss was the batch's loss.
        let old = columns.count == 6
        let (batch, train, validation, rate, speed, elapsed) = old ? (1, -1, 2, 3, 4, 5) : (1, 2, 3, 4, 5, 6)
        func fail(_ what: String) -> TinyGPTError {
            TinyGPTError.runtime("\(name) line \(lineNumber): \(what); fix or delete that line")
        }
        guard fields.count == columns.count else {
            throw fail("expected \(columns.count) comma-separated fields, found \(fields.count)")
        }
        func value(_ i: Int, allowsNonFinite: Bool = false) throws -> Double {
            let field = fields[i].trimmingCharacters(in: .whitespaces)
            guard let v = Double(field), !field.isEmpty else {
                throw fail("\(columns[i]) '\(field.prefix(40))' is not a number")
            }
            if !v.isFinite && !allowsNonFinite { throw fail("\(columns[i]) must be finite, found \(field)") }
            return v
        }
        func nonNegative(_ i: Int) throws -> Double {
            let v = try value(i)
            if v < 0 { throw fail("\(columns[i]) must not be negative, found \(fields[i])") }
            return v
        }
        let stepField = fields[0].trimmingCharacters(in: .whitespaces)
        guard let step = Int(stepField), step >= 0 else {
            throw fail("step '\(stepField.prefix(40))' is not a whole number ≥ 0")
        }
        func optional(_ i: Int) throws -> Double? {
            guard i >= 0, !fields[i].trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
            return try value(i, allowsNonFinite: true)
        }
        return TrainingLogRow(
            step: step,
            batchLoss: try value(batch, allowsNonFinite: true),
            trainLoss: try optional(train),
            validationLoss: try optional(validation),
            learningRate: try nonNegative(rate),
            tokensPerSecond: try nonNegative(speed),
            elapsedSeconds: try nonNegative(elapsed))
    }
}

/// Appends rows to a training log as training runs, one write per row.
public final class TrainingLogWriter {
    public let path: String
    private let handle: FileHandle

    /// Opens the log at `path`. With `resumingAt` nil a new log replaces any old one. With a
    /// step, the log keeps every row up to and including that step (each was written before
    /// the checkpoint being resumed was saved; rows logged after it, by a run that went on and
    /// was stopped, are dropped, or they would appear twice once the resumed run logs them
    /// again), and new rows are appended after them. The rows come from `path`'s own log, or
    /// from `carryingFrom` (the log beside the checkpoint) when the run continues in a new folder.
    /// The file is replaced atomically, so a resume stopped at any moment leaves a whole log.
    public init(path: String, resumingAt step: Int? = nil, carryingFrom source: String? = nil) throws {
        self.path = path
        try OutputFile.check(path, as: .trainingLog)
        var kept: [TrainingLogRow] = []
        let from = source ?? path
        if let step, let data = FileManager.default.contents(atPath: from) {
            guard var old = String(data: data, encoding: .utf8) else {
                throw TinyGPTError.runtime("the training log \(from) is not UTF-8 text; delete it or point to the right file")
            }
            // A crash in the middle of a write leaves a last line without its newline: drop it.
            if !old.hasSuffix("\n"), let end = old.lastIndex(of: "\n") { old = String(old[...end]) }
            if !old.isEmpty { kept = try TrainingLog.parse(old, name: from).filter { $0.step <= step } }
        }
        var text = TrainingLog.header + "\n"
        for row in kept { text += TrainingLog.line(for: row) + "\n" }
        do {
            // Data.write(options: .atomic) writes a temporary file and renames it over the log.
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw TinyGPTError.runtime("cannot write the training log \(path); check that its folder exists and is writable")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw TinyGPTError.runtime("cannot write the training log \(path); check that its folder exists and is writable")
        }
        self.handle = handle
        do {
            try handle.seekToEnd()
        } catch {
            throw TinyGPTError.runtime("cannot write the training log \(path): \(error.localizedDescription)")
        }
    }

    deinit {
        try? handle.close()
    }

    /// Writes one row and hands it to the operating system at once.
    public func append(_ row: TrainingLogRow) throws {
        do {
            try handle.write(contentsOf: Data((TrainingLog.line(for: row) + "\n").utf8))
        } catch {
            throw TinyGPTError.runtime("cannot append to the training log \(path): \(error.localizedDescription)")
        }
    }
}
