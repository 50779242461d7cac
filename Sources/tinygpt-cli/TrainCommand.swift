// tinygpt train: train on a text file, showing progress and saving checkpoints.

import Foundation
import TinyGPT
import TinyGPTViews

struct TrainCommand: Command {
    let spec = CommandSpec(
        name: "train", summary: "Train a GPT on a UTF-8 text file and save checkpoints.",
        flags: [
            .string("--data", "FILE", help: "text file to train on", default: Defaults.corpus),
            .string("--out", "DIR", help: "folder for checkpoints and the log (default: Checkpoints/<data name>)"),
            .choice("--preset", "NAME", Preset.all.map(\.name), help: "model shape and schedule; flags below override it", default: Preset.baby.name),
        ] + FieldFlags.settingFlags + [
            .int("--save-every", "N", in: 0...1_000_000_000, help: "steps between saves of \(RunFiles.latestName) (0: at the end only; default: every evaluation)"),
            .int("--keep", "K", in: 0...1_000_000, help: "step checkpoints to keep besides latest and best", default: "\(RunOptions.defaults.keep)"),
            .int("--log-every", "N", in: 1...1_000_000_000, help: "steps between progress lines", default: "10"),
            .choice("--on-nan", "ACTION", NonFinitePolicy.allCases.map(\.rawValue), help: "on a NaN/Inf loss or gradient: stop, or skip the batch",
                    default: RunOptions.defaults.onNonFinite.rawValue),
            .string("--resume", "CKPT", help: "continue the run saved in this checkpoint"),
            .string("--init-from", "CKPT", help: "start a new run from this model's weights (a checkpoint, or a nanoGPT .safetensors beside its .json): fine-tuning; the vocabulary grows to cover --data; a fresh optimizer and schedule"),
            .string("--freeze", "WHAT", help: "with --init-from: keep `embeddings` (the known characters' rows and the positions), the first N blocks (a number), or both (`embeddings,2`) as they are"),
            .string("--probe", "TEXT", help: "prompt the report's time-lapse continues at each evaluation (default: the first \(TimeLapse.defaultProbeLength) characters of the validation text)"),
            SharedFlags.threads,
        ],
        examples: ["tinygpt train", "tinygpt train --data Corpora/chinese-lectures.txt --steps 3000",
                   "tinygpt train --data input.txt --layers 6 --heads 6 --width 192 --context 128",
                   "tinygpt train --resume Checkpoints/lighthouse/latest.ckpt --steps 4000",
                   "tinygpt train --init-from Checkpoints/fables/best.ckpt --data Corpora/lighthouse.txt --steps 300"])

