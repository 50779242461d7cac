// tinygpt train: train on a text file, showing progress and saving checkpoints.

import Foundation
import Synchronization
import TinyGPT
import TinyGPTViews

/// Set by SIGINT/SIGTERM; the loop saves and stops at the next step.
let stopRequested = Atomic<Bool>(false)

/// Named shapes and schedules that fit a laptop CPU.
struct Preset {
    var name: String
    var summary: String
    var layers: Int, heads: Int, width: Int, context: Int
    var settings: TrainingConfig

    static func make(_ name: String, _ summary: String, layers: Int, heads: Int, width: Int, context: Int,
                     batch: Int, steps: Int, lr: Float, dropout: Float = 0, evalEvery: Int = 250) -> Preset {
        var s = TrainingConfig()
        s.batchSize = batch
        s.steps = steps
        s.learningRate = lr
        s.minLearningRate = lr / 10
        s.dropout = dropout
        s.evalInterval = evalEvery
        return Preset(name: name, summary: summary, layers: layers, heads: heads, width: width, context: context, settings: s)
    }

    static let all: [Preset] = [
        make("baby", "nanoGPT's shakespeare_char CPU example: 4 layers, 4 heads, width 128, context 64, batch 12, 2000 steps",
             layers: 4, heads: 4, width: 128, context: 64, batch: 12, steps: 2000, lr: 1e-3),
        make("tiny", "a one-minute smoke run: 2 layers, 2 heads, width 64, context 32, batch 8, 300 steps",
             layers: 2, heads: 2, width: 64, context: 32, batch: 8, steps: 300, lr: 2e-3, evalEvery: 100),
        make("ten-minutes", "the lowest tiny-Shakespeare validation loss we reached in ten minutes on 2 cores (1.57 in 8 min): 4 layers, 4 heads, width 128, context 128, batch 16, 4000 steps",
             layers: 4, heads: 4, width: 128, context: 128, batch: 16, steps: 4000, lr: 1.5e-3, evalEvery: 500),
        make("small", "nanoGPT's shakespeare_char GPU shape: 6 layers, 6 heads, width 384, context 256, batch 8, 5000 steps (slow on a CPU)",
             layers: 6, heads: 6, width: 384, context: 256, batch: 8, steps: 5000, lr: 1e-3, dropout: 0.2, evalEvery: 250),
    ]
}

struct TrainCommand: Command {
    let spec = CommandSpec(
        name: "train", summary: "Train a GPT on a UTF-8 text file and save checkpoints.",
        flags: [
            .string("--data", "FILE", help: "text file to train on", default: Defaults.corpus),
            .string("--out", "DIR", help: "folder for checkpoints and the log (default: Checkpoints/<data name>)"),
            .choice("--preset", "NAME", Preset.all.map(\.name), help: "model shape and schedule; flags below override it", default: "baby"),
            .int("--layers", "N", in: 1...GPTConfig.maxLayerCount, help: "transformer blocks"),
            .int("--heads", "N", in: 1...4096, help: "attention heads per block (must divide --width)"),
            .int("--width", "N", in: 1...GPTConfig.maxModelWidth, help: "embedding width"),
            .int("--context", "N", in: 1...GPTConfig.maxContextLength, help: "context length in characters"),
            .choice("--gelu", "FORM", GELUForm.allCases.map(\.name), help: "GELU formula", default: "tanh"),
            .int("--batch", "N", in: 1...65_536, help: "sequences per step"),
            .int("--steps", "N", in: 1...1_000_000_000, help: "total steps of the run (also when resuming)"),
            .float("--lr", "F", in: .open(0, 10), help: "peak learning rate"),
            .float("--min-lr", "F", in: .closed(0, 10), help: "final learning rate of the cosine decay (default: lr/10)"),
            .int("--warmup", "N", in: 0...1_000_000_000, help: "linear warmup steps", default: "100"),
            .float("--weight-decay", "F", in: .halfOpen(0, 10), help: "AdamW weight decay on matrices", default: "0.1"),
            .float("--grad-clip", "F", in: .atLeast(0), help: "clip the global gradient norm (0: off)", default: "1"),
            .float("--dropout", "F", in: .halfOpen(0, 1), help: "dropout probability"),
            SharedFlags.seed,
            .int("--eval-every", "N", in: 1...1_000_000_000, help: "steps between validation evaluations"),
            .int("--eval-windows", "N", in: 1...1_000_000, help: "validation windows averaged per evaluation", default: "200"),
            .int("--save-every", "N", in: 0...1_000_000_000, help: "steps between saves of latest.ckpt (0: at the end only; default: every evaluation)"),
            .int("--keep", "K", in: 0...1_000_000, help: "step checkpoints to keep besides latest and best", default: "2"),
            .int("--log-every", "N", in: 1...1_000_000_000, help: "steps between progress lines", default: "10"),
            .choice("--on-nan", "ACTION", NonFinitePolicy.allCases.map(\.rawValue), help: "on a NaN/Inf loss or gradient: stop, or skip the batch", default: "stop"),
            .string("--resume", "CKPT", help: "continue the run saved in this checkpoint"),
            .string("--probe", "TEXT", help: "prompt the report's time-lapse continues at each evaluation (default: the first \(TimeLapse.defaultProbeLength) characters of the validation text)"),
            SharedFlags.threads,
        ],
        examples: ["tinygpt train", "tinygpt train --data Corpora/chinese-lectures.txt --steps 3000",
                   "tinygpt train --data input.txt --layers 6 --heads 6 --width 192 --context 128",
                   "tinygpt train --resume Checkpoints/lighthouse/latest.ckpt --steps 4000"])

