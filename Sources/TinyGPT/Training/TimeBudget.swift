// A time budget for a training run (`TrainingConfig.minutes`): what one step, one evaluation and
// one checkpoint file cost on this machine, measured by a short warm-up before the first step
// (Runs/TimeBudget+Measure.swift), and the largest step count whose whole run fits. The choice
// is made once: the run then has a fixed `steps`, recorded like any other, so it resumes and
// repeats exactly (a run asked for the chosen `steps` gives the same bits). A machine that slows
// down mid-run makes it overrun rather than stop early; one that speeds up ends early.

/// What a run costs on this machine, and the longest run that fits a budget.
public struct TimeBudget: Equatable, Sendable {
    /// The whole budget in seconds, counted from the start of the command.
    public var seconds: Double
    /// Seconds already spent when the steps are chosen: reading the text, building the model,
    /// the warm-up itself.
    public var spent: Double
    /// Seconds per training step.
    public var step: Double
    /// Seconds per evaluation: the validation loss, the training-loss estimate over as many
    /// windows, and what the run records with them.
    public var evaluation: Double
    /// Seconds to write one checkpoint file.
    public var save: Double

    public init(seconds: Double, spent: Double, step: Double, evaluation: Double, save: Double) {
        self.seconds = seconds
        self.spent = spent
        self.step = step
        self.evaluation = evaluation
        self.save = save
    }

    /// How a run saves (`RunOptions`): `latest.ckpt` every `saveEvery` steps (nil: at each
    /// evaluation; 0: at the end only) and at the end, with a step checkpoint beside it when
    /// `keepsSteps`; `best.ckpt` whenever an evaluation is a new best.
    public struct Saving: Equatable, Sendable {
        public var saveEvery: Int?
        public var keepsSteps: Bool
        public init(saveEvery: Int? = nil, keepsSteps: Bool = true) {
            self.saveEvery = saveEvery
            self.keepsSteps = keepsSteps
        }
    }

    /// The steps chosen, and what the run is expected to take.
    public struct Choice: Equatable, Sendable {
        public var steps: Int
        /// The whole run's expected seconds, from the start of the command.
        public var seconds: Double
        /// True when the budget would fit more than the most steps a run may have.
        public var capped: Bool
    }

    /// Evaluations of a run of `steps` evaluating every `interval`: one per interval, and one
    /// at the last step when it is not on the interval (TrainingRun).
    public static func evaluations(steps: Int, interval: Int) -> Int {
        steps / interval + (steps % interval == 0 ? 0 : 1)
    }

    /// Checkpoint files a run of `steps` writes with `settings`, counting every evaluation as a
    /// new best (`best.ckpt`), as is usual in a short run.
    public static func files(steps: Int, settings: TrainingConfig, saving: Saving) -> Int {
        let every = saving.saveEvery ?? settings.evalInterval
        let latest = every > 0 ? evaluations(steps: steps, interval: every) : 1
        return latest * (saving.keepsSteps ? 2 : 1) + evaluations(steps: steps, interval: settings.evalInterval)
    }

    /// The expected seconds, from the start of the command, of a run of `steps` with `settings`.
    public func seconds(steps: Int, settings: TrainingConfig, saving: Saving) -> Double {
        spent + Double(steps) * step
            + Double(Self.evaluations(steps: steps, interval: settings.evalInterval)) * evaluation
            + Double(Self.files(steps: steps, settings: settings, saving: saving)) * save
    }

    /// The largest step count in `range` whose run fits the budget; `settings(n)` gives the
    /// run's settings for n steps (its evaluation interval may depend on n:
    /// `TrainingPlan.applyRules` caps it at a quarter of the steps). Throws a usage error, with
    /// the least budget that would do, when not even `range.lowerBound` steps fit.
    public func largestFit(in range: ClosedRange<Int>, settings: (Int) -> TrainingConfig, saving: Saving) throws -> Choice {
        func cost(_ n: Int) -> Double { seconds(steps: n, settings: settings(n), saving: saving) }
        let fewest = range.lowerBound
        guard cost(fewest) <= seconds else {
            let needed = (cost(fewest) / 60 * 100).rounded(.up) / 100
            throw TinyGPTError.usage(String(
                format: "`minutes` %@ is too short here: %.1f s went on reading the text, building the model and timing it, and one step with its evaluation and save takes %.1f s more; give `minutes` %@ or more",
                FloatRange.number(seconds / 60), spent, cost(fewest) - spent, FloatRange.number(needed)))
        }
        if cost(range.upperBound) <= seconds {
            return Choice(steps: range.upperBound, seconds: cost(range.upperBound), capped: true)
        }
        // Where the evaluation interval stays put, the cost grows with n: bisect for the last
        // n that fits (cost(low) fits, cost(high) does not).
        var low = fewest, high = range.upperBound
        while high - low > 1 {
            let mid = low + (high - low) / 2
            if cost(mid) <= seconds { low = mid } else { high = mid }
        }
        // Below four intervals the interval itself shrinks with n, so a longer run can evaluate
        // less often and cost less: look there for a longer one that fits.
        let longInterval = settings(range.upperBound).evalInterval
        if settings(low).evalInterval != longInterval {
            let (four, overflow) = longInterval.multipliedReportingOverflow(by: 4)
            let top = min(range.upperBound, overflow ? .max : four, low + min(1_000_000, .max - low))
            if top > low, let longer = stride(from: top, to: low, by: -1).first(where: { cost($0) <= seconds }) {
                low = longer
            }
        }
        return Choice(steps: low, seconds: cost(low), capped: false)
    }
}
