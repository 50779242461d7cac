// What a run records besides its losses, for the training report: gradient health
// (health.jsonl) and the time-lapse (timelapse.jsonl), one JSON object per line and per
// evaluation (JSON Lines, jsonlines.org), appended as training runs. On resume, lines for
// steps past the resumed step are dropped first (they belong to a run that went on after the
// checkpoint and will be recorded again); the resumed step's own line was written before its
// checkpoint, so it stays.
//
// Per step the monitor keeps one number the trainer computed anyway (the global gradient
// norm before clipping) in a buffer reserved for the whole interval: no allocation, no
// reduction over the parameters. Everything else happens at evaluations.

import Foundation

/// The files of a run folder.
public struct RunFiles: Sendable {
    public var directory: String

    public init(_ directory: String) { self.directory = directory }

    public func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
    public var trainingLog: String { path("train_log.csv") }
    public var health: String { path("health.jsonl") }
    public var timeLapse: String { path("timelapse.jsonl") }
    /// The run's settings and baselines (`RunDescription`).
    public var description: String { path("run.json") }
    public var report: String { path("report.html") }
}

/// Records gradient health and the time-lapse of a run into its folder.
public final class TrainingMonitor {
    public let folder: RunFiles
    public let timeLapse: TimeLapse
    private let health: JSONLinesWriter
    private let lapse: JSONLinesWriter
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
        norms.reserveCapacity(trainer.settings.evalInterval + 1)
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

    /// At an evaluation (after the step's update): measures and appends one line to each file.
    public func evaluated(_ trainer: Trainer) throws {
        let record = GradientHealthRecord.measure(trainer, firstStep: firstStep, stepNorms: norms, clipped: clipped,
                                                  inputs: probeWindows)
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

/// Appends Codable values as JSON Lines, one write per line.
public final class JSONLinesWriter {
    public let path: String
    private let handle: FileHandle

    /// Opens `path`. With `keepingStepsThrough` nil any old file is replaced; with a step, the
    /// lines whose "step" is at most that are kept (a torn last line is dropped).
    public init(path: String, keepingStepsThrough step: Int?) throws {
        self.path = path
        var text = ""
        if let step, let data = FileManager.default.contents(atPath: path) {
            guard let old = String(data: data, encoding: .utf8) else {
                throw TinyGPTError.runtime("\(path) is not UTF-8 text; delete it to start its records afresh")
            }
            for line in old.split(separator: "\n") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let lineStep = object["step"] as? Int else { continue }
                if lineStep <= step { text += line + "\n" }
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

    public func append<Value: Encodable>(_ value: Value) throws {
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
    public static func read<Value: Decodable>(_ type: Value.Type, path: String) throws -> [Value] {
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

/// run.json: what a report needs to know about a run that is not in its logs.
public struct RunDescription: Codable, Sendable, Equatable {
    public struct Baseline: Codable, Sendable, Equatable {
        public var name: String
        public var loss: Double
    }

    public var dataPath: String
    public var characters: Int
    public var vocabSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var modelWidth: Int
    public var contextLength: Int
    public var gelu: String
    /// False for a model without skip connections; absent (nil) means with them, so run.json of
    /// an ordinary run is what it was before the residual ablation.
    public var residual: Bool?
    public var parameterCount: Int
    public var batchSize: Int
    public var steps: Int
    public var learningRate: Double
    public var minLearningRate: Double
    public var warmupSteps: Int
    public var weightDecay: Double
    public var gradClip: Double
    public var dropout: Double
    public var seed: UInt64
    public var evalInterval: Int
    /// Windows of each split averaged per evaluation (absent in run.json files from before).
    public var evalWindows: Int?
    /// The n-gram counting baselines on the same validation text.
    public var baselines: [Baseline]
    /// The learning rate at every `scheduleStride`-th step, from step 0 (for the schedule plot).
    public var schedule: [Double]
    public var scheduleStride: Int
    /// "zh" when the training text is mostly Chinese (`TextLanguage`), so its report opens in
    /// Chinese; absent (nil) in run.json files from before it was recorded.
    public var language: String?

    public init(trainer: Trainer, dataPath: String, baselines: [NGramBaseline.Result]) {
        let c = trainer.model.config, s = trainer.settings
        self.dataPath = dataPath
        characters = trainer.data.tokens.count
        vocabSize = c.vocabSize
        layerCount = c.layerCount
        headCount = c.headCount
        modelWidth = c.modelWidth
        contextLength = c.contextLength
        gelu = c.gelu.name
        residual = c.residual ? nil : false
        parameterCount = trainer.model.parameterCount
        batchSize = s.batchSize
        steps = s.steps
        learningRate = Double(s.learningRate)
        minLearningRate = Double(s.minLearningRate)
        warmupSteps = s.warmupSteps
        weightDecay = Double(s.weightDecay)
        gradClip = Double(s.gradClip)
        dropout = Double(s.dropout)
        seed = s.seed
        evalInterval = s.evalInterval
        evalWindows = s.evalWindows
        self.baselines = baselines.map { Baseline(name: $0.name, loss: $0.loss) }
        scheduleStride = max(1, s.steps / 400)
        schedule = stride(from: 0, to: s.steps, by: scheduleStride).map { Double(s.learningRate(at: $0)) }
        let scalars = trainer.tokenizer.scalars.map { Unicode.Scalar($0) ?? " " }
        language = TextLanguage.guess(scalars: trainer.data.tokens.lazy.map { scalars[Int($0)] }).rawValue
    }

    /// The settings that tell two runs apart, as (key, value) with values as text: the keys
    /// are fixed names ("data", "layers", "residual", "lr", …) a page translates.
    public var comparableSettings: [(key: String, value: String)] {
        func f(_ x: Double) -> String { "\(Float(x))" }
        return [("data", dataPath), ("layers", "\(layerCount)"), ("heads", "\(headCount)"), ("width", "\(modelWidth)"),
                ("context", "\(contextLength)"), ("gelu", gelu), ("residual", residual == false ? "off" : "on"),
                ("batch", "\(batchSize)"), ("steps", "\(steps)"), ("lr", f(learningRate)), ("min-lr", f(minLearningRate)),
                ("warmup", "\(warmupSteps)"), ("weight-decay", f(weightDecay)), ("grad-clip", f(gradClip)),
                ("dropout", f(dropout)), ("seed", "\(seed)"), ("eval-every", "\(evalInterval)")]
    }

    /// For each run, the settings whose values are not the same in all `runs` (a run without
    /// run.json, nil, has none). Labels runs that differ in one or two settings by just those.
    public static func differences(_ runs: [RunDescription?]) -> [[(key: String, value: String)]] {
        let known = runs.compactMap { $0?.comparableSettings }
        guard let first = known.first else { return runs.map { _ in [] } }
        let differing = Set(first.indices.filter { i in known.contains { $0[i].value != first[i].value } })
        return runs.map { run in
            guard let settings = run?.comparableSettings else { return [] }
            return settings.indices.filter(differing.contains).map { settings[$0] }
        }
    }

    /// Writes run.json atomically.
    public func write(to path: String) throws {
        let e = JSONLines.encoder
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try AtomicFile.write(Array(try e.encode(self)), to: path)
    }

    /// Reads run.json; nil when the folder has none.
    public static func read(path: String) throws -> RunDescription? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONLines.decoder.decode(RunDescription.self, from: data)
        } catch {
            throw TinyGPTError.runtime("\(path) is not a run description this version reads; delete it and retrain, or redraw without it")
        }
    }
}