    /// Flags that describe the model or the schedule, fixed by the checkpoint on resume.
    static let fixedOnResume = ["--preset", "--layers", "--heads", "--width", "--context", "--gelu", "--batch", "--lr",
                                "--min-lr", "--warmup", "--weight-decay", "--grad-clip", "--dropout", "--seed", "--eval-windows"]

    func run(_ flags: ParsedFlags) throws {
        if flags.contains("--resume"), let fixed = Self.fixedOnResume.first(where: flags.contains) {
            throw TinyGPTError.usage("\(fixed) comes from the checkpoint when resuming; drop it (only --steps and the saving/logging flags may change)")
        }
        let dataPath = try SharedFlags.dataPath(flags)
        let context = SharedFlags.context(flags)
        let trainer: Trainer
        var resumedFrom: Int?
        if let resume = flags.string("--resume") {
            let checkpoint = try Checkpoint(contentsOf: resume)
            if let state = checkpoint.training {
                let steps = flags.int("--steps") ?? state.settings.steps
                if state.step >= steps {
                    throw TinyGPTError.usage("\(resume) is already at step \(state.step) of \(steps); pass --steps above \(state.step) to continue it")
                }
                try MemoryEstimate.check(config: checkpoint.config, batchSize: state.settings.batchSize, dropout: state.settings.dropout > 0)
            }
            let tokenizer = try CharTokenizer(vocabulary: checkpoint.vocabulary)
            let corpus = try loadCorpus(dataPath, tokenizer: tokenizer)
            trainer = try Trainer(resuming: checkpoint, tokens: corpus.tokens, corpusName: dataPath,
                                  steps: flags.int("--steps"), context: context)
            if let state = checkpoint.training, !trainer.corpusMatches(state) {
                Console.warn("\(dataPath) differs from the text this run was trained on; continuing on the new text")
            }
            resumedFrom = trainer.step
        } else {
            let preset = Preset.all.first { $0.name == (flags.string("--preset") ?? "baby") }!
            let corpus = try loadCorpus(dataPath)
            let config = GPTConfig(vocabSize: corpus.tokenizer.vocabSize,
                                   contextLength: flags.int("--context") ?? preset.context,
                                   layerCount: flags.int("--layers") ?? preset.layers,
                                   headCount: flags.int("--heads") ?? preset.heads,
                                   modelWidth: flags.int("--width") ?? preset.width,
                                   gelu: GELUForm(name: flags.string("--gelu") ?? "tanh")!)
            var s = preset.settings
            s.batchSize = flags.int("--batch") ?? s.batchSize
            s.steps = flags.int("--steps") ?? s.steps
            s.learningRate = flags.float("--lr") ?? s.learningRate
            s.minLearningRate = flags.float("--min-lr") ?? s.learningRate / 10
            s.warmupSteps = min(flags.int("--warmup") ?? s.warmupSteps, s.steps / 2)
            s.weightDecay = flags.float("--weight-decay") ?? s.weightDecay
            s.gradClip = flags.float("--grad-clip") ?? s.gradClip
            s.dropout = flags.float("--dropout") ?? s.dropout
            s.seed = flags.uint64("--seed") ?? s.seed
            s.evalInterval = flags.int("--eval-every") ?? min(s.evalInterval, max(1, s.steps / 4))
            s.evalWindows = flags.int("--eval-windows") ?? s.evalWindows
            try config.validate()
            try MemoryEstimate.check(config: config, batchSize: s.batchSize, dropout: s.dropout > 0)
            trainer = try Trainer(config: config, settings: s, tokenizer: corpus.tokenizer, tokens: corpus.tokens,
                                  corpusName: dataPath, context: context)
        }
        let timeLapse = try TrainingReportSupport.timeLapse(trainer: trainer, probe: flags.string("--probe"))
        let directory = flags.string("--out") ?? (flags.string("--resume").map { ($0 as NSString).deletingLastPathComponent }
            ?? (Defaults.checkpointRoot as NSString).appendingPathComponent(((dataPath as NSString).lastPathComponent as NSString).deletingPathExtension))
        try makeDirectory(directory)
        let options = RunOptions(directory: directory, saveEvery: flags.int("--save-every") ?? trainer.settings.evalInterval,
                                 keep: flags.int("--keep") ?? 2,
                                 onNonFinite: NonFinitePolicy(rawValue: flags.string("--on-nan") ?? "stop")!)
        let logPath = (directory as NSString).appendingPathComponent("train_log.csv")
        let log = try TrainingLogWriter(path: logPath, resumingAt: resumedFrom)
        let monitor = try TrainingMonitor(trainer: trainer, folder: RunFolder(directory), timeLapse: timeLapse,
                                          resuming: resumedFrom != nil)
        try TrainProgress(trainer: trainer, options: options, log: log, logEvery: flags.int("--log-every") ?? 10,
                          dataPath: dataPath, resumedFrom: resumedFrom, monitor: monitor).run()
    }

