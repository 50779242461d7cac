// Where a training run stands: everything a resumed run needs beyond the weights. A live
// Trainer keeps its state in one of these and a checkpoint saves one, so the fields are listed
// once. Nothing here depends on the wall clock or on paths, so the same run gives the same bytes.

/// One point of a run's history, as written into the checkpoint and the training log.
public struct HistoryEntry: Equatable, Sendable {
    public var step: Int
    public var trainLoss: Float
    /// Validation loss at this step, or NaN where none was measured.
    public var validationLoss: Float
    public var learningRate: Float

    public init(step: Int, trainLoss: Float, validationLoss: Float, learningRate: Float) {
        self.step = step
        self.trainLoss = trainLoss
        self.validationLoss = validationLoss
        self.learningRate = learningRate
    }
}

/// Everything a resumed run needs beyond the weights. `Moments` is how the AdamW moments are
/// held: `[Float]` in a `Checkpoint`; views of the optimizer's own buffers in a running
/// `Trainer`, so that saving copies nothing.
public struct TrainingState<Moments> {
    public var settings: TrainingConfig
    /// Optimizer steps completed.
    public var step: Int
    /// AdamW first and second moments, in parameter layout order.
    public var adamM: Moments
    public var adamV: Moments
    /// The generator that draws batches and dropout masks, as it stands after `step` steps.
    public var rng: RandomGenerator
    /// Training tokens consumed (step × batch × context).
    public var tokensSeen: Int
    /// Lowest validation loss so far (infinity before the first evaluation).
    public var bestValidationLoss: Float
    /// Length in characters and CRC32 of the training corpus's token ids, to warn when a
    /// resume uses different data.
    public var corpusLength: Int
    public var corpusDigest: UInt32
    public var history: [HistoryEntry]
    /// Parameter index ranges the optimizer leaves alone (fine-tuning's frozen parameters): sorted,
    /// non-empty, each starting after the previous one ends with a gap. Empty for ordinary runs.
    public var frozen: [Range<Int>]

    public init(settings: TrainingConfig, step: Int, adamM: Moments, adamV: Moments, rng: RandomGenerator,
                tokensSeen: Int, bestValidationLoss: Float, corpusLength: Int, corpusDigest: UInt32,
                history: [HistoryEntry], frozen: [Range<Int>] = []) {
        self.settings = settings
        self.step = step
        self.adamM = adamM
        self.adamV = adamV
        self.rng = rng
        self.tokensSeen = tokensSeen
        self.bestValidationLoss = bestValidationLoss
        self.corpusLength = corpusLength
        self.corpusDigest = corpusDigest
        self.history = history
        self.frozen = frozen
    }

    /// The same state with the moments held as `adamM` and `adamV`.
    public func withMoments<Other>(_ adamM: Other, _ adamV: Other) -> TrainingState<Other> {
        TrainingState<Other>(settings: settings, step: step, adamM: adamM, adamV: adamV, rng: rng, tokensSeen: tokensSeen,
                             bestValidationLoss: bestValidationLoss, corpusLength: corpusLength,
                             corpusDigest: corpusDigest, history: history, frozen: frozen)
    }
}

extension TrainingState {
    /// Why `ranges` are not a canonical list of frozen parameter ranges within `count`, or nil.
    static func frozenRangesProblem(_ ranges: [Range<Int>], count: Int) -> String? {
        var end = -1
        for range in ranges {
            guard !range.isEmpty, range.lowerBound > end, range.upperBound <= count else {
                return "its frozen parameter ranges are not sorted, separate and inside the \(count) parameters"
            }
            end = range.upperBound
        }
        return nil
    }
}

extension TrainingState: Equatable where Moments: Equatable {}
extension TrainingState: Sendable where Moments: Sendable {}
