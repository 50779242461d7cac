// What a run records besides its losses, for the training report: gradient health
// (health.jsonl) and the time-lapse (timelapse.jsonl), one JSON object per line and per
// evaluation (JSON Lines, jsonlines.org), appended as training runs. On resume, lines for
// steps past the resumed step are dropped first (they belong to a run that went on after the
// checkpoint and will be recorded again); the resumed step's own line was written before its
// checkpoint, so it stays.
//
// Per step the monitor keeps one number the trainer computed anyway (the global gradient
// norm before clipping) in a buffer reserved for the whole interval: no allocation, no
// reduction over the parameters. Everything else happens at evaluations, and the model's
// activations are freed once the gradient health has used them (see `evaluated`).

import Foundation

/// Records gradient health and the time-lapse of a run into its folder.
public final class TrainingMonitor {
    public let folder: RunFiles
    public let timeLapse: TimeLapse
    private let health: JSONLinesWriter<GradientHealthRecord>
    private let lapse: JSONLinesWriter<TimeLapseRecord>
    private var norms: [Float] = []
    private var clipped = 0
    private var firstStep: Int
    /// Fixed validation windows (B, T) for measuring the residual stream.
    private let probeWindows: UnsafeMutablePointer<Int32>
    private let scratchTargets: UnsafeMutablePointer<Int32>
    public private(set) var lastHealth: GradientHealthRecord?
    public private(set) var lastTimeLapse: TimeLapseRecord?

    /// Starts recording `trainer`'s run into `folder`; `resuming` keeps the records of steps up
    /// to the trainer's current step, else old records are replaced.
    public init(trainer: Trainer, folder: RunFiles, timeLapse: TimeLapse, resuming: Bool) throws {
        self.folder = folder
        self.timeLapse = timeLapse
        let keepThrough = resuming ? trainer.step : nil
        health = try JSONLinesWriter(path: folder.health, keepingStepsThrough: keepThrough)
        lapse = try JSONLinesWriter(path: folder.timeLapse, keepingStepsThrough: keepThrough)
        firstStep = trainer.step + 1
        norms.reserveCapacity(min(trainer.settings.evalInterval, trainer.settings.steps) + 1)
        let n = trainer.B * trainer.T
        probeWindows = .allocate(capacity: n)
        scratchTargets = .allocate(capacity: n)
        var rng = RandomGenerator(seed: trainer.settings.seed ^ 0x4EA1_7400)
        trainer.data.sampleBatch(inputs: probeWindows, targets: scratchTargets, B: trainer.B, T: trainer.T,
                                 validation: true, rng: &rng)
    }

    deinit {
        probeWindows.deallocate()
        scratchTargets.deallocate()
    }

    /// After each applied step: its gradient norm before clipping.
    public func stepTaken(_ result: StepResult, clipThreshold: Float) {
        norms.append(result.gradNorm)
        if clipThreshold > 0 && result.gradNorm > clipThreshold { clipped += 1 }
    }

    /// Measures what `evaluated` would record, and records nothing (it frees the activations as
    /// `evaluated` does): the work an evaluation adds, for timing it (`TimeBudget.measure`).
    public func rehearseEvaluation(_ trainer: Trainer) {
        _ = measureHealthAndFreeActivations(trainer)
        _ = timeLapse.record(model: trainer.model, tokenizer: trainer.tokenizer, step: trainer.step, seed: trainer.settings.seed)
    }

    /// The gradient health at this step: the last use of the model's activations before the
    /// next step, so they are freed right after (`GPT.releaseActivations`).
    private func measureHealthAndFreeActivations(_ trainer: Trainer) -> GradientHealthRecord {
        let record = GradientHealthRecord.measure(trainer, firstStep: firstStep, stepNorms: norms, clipped: clipped,
                                                  inputs: probeWindows)
        trainer.model.releaseActivations()
        return record
    }

    /// At an evaluation (after the step's update): measures and appends one line to each file.
    /// The gradient health is the last use of the model's activations before the next step, so
    /// they are freed before the time-lapse: its KV cache, and the report and checkpoints that
    /// follow the evaluation, then take memory that a training step no longer holds, and a
    /// run's peak is its steps' (`GPT.releaseActivations`).
    public func evaluated(_ trainer: Trainer) throws {
        let record = measureHealthAndFreeActivations(trainer)
        let frame = timeLapse.record(model: trainer.model, tokenizer: trainer.tokenizer, step: trainer.step,
                                     seed: trainer.settings.seed)
        try health.append(record)
        try lapse.append(frame)
        lastHealth = record
        lastTimeLapse = frame
        norms.removeAll(keepingCapacity: true)
        clipped = 0
        firstStep = trainer.step + 1
    }
}

/// What a run appends to one of its JSON Lines files at each evaluation: a record of one step.
/// The monitor's two kinds (gradient health, the time-lapse) are written, kept on resume and
/// read back by this one type's rules.
public protocol RunRecord: Codable, Sendable {
    /// The step the record was made at.
    var step: Int { get }
}

extension GradientHealthRecord: RunRecord {}
extension TimeLapseRecord: RunRecord {}

/// Appends run records as JSON Lines, one write per line.
public final class JSONLinesWriter<Record: RunRecord> {
    public let path: String
    private let handle: FileHandle

    /// Opens `path`. With `keepingStepsThrough` nil any old file is replaced; with a step, the
    /// records whose step is at most that are kept as they were written (a torn last line, or
    /// one this version cannot read, is dropped).
    public init(path: String, keepingStepsThrough step: Int?) throws {
        self.path = path
        try OutputFile.check(path, as: .records)
        var text = ""
        if let step, let data = FileManager.default.contents(atPath: path) {
            guard let old = String(data: data, encoding: .utf8) else {
                throw TinyGPTError.runtime("\(path) is not UTF-8 text; delete it to start its records afresh")
            }
            for line in old.split(separator: "\n") {
                guard let record = try? JSONLines.decoder.decode(Record.self, from: Data(line.utf8)) else { continue }
                if record.step <= step { text += line + "\n" }
            }
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw TinyGPTError.runtime("cannot write \(path); check that its folder exists and is writable")
        }
        self.handle = handle
        do { try handle.seekToEnd() } catch {
            throw TinyGPTError.runtime("cannot write \(path): \(error.localizedDescription)")
        }
    }

    deinit { try? handle.close() }

    public func append(_ value: Record) throws {
        do {
            var line = try JSONLines.encoder.encode(value)
            line.append(UInt8(ascii: "\n"))
            try handle.write(contentsOf: line)
        } catch {
            throw TinyGPTError.runtime("cannot append to \(path): \(error.localizedDescription)")
        }
    }
}

/// Encoding and reading of the run folder's JSON Lines files.
public enum JSONLines {
    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    /// The records of a JSON Lines file; a missing file is no records, a torn last line is skipped.
    public static func read<Value: RunRecord>(_ type: Value.Type, path: String) throws -> [Value] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TinyGPTError.runtime("\(path) is not UTF-8 text; delete it or point to the right folder")
        }
        let lines = text.split(separator: "\n")
        var values: [Value] = []
        for (i, line) in lines.enumerated() {
            do {
                values.append(try decoder.decode(Value.self, from: Data(line.utf8)))
            } catch {
                if i == lines.count - 1 && !text.hasSuffix("\n") { break }
                throw TinyGPTError.runtime("\(path) line \(i + 1) is not a record this version reads; delete the file to drop it")
            }
        }
        return values
    }
}
