// What a run's own records say about four common troubles, each measured with its threshold
// stated, for the training report to put beside its charts:
//   clipping            how often the gradient norm went over the clip threshold, and whether
//                       that shaped training (rare large spikes) or hardly did (steady rescaling)
//   overfitting         validation loss rising from its lowest point while training loss
//                       falls, or the GPT ending above an n-gram counting model it beats on
//                       the training text
//   learning rate       the update-to-weight ratio far above or below the usual 10⁻³
//   vanishing gradient  the lowest block's gradient far smaller than the top block's
// Only numbers here; the words, in both languages, are the views' (TrainingReport).

import Foundation

/// The four readings of one run. A reading is nil when its records are missing.
public struct RunVerdicts: Sendable, Equatable {
    public var clipping: Clipping?
    public var overfitting: Overfitting?
    public var learningRate: LearningRate?
    public var vanishingGradient: VanishingGradient?

    /// Reads `log`, `health` and `run` (run.json) of one run.
    public init(log: [TrainingLogRow], health: [GradientHealthRecord], run: RunDescription?) {
        clipping = Clipping(health: health, warmupSteps: run?.settings.warmupSteps ?? 0)
        overfitting = Overfitting(log: log, baselines: run?.baselines ?? [])
        learningRate = LearningRate(health: health)
        vanishingGradient = VanishingGradient(health: health)
    }

    /// The readings that flag a trouble (clipping counts when it held back spikes).
    public var flagged: [String] {
        var names: [String] = []
        if clipping?.isFlagged == true { names.append("clipping") }
        if overfitting?.isFlagged == true { names.append("overfitting") }
        if learningRate?.isFlagged == true { names.append("learning rate") }
        if vanishingGradient?.isFlagged == true { names.append("vanishing gradient") }
        return names
    }

    // MARK: - Clipping

    /// How often clipping scaled the step down, by how much, and whether that mattered.
    public struct Clipping: Sendable, Equatable {
        public enum Finding: String, Sendable {
            /// The threshold is 0: clipping was off.
            case off
            /// No recorded step went over the threshold.
            case never
            /// Some steps went over, with no spike among them: clipping trimmed the largest steps.
            case sometimes
            /// At least `mostFraction` of the steps went over by about the same factor: with
            /// AdamW, which divides each step by the gradient's running size, a steady rescaling
            /// changes the steps little.
            case mostSteps
            /// Some steps after warmup went over `spikeFactor` × the median norm of their
            /// interval: clipping held those steps back, which is what it is for. (The large
            /// norms of the first steps, from the random start, are not counted: warmup keeps
            /// those steps small anyway.)
            case spikes
        }

        /// A step is a spike when its norm is at least this many times the median of its interval.
        public static let spikeFactor = 3.0
        /// "Most steps" begins at this fraction of the recorded steps.
        public static let mostFraction = 0.5

        public var finding: Finding
        public var threshold: Double
        public var recordedSteps: Int
        public var clippedSteps: Int
        /// Median over all recorded steps of norm / threshold (0 when clipping is off).
        public var medianOverThreshold: Double
        /// The largest norm / threshold.
        public var largestOverThreshold: Double
        /// The last step that was clipped.
        public var lastClippedStep: Int?
        /// Steps after warmup whose norm was at least `spikeFactor` × their interval's median norm.
        public var spikeSteps: [Int]

        public var fraction: Double { recordedSteps > 0 ? Double(clippedSteps) / Double(recordedSteps) : 0 }
        /// A trouble worth a look: spikes held back (the run had unstable steps).
        public var isFlagged: Bool { finding == .spikes }

        init?(health: [GradientHealthRecord], warmupSteps: Int = 0) {
            guard let last = health.last else { return nil }
            threshold = last.clipThreshold
            var norms: [Double] = [], clipped = 0, lastClipped: Int?, spikes: [Int] = []
            for record in health {
                let finite = record.stepNorms.map(Double.init).filter(\.isFinite)
                let median = RunVerdicts.median(finite) ?? 0
                for (i, n) in record.stepNorms.enumerated() where n.isFinite {
                    let norm = Double(n), step = record.firstStep + i
                    norms.append(norm)
                    if threshold > 0 && norm > threshold {
                        clipped += 1
                        lastClipped = step
                        if step > warmupSteps && median > 0 && norm >= Self.spikeFactor * median { spikes.append(step) }
                    }
                }
            }
            recordedSteps = norms.count
            clippedSteps = clipped
            lastClippedStep = lastClipped
            spikeSteps = spikes
            medianOverThreshold = threshold > 0 ? (RunVerdicts.median(norms) ?? 0) / threshold : 0
            largestOverThreshold = threshold > 0 ? (norms.max() ?? 0) / threshold : 0
            if threshold <= 0 { finding = .off }
            else if clipped == 0 { finding = .never }
            else if !spikes.isEmpty { finding = .spikes }
            else if Double(clipped) >= Self.mostFraction * Double(max(1, norms.count)) { finding = .mostSteps }
            else { finding = .sometimes }
        }
    }

    // MARK: - Overfitting