    private func makeDirectory(_ path: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue {
            throw TinyGPTError.runtime("--out \(path) is a file, not a folder; give a folder for the checkpoints")
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw TinyGPTError.runtime("cannot create the output folder \(path); check the path and permissions (--out DIR)")
        }
    }
}

/// Runs the loop and shows what it does: a progress line (redrawn in place on a terminal),
/// evaluation lines, the log, and the summary with n-gram baselines.
final class TrainProgress {
    let trainer: Trainer
    let options: RunOptions
    let log: TrainingLogWriter
    let logEvery: Int
    let dataPath: String
    let resumedFrom: Int?
    let monitor: TrainingMonitor?
    private let redraw = Console.isTerminal
    private var progressShown = false
    private var lastTokensPerSecond = 0.0
    private var lastElapsed = 0.0
    private var baselines: [NGramBaseline.Result] = []

    init(trainer: Trainer, options: RunOptions, log: TrainingLogWriter, logEvery: Int, dataPath: String, resumedFrom: Int?,
         monitor: TrainingMonitor? = nil) {
        self.monitor = monitor
        self.trainer = trainer
        self.options = options
        self.log = log
        self.logEvery = logEvery
        self.dataPath = dataPath
        self.resumedFrom = resumedFrom
    }

    func run() throws {
        let c = trainer.model.config, s = trainer.settings
        if let step = resumedFrom {
            print("resuming \(options.latestPath) at step \(step) of \(s.steps)")
        }
        print("data: \(dataPath) · \(trainer.data.tokens.count) characters, vocabulary \(c.vocabSize) · train \(trainer.data.trainCount) / val \(trainer.data.validationCount)")
        print("model: \(c.layerCount) layers, \(c.headCount) heads, width \(c.modelWidth), context \(c.contextLength), \(c.gelu.name) GELU · \(formatCount(trainer.model.parameterCount)) parameters")
        print("training: batch \(s.batchSize), \(s.steps) steps, lr \(String(format: "%g", s.learningRate)) → \(String(format: "%g", s.minLearningRate)), warmup \(s.warmupSteps), dropout \(s.dropout), seed \(s.seed), \(trainer.model.context.pool.threadCount) threads")
        print("saving to \(options.directory)/ (latest.ckpt, best.ckpt, train_log.csv, report.html); Ctrl-C saves and stops")
        Console.flush()
        installSignalHandlers()
        // Counted before the first step (see NGramBaseline.evaluate for the caps on a big corpus).
        baselines = try NGramBaseline.evaluate(trainer.data, vocabSize: trainer.model.config.vocabSize)
        if monitor != nil {
            try RunDescription(trainer: trainer, dataPath: dataPath, baselines: baselines)
                .write(to: RunFolder(options.directory).description)
        }
        let outcome: TrainingOutcome
        do {
            outcome = try TrainingRun.run(trainer, options: options, monitor: monitor,
                                          shouldStop: { stopRequested.load(ordering: .relaxed) }, report: handle)
        } catch {
            endProgressLine()
            throw error
        }
        endProgressLine()
        switch outcome {
        case .interrupted(let step):
            print("interrupted at step \(step); saved \(options.latestPath)")
            print("continue with: tinygpt train --resume \(options.latestPath) --steps \(s.steps)" + (dataPath == Defaults.corpus ? "" : " --data \(dataPath)"))
        case .finished(let validationLoss):
            try finish(validationLoss: validationLoss)
        }
    }