    func run(_ flags: ParsedFlags) throws {
        // A time budget counts from here.
        let started = DispatchTime.now().uptimeNanoseconds
        Interrupts.install()
        try TrainingPlan.checkChoices(Self.overrides(flags))
        if flags.contains("--minutes") && flags.string("--resume") != nil {
            throw TinyGPTError.usage("--minutes chooses the steps of a new run; a resumed run goes on to the steps its checkpoint records (or to --steps N); drop --minutes")
        }
        if flags.string("--init-from") != nil && flags.string("--resume") != nil {
            throw TinyGPTError.usage("--init-from starts a new run and --resume continues one; give one of them (a fine-tuning run resumes with --resume alone)")
        }
        if flags.string("--freeze") != nil && flags.string("--init-from") == nil {
            throw TinyGPTError.usage("--freeze keeps parts of a model you start from; give --init-from CKPT with it (a resumed run keeps what its checkpoint froze)")
        }
        // On resume the shape and schedule come from the checkpoint; flags may restate them.
        let resumed = try flags.string("--resume").map { (path: $0, checkpoint: try Checkpoint(contentsOf: $0)) }
        if let resumed { try Self.checkResumeFlags(flags, against: resumed.checkpoint) }
        let dataPath = try SharedFlags.dataPath(flags)
        let context = SharedFlags.context(flags)
        let trainer: Trainer
        var resumedFrom: Int?
        var fineTune: FineTuneSetup?
        var budget: TimeBudgetRequest?
        if let initFrom = flags.string("--init-from") {
            let setup = try Self.fineTuneSetup(from: initFrom, flags, dataPath: dataPath, context: context)
            fineTune = setup
            trainer = setup.trainer
            budget = TimeBudgetRequest(started: started, preset: setup.preset, overrides: setup.overrides)
        } else if let (resume, checkpoint) = resumed {
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
            let corpus = try loadCorpus(dataPath)
            let preset = Preset.named(flags.stringOrDefault("--preset"))!, overrides = Self.overrides(flags)
            let plan = try TrainingPlan(preset: preset, vocabSize: corpus.tokenizer.vocabSize, overrides: overrides)
            trainer = try Trainer(plan: plan, tokenizer: corpus.tokenizer, tokens: corpus.tokens,
                                  corpusName: dataPath, context: context)
            budget = TimeBudgetRequest(started: started, preset: preset, overrides: overrides)
        }
        let timeLapse = try TrainingReportSupport.timeLapse(trainer: trainer, probe: flags.string("--probe"))
        // A folder that holds another run is never written into: the run goes beside it (RunFolder).
        let requestedOut = flags.string("--out") ?? (Defaults.checkpointRoot as NSString)
            .appendingPathComponent(((dataPath as NSString).lastPathComponent as NSString).deletingPathExtension)
        let outExisted = FileManager.default.fileExists(atPath: requestedOut)
        let folder = try resumed.map { try RunFolder.forResuming($0.path, requested: flags.string("--out")) }
            ?? RunFolder.forNewRun(requestedOut)
        defer { folder.release() }
        if folder.isNumbered { print("\(folder.requested) \(folder.whyNumbered), so this one goes to \(folder.path)") }
        let directory = folder.path
        let options = RunOptions(directory: directory, saveEvery: flags.int("--save-every"),
                                 keep: flags.intOrDefault("--keep"),
                                 onNonFinite: NonFinitePolicy(rawValue: flags.stringOrDefault("--on-nan"))!)
        let logPath = options.files.trainingLog
        // A run resumed into a new folder brings its log rows with it.
        let ownLog = resumed.map { RunFiles(($0.path as NSString).deletingLastPathComponent).trainingLog }
        let log = try TrainingLogWriter(path: logPath, resumingAt: resumedFrom,
                                        carryingFrom: ownLog.flatMap { FileManager.default.fileExists(atPath: $0) && $0 != logPath ? $0 : nil })
        let monitor = try TrainingMonitor(trainer: trainer, folder: options.files, timeLapse: timeLapse,
                                          resuming: resumedFrom != nil)
        let progress = TrainProgress(trainer: trainer, options: options, log: log, logEvery: flags.intOrDefault("--log-every"),
                                     dataPath: dataPath, resumedFrom: resumedFrom, monitor: monitor)
        if let fineTune, let initFrom = flags.string("--init-from") {
            progress.fineTune = (Self.describe(fineTune, sourcePath: initFrom), fineTune.freeze)
        }
        if trainer.settings.hasTimeBudget && resumedFrom == nil { progress.budget = budget }
        do {
            try progress.run()
        } catch let error as TinyGPTError where error.kind == .usage && progress.budget != nil && trainer.step == 0 {
            // A budget too short for one step: the run never started, so nothing of it stays.
            folder.release()
            for path in [options.files.trainingLog, options.files.health, options.files.timeLapse] {
                try? FileManager.default.removeItem(atPath: path)
            }
            if !outExisted || folder.isNumbered { _ = rmdir(folder.path) }
            throw error
        }
    }

    /// The model and schedule flags as overrides of the preset; the library fills in the rest.
    static func overrides(_ flags: ParsedFlags) -> TrainingPlan.Overrides { FieldFlags.overrides(flags) }

}