    /// Validation against training loss and against the n-gram baselines.
    public struct Overfitting: Sendable, Equatable {
        public enum Finding: String, Sendable {
            /// Validation loss is at or near its lowest and below the best baseline.
            case none
            /// Validation loss rose at least `riseThreshold` above its lowest while the training
            /// loss went on falling: the model learns its training text, not the language.
            case validationRising
            /// Validation loss ended above the best n-gram baseline although the training loss
            /// is below it: the GPT fits its training text better than counting does, and
            /// generalises worse.
            case aboveBaseline
            /// Validation and training loss are both above the best baseline: not overfitting,
            /// the model has not yet learnt what counting gives (train longer or larger).
            case behindBaseline
        }

        /// Nats per character the last validation loss must rise above the lowest to count.
        public static let riseThreshold = 0.02

        public var finding: Finding
        public var bestStep: Int
        public var bestValidation: Double
        public var lastStep: Int
        public var lastValidation: Double
        /// The training loss (mean over windows when logged, else the batch losses around) at
        /// `bestStep` and at `lastStep`.
        public var trainAtBest: Double
        public var lastTrain: Double
        /// The lowest n-gram baseline.
        public var baseline: RunDescription.Baseline?
        /// True when the training losses are the evaluations' means over windows; false when
        /// only batch losses were logged (an older log).
        public var trainIsEstimate: Bool

        /// Overfitting: validation rising, or above a baseline that training is below. Being
        /// behind the baseline on both is a reading too, but not this trouble.
        public var isFlagged: Bool { finding == .validationRising || finding == .aboveBaseline }

        init?(log: [TrainingLogRow], baselines: [RunDescription.Baseline]) {
            let evaluations = log.filter { $0.validationLoss?.isFinite == true }
            guard let last = evaluations.last,
                  let best = evaluations.min(by: { $0.validationLoss! < $1.validationLoss! }) else { return nil }
            trainIsEstimate = evaluations.allSatisfy { $0.trainLoss != nil }
            /// The training loss at an evaluation: its estimate, or the mean batch loss of the
            /// rows logged since the evaluation before.
            func train(at row: TrainingLogRow) -> Double {
                if let t = row.trainLoss { return t }
                let previous = evaluations.last { $0.step < row.step }?.step ?? -1
                let batches = log.filter { $0.step > previous && $0.step <= row.step && $0.batchLoss.isFinite }.map(\.batchLoss)
                return batches.isEmpty ? row.batchLoss : batches.reduce(0, +) / Double(batches.count)
            }
            bestStep = best.step
            bestValidation = best.validationLoss!
            lastStep = last.step
            lastValidation = last.validationLoss!
            trainAtBest = train(at: best)
            lastTrain = train(at: last)
            baseline = baselines.filter { $0.loss.isFinite }.min { $0.loss < $1.loss }
            if lastValidation - bestValidation >= Self.riseThreshold && lastTrain < trainAtBest {
                finding = .validationRising
            } else if let b = baseline, lastValidation > b.loss {
                finding = lastTrain < b.loss ? .aboveBaseline : .behindBaseline
            } else {
                finding = .none
            }
        }
    }

    // MARK: - Learning rate

    /// The update-to-weight ratio ‖lr · step‖ / ‖θ‖ of the blocks: about 10⁻³ is the usual
    /// healthy size (Karpathy's rule of thumb, "Building makemore" part 3).
    public struct LearningRate: Sendable, Equatable {
        public enum Finding: String, Sendable { case tooLow, healthy, tooHigh }

        /// log₁₀ of the ratio above which the learning rate is too high (a tenth of each weight
        /// changes at every step) …
        public static let highLog10 = -2.0
        /// … and below which it is too low.
        public static let lowLog10 = -4.0

        public var finding: Finding
        /// Median over the evaluations of the median over the blocks of log₁₀ ratio.
        public var medianLog10: Double
        /// The same at each evaluation (lowest and highest), to show the range.
        public var lowestLog10: Double
        public var highestLog10: Double
        public var evaluations: Int

        public var isFlagged: Bool { finding != .healthy }

        init?(health: [GradientHealthRecord]) {
            let perEvaluation = health.compactMap { record -> Double? in
                let logs = record.layers.map(\.updateRatio).filter { $0 > 0 && $0.isFinite }.map(Foundation.log10)
                return RunVerdicts.median(logs)
            }
            guard let median = RunVerdicts.median(perEvaluation) else { return nil }
            medianLog10 = median
            lowestLog10 = perEvaluation.min()!
            highestLog10 = perEvaluation.max()!
            evaluations = perEvaluation.count
            finding = median > Self.highLog10 ? .tooHigh : median < Self.lowLog10 ? .tooLow : .healthy
        }
    }

    // MARK: - Vanishing gradient

    /// The lowest block's gradient norm against the top block's.
    public struct VanishingGradient: Sendable, Equatable {
        /// Flagged when the lowest block's gradient is below this fraction of the top block's.
        public static let threshold = 0.1

        /// Median over the evaluations of ‖∇ block 0‖ / ‖∇ top block‖.
        public var bottomOverTop: Double
        public var layerCount: Int
        public var evaluations: Int

        public var isFlagged: Bool { bottomOverTop < Self.threshold }

        init?(health: [GradientHealthRecord]) {
            let ratios = health.compactMap { record -> Double? in
                guard record.layers.count >= 2, let top = record.layers.last?.gradNorm, top > 0,
                      record.layers[0].gradNorm.isFinite else { return nil }
                return record.layers[0].gradNorm / top
            }
            guard let median = RunVerdicts.median(ratios) else { return nil }
            bottomOverTop = median
            layerCount = health.last!.layers.count
            evaluations = ratios.count
        }
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