    private func finish(validationLoss: Float) throws {
        let rows = try TrainingLog.read(path: log.path)
        let plotPath = (options.directory as NSString).appendingPathComponent("loss.svg")
        let plot = LossPlot(rows: rows, baselines: baselines.map { LineChart.ReferenceLine(label: $0.name, y: $0.loss) },
                            title: "Training on \((dataPath as NSString).lastPathComponent)")
        try AtomicFile.write(Array(plot.svg().utf8), to: plotPath)
        print("baselines on the same validation text (counting models fitted on the training text):")
        for b in baselines {
            print("  \(TerminalText.pad(b.name, to: 8)) val loss \(String(format: "%.4f", b.loss))")
        }
        print("  \(TerminalText.pad("GPT", to: 8)) val loss \(String(format: "%.4f", validationLoss))")
        print("loss curve: \(plotPath)" + (monitor != nil ? " · report: \(RunFolder(options.directory).report)" : ""))
        print("done: \(trainer.step) steps, \(formatCount(trainer.tokensSeen)) tokens; best val loss \(String(format: "%.4f", trainer.bestValidationLoss)); final val loss \(String(format: "%.4f", validationLoss))")
    }

    private func handle(_ event: TrainingEvent) {
        switch event {
        case .step(let result, let step, let tokensPerSecond, let elapsed):
            lastTokensPerSecond = tokensPerSecond
            lastElapsed = elapsed
            if step % logEvery == 0 || step == trainer.settings.steps {
                let row = TrainingLogRow(step: step, trainLoss: Double(result.loss), learningRate: Double(result.learningRate),
                                         tokensPerSecond: tokensPerSecond, elapsedSeconds: elapsed)
                if !(step % trainer.settings.evalInterval == 0 || step == trainer.settings.steps) { appendLog(row) }
                let remaining = Double(trainer.settings.steps - step) * Double(trainer.B * trainer.T) / max(tokensPerSecond, 1)
                let line = String(format: "step %*d/%d | loss %.4f | lr %.2e | %.0f tok/s | ETA %@", digits, step,
                                  trainer.settings.steps, result.loss, result.learningRate, tokensPerSecond, formatDuration(remaining))
                showProgress(line)
            }
        case .evaluation(let step, let trainLoss, let validationLoss, let isBest):
            endProgressLine()
            print(String(format: "step %*d: train loss %.4f, val loss %.4f%@", digits, step, trainLoss, validationLoss, isBest ? " (best)" : ""))
            Console.flush()
            appendLog(TrainingLogRow(step: step, trainLoss: Double(trainLoss), validationLoss: Double(validationLoss),
                                     learningRate: Double(trainer.settings.learningRate(at: step - 1)),
                                     tokensPerSecond: lastTokensPerSecond, elapsedSeconds: lastElapsed))
            if monitor != nil { TrainingReportSupport.redraw(options.directory) }
        case .skipped(let step, let loss, let norm):
            endProgressLine()
            Console.warn("step \(step + 1): loss \(loss), gradient norm \(norm) is not finite" +
                         (options.onNonFinite == .skip ? "; skipping this batch" : ""))
        case .saved:
            break
        }
    }

    private var digits: Int { String(trainer.settings.steps).count }

    private func appendLog(_ row: TrainingLogRow) {
        do { try log.append(row) } catch { Console.warn((error as? TinyGPTError)?.message ?? "\(error)") }
    }

    private func showProgress(_ line: String) {
        if redraw {
            print("\r\u{1B}[2K" + line, terminator: "")
            progressShown = true
        } else {
            print(line)
        }
        Console.flush()
    }

    private func endProgressLine() {
        if progressShown { print(""); progressShown = false }
    }

    private func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { _ in
                if stopRequested.load(ordering: .relaxed) { _exit(130) }  // a second Ctrl-C leaves at once
                stopRequested.store(true, ordering: .relaxed)
            }
        }
    }
}

func formatCount(_ n: Int) -> String {
    if n >= 1_000_000 { return String(format: "%.2fM", Double(n) / 1e6) }
    if n >= 10_000 { return String(format: "%.1fK", Double(n) / 1e3) }
    return "\(n)"
}