/// A new run with a time budget: when the command started, and the preset and settings chosen,
/// from which the plan of a run of any length follows (`TrainingPlan.settings(preset:overrides:steps:)`).
struct TimeBudgetRequest {
    let started: UInt64
    let preset: Preset
    let overrides: TrainingPlan.Overrides
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
    /// For a fine-tuning run: the lines that describe its start, and what it freezes.
    var fineTune: (lines: [String], freeze: FreezeSpec)?
    /// For a new run with a time budget: what its warm-up needs to choose the steps.
    var budget: TimeBudgetRequest?
    private let redraw = Console.isTerminal
    private var progressShown = false
    private var lastTokensPerSecond = 0.0
    private var lastElapsed = 0.0
    private var lastBatchLoss = Float.nan
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
        let c = trainer.model.config
        if let step = resumedFrom {
            print("resuming \(options.files.latest) at step \(step) of \(trainer.settings.steps)")
        }
        for line in fineTune?.lines ?? [] { print(line) }
        print("data: \(dataPath) · \(trainer.data.tokens.count) characters, vocabulary \(c.vocabSize) · train \(trainer.data.trainCount) / val \(trainer.data.validationCount)")
        print("model: \(c.layerCount) layers, \(c.headCount) heads, width \(c.modelWidth), context \(c.contextLength), \(c.gelu.name) GELU\(c.residual ? "" : ", no skip connections") · \(formatCount(trainer.model.parameterCount)) parameters")
        Console.flush()
        // Counted before the first step (see NGramBaseline.evaluate for the caps on a big corpus),
        // and before a time budget's warm-up, so its cost is part of what the warm-up sees spent.
        baselines = try NGramBaseline.evaluate(trainer.data, vocabSize: trainer.model.config.vocabSize)
        // Where fine-tuning begins: the loss on the new text before any step (the report marks it).
        let startLoss = fineTune == nil ? nil : trainer.evaluate()
        if let budget { try chooseSteps(budget) }
        let s = trainer.settings
        print("training: batch \(s.batchSize), \(s.steps) steps, lr \(String(format: "%g", s.learningRate)) → \(String(format: "%g", s.minLearningRate)), warmup \(s.warmupSteps), dropout \(s.dropout), seed \(s.seed), \(trainer.model.context.pool.threadCount == 1 ? "1 thread" : "\(trainer.model.context.pool.threadCount) threads")")
        print("saving to \(options.directory)/ (\([RunFiles.latestName, RunFiles.bestName, RunFiles.trainingLogName, RunFiles.reportName].joined(separator: ", "))); Ctrl-C saves and stops")
        Console.flush()
        var description = RunDescription(trainer: trainer, dataPath: dataPath, baselines: baselines)
        if let fineTune, let start = startLoss {
            let ended = trainer.lineage.last.map(\.validationLoss).flatMap { $0.isNaN ? nil : $0 }
            print(String(format: "before fine-tuning: val loss %.4f on this text", start)
                  + (ended.map { String(format: " (the source run ended at %.4f on its own text)", $0) } ?? ""))
            description.startLoss = Double(start)
            description.frozen = fineTune.freeze.isEmpty ? nil : fineTune.freeze.description
        } else if resumedFrom != nil, let old = try? RunDescription.read(path: options.files.description) {
            description.startLoss = old.startLoss
            description.frozen = old.frozen
        }
        if monitor != nil {
            try description.write(to: options.files.description)
        }
        let outcome: TrainingOutcome
        do {
            outcome = try TrainingRun.run(trainer, options: options, monitor: monitor,
                                          shouldStop: { stopRequested.load(ordering: .relaxed) != 0 }, report: handle)
        } catch {
            endProgressLine()
            throw error
        }
        endProgressLine()
        switch outcome {
        case .interrupted(let step):
            let lines = ["interrupted at step \(step); saved \(options.files.latest)",
                         "continue with: tinygpt train --resume \(options.files.latest) --steps \(s.steps)" + (dataPath == Defaults.corpus ? "" : " --data \(dataPath)")]
            // With standard output gone (train | head), the way back goes to stderr instead.
            if standardOutputGone.load(ordering: .relaxed) != 0 { lines.forEach { Console.note($0) } } else { lines.forEach { print($0) } }
        case .finished(let validationLoss):
            try finish(validationLoss: validationLoss)
        }
    }

    /// Times the run's own steps (and puts them back), chooses the most steps that fit the
    /// budget, gives the run that schedule and says so in one line.
    private func chooseSteps(_ request: TimeBudgetRequest) throws {
        let minutes = trainer.settings.minutes, vocabSize = trainer.model.config.vocabSize
        let budget = try TimeBudget.measure(trainer, minutes: minutes, started: request.started, monitor: monitor,
                                            probe: options.files.path(".time-budget-probe.ckpt")) { [monitor, options] in
            // Each evaluation redraws the report (`handle`); drawing it here in memory costs the same.
            if monitor != nil { _ = try? TrainingReport.load(folder: options.files).html() }
        }
        guard case .int(let range) = TrainingSetting.at(\TrainingConfig.steps).domain else { preconditionFailure("steps are whole numbers") }
        let choice = try budget.largestFit(
            in: range, settings: { TrainingPlan.settings(preset: request.preset, overrides: request.overrides, steps: $0) },
            saving: TimeBudget.Saving(saveEvery: options.saveEvery, keepsSteps: options.keep > 0))
        trainer.setSchedule(try TrainingPlan(preset: request.preset, vocabSize: vocabSize, overrides: request.overrides,
                                             steps: choice.steps))
        print(Self.budgetLine(minutes: minutes, budget: budget, choice: choice))
    }

    /// "--minutes 10: 92 ms per step, evaluations 700 ms each, 2.9 s before the first step →
    /// 6,180 steps, about 9m58s in all (to repeat this run exactly: --steps 6180)".
    static func budgetLine(minutes: Double, budget: TimeBudget, choice: TimeBudget.Choice) -> String {
        func time(_ seconds: Double) -> String {
            seconds < 1 ? String(format: "%.0f ms", seconds * 1000) : String(format: "%.1f s", seconds)
        }
        let digits = Array(String(choice.steps))
        let steps = digits.enumerated().map { i, d in (i > 0 && (digits.count - i) % 3 == 0 ? "," : "") + String(d) }.joined()
        return "--minutes \(FloatRange.number(minutes)): \(time(budget.step)) per step, evaluations \(time(budget.evaluation)) each, "
            + String(format: "%.1f s before the first step", budget.spent)
            + " → \(steps) steps\(choice.capped ? " (the most --steps allows)" : ""), about \(formatDuration(choice.seconds)) in all"
            + " (to repeat this run exactly: --steps \(choice.steps))"
    }

    private func finish(validationLoss: Float) throws {
        let rows = try TrainingLog.read(path: log.path)
        let plotPath = options.files.lossPlot
        let plot = LossPlot(rows: rows, baselines: baselines.map { LineChart.ReferenceLine(label: $0.name, y: $0.loss) },
                            title: "Training on \((dataPath as NSString).lastPathComponent)")
        try OutputFile.write(Array(plot.svg().utf8), to: plotPath, as: .chart, inputs: [dataPath])
        print("baselines on the same validation text (counting models fitted on the training text):")
        for b in baselines {
            print("  \(TerminalText.pad(b.name, to: 8)) val loss \(String(format: "%.4f", b.loss))")
        }
        print("  \(TerminalText.pad("GPT", to: 8)) val loss \(String(format: "%.4f", validationLoss))")
        print("loss curve: \(plotPath)" + (monitor != nil ? " · report: \(options.files.report)" : ""))
        let took = budget.map { request in
            " in \(formatDuration(Double(DispatchTime.now().uptimeNanoseconds - request.started) / 1e9)) (budget \(formatDuration(trainer.settings.minutes * 60)))"
        } ?? ""
        print("done: \(trainer.step) steps\(took), \(formatCount(trainer.tokensSeen)) tokens; best val loss \(String(format: "%.4f", trainer.bestValidationLoss)); final val loss \(String(format: "%.4f", validationLoss))")
    }

    private func handle(_ event: TrainingEvent) {
        switch event {
        case .step(let result, let step, let tokensPerSecond, let elapsed):
            lastTokensPerSecond = tokensPerSecond
            lastElapsed = elapsed
            lastBatchLoss = result.loss
            if step % logEvery == 0 || step == trainer.settings.steps {
                let row = TrainingLogRow(step: step, batchLoss: Double(result.loss), learningRate: Double(result.learningRate),
                                         tokensPerSecond: tokensPerSecond, elapsedSeconds: elapsed)
                if !(step % trainer.settings.evalInterval == 0 || step == trainer.settings.steps) { appendLog(row) }
                let remaining = Double(trainer.settings.steps - step) * Double(trainer.B * trainer.T) / max(tokensPerSecond, 1)
                let line = String(format: "step %*d/%d | loss %.4f | lr %.2e | %.0f tok/s | ETA %@", digits, step,
                                  trainer.settings.steps, result.loss, result.learningRate, tokensPerSecond, formatDuration(remaining))
                showProgress(line)
            }
        case .evaluation(let step, let trainLoss, let validationLoss, let isBest):
            endProgressLine()
            print(String(format: "step %*d: train loss %.4f, val loss %.4f (mean of %d windows each)%@", digits, step,
                         trainLoss, validationLoss, trainer.settings.evalWindows, isBest ? " (best)" : ""))
            Console.flush()
            appendLog(TrainingLogRow(step: step, batchLoss: Double(lastBatchLoss), trainLoss: Double(trainLoss),
                                     validationLoss: Double(validationLoss),
                                     learningRate: Double(trainer.settings.learningRate(at: step - 1)),
                                     tokensPerSecond: lastTokensPerSecond, elapsedSeconds: lastElapsed))
            if monitor != nil { TrainingReportSupport.redraw(options.directory) }
        case .skipped(let step, let loss, let norm):
            lastBatchLoss = loss
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
}

func formatCount(_ n: Int) -> String {
    if n >= 1_000_000 { return String(format: "%.2fM", Double(n) / 1e6) }
    if n >= 10_000 { return String(format: "%.1fK", Double(n) / 1e3) }
    return "\(n)"
}
