// Tests for Training/Trainer.swift, TrainingRun.swift, TokenDataset.swift and the learning-rate
// schedule in TrainingConfig.swift: a short run that learns a repetitive corpus, bit-exact
// determinism and resumption (with and without dropout), the warmup + cosine schedule
// (nanoGPT's get_lr), the NaN guard, and the run folder's checkpoints.

import Foundation
import XCTest
@testable import TinyGPT

final class TrainerTests: XCTestCase {
    // MARK: - Fixtures

    /// A few sentences in a fixed cycle: easy to learn, far from uniform.
    static let corpus: String = {
        let sentences = ["the cat sat on the mat. ", "a dog ran to the park!\n", "we like tea, and cake. "]
        return (0..<40).map { sentences[$0 % sentences.count] }.joined()
    }()

    static let tokenizer = CharTokenizer(fitting: TextFile.scalars(of: corpus))

    static var tokens: TokenIds {
        get throws { TokenIds(try tokenizer.encode(corpus)) }
    }

    static func config(contextLength: Int = 16) -> GPTConfig {
        GPTConfig(vocabSize: tokenizer.vocabSize, contextLength: contextLength, layerCount: 2, headCount: 4, modelWidth: 32)
    }

    static func settings(steps: Int = 12, seed: UInt64 = 1337, dropout: Float = 0) -> TrainingConfig {
        var s = TrainingConfig()
        s.batchSize = 4
        s.steps = steps
        s.learningRate = 3e-3
        s.minLearningRate = 3e-4
        s.warmupSteps = 3
        s.dropout = dropout
        s.seed = seed
        s.evalInterval = 4
        s.evalWindows = 6  // more than one batch of 4: the partial batch is exercised
        return s
    }

    /// One thread: models this small gain nothing from more, and on a busy machine the
    /// pool's hand-offs can cost more than the work. `testSameSeedGivesIdenticalCheckpoints`
    /// checks that the shared pool gives the same bytes.
    static let context = DeterminismPools.single

    static func makeTrainer(_ settings: TrainingConfig, contextLength: Int = 16,
                            context: KernelContext = TrainerTests.context) throws -> Trainer {
        try Trainer(config: config(contextLength: contextLength), settings: settings, tokenizer: tokenizer,
                    tokens: tokens, corpusName: "test corpus", context: context)
    }

    /// Steps `trainer` to `step`, evaluating and recording every `evalInterval` steps, so that
    /// the history and best loss are part of what the checkpoints compare.
    static func advance(_ trainer: Trainer, to step: Int) {
        while trainer.step < step {
            let result = trainer.trainStep()
            XCTAssertTrue(result.applied, "step \(trainer.step + 1) was not applied (loss \(result.loss))")
            if trainer.step % trainer.settings.evalInterval == 0 {
                trainer.record(trainLoss: result.loss, validationLoss: trainer.evaluate(), learningRate: result.learningRate)
            }
        }
    }

    /// A folder under the system's temporary folder, removed after the test.
    private func makeTemporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "tinygpt-train-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    private func assertError(_ kind: TinyGPTError.Kind, containing fragments: [String],
                             file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected a \(kind) error containing \(fragments)", file: file, line: line)
        } catch let error as TinyGPTError {
            XCTAssertEqual(error.kind, kind, "kind of \"\(error.message)\"", file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(error.message.contains(fragment), "\"\(error.message)\" lacks \"\(fragment)\"",
                              file: file, line: line)
            }
        } catch {
            XCTFail("unexpected error type: \(error)", file: file, line: line)
        }
    }

    // MARK: - Learning

    func testShortRunLearnsARepetitiveCorpus() throws {
        var settings = Self.settings(steps: 250)
        settings.batchSize = 8
        settings.warmupSteps = 20
        settings.evalInterval = 50
        settings.evalWindows = 16
        let trainer = try Self.makeTrainer(settings, contextLength: 32)

        // The entropy of the character frequencies: the best loss without any context.
        var counts = [Int](repeating: 0, count: Self.tokenizer.vocabSize)
        for id in try Self.tokens { counts[Int(id)] += 1 }
        let total = Double(counts.reduce(0, +))
        let unigramEntropy = -counts.reduce(0.0) { $0 + ($1 == 0 ? 0 : Double($1) / total * log(Double($1) / total)) }

        let initialValidation = trainer.evaluate()
        // An untrained model (weights ~0.02) predicts nearly uniformly: loss ≈ ln V.
        XCTAssertEqual(Double(initialValidation), log(Double(Self.tokenizer.vocabSize)), accuracy: 0.1)
        var firstTrainLosses: [Float] = [], lastTrainLosses: [Float] = []
        while !trainer.isFinished {
            let result = trainer.trainStep()
            XCTAssertTrue(result.applied)
            XCTAssertTrue(result.gradNorm.isFinite && result.gradNorm > 0)
            if trainer.step <= 10 { firstTrainLosses.append(result.loss) }
            if trainer.step > settings.steps - 10 { lastTrainLosses.append(result.loss) }
        }
        let finalValidation = trainer.evaluate()
        let firstTrain = firstTrainLosses.reduce(0, +) / 10, lastTrain = lastTrainLosses.reduce(0, +) / 10
        XCTAssertLessThan(lastTrain, 0.5 * firstTrain, "training loss: \(firstTrain) → \(lastTrain)")
        XCTAssertLessThan(finalValidation, 0.5 * initialValidation, "validation loss: \(initialValidation) → \(finalValidation)")
        XCTAssertLessThan(Double(finalValidation), unigramEntropy - 0.5,
                          "validation loss \(finalValidation) should be well below the unigram entropy \(unigramEntropy)")
        XCTAssertEqual(trainer.step, 250)
        XCTAssertEqual(trainer.tokensSeen, 250 * 8 * 32)
    }

    func testEvaluationIsRepeatableAndLeavesTrainingAlone() throws {
        let trainer = try Self.makeTrainer(Self.settings())
        Self.advance(trainer, to: 2)
        let rng = trainer.rng
        let first = trainer.evaluate()
        XCTAssertEqual(trainer.evaluate(), first, "the same windows every time")
        XCTAssertEqual(trainer.rng, rng, "evaluation must not draw from the training generator")
        XCTAssertEqual(trainer.step, 2)
    }

    // MARK: - Determinism and resumption

    func testSameSeedGivesIdenticalCheckpoints() throws {
        func run(seed: UInt64, dropout: Float, context: KernelContext = Self.context) throws -> [UInt8] {
            let trainer = try Self.makeTrainer(Self.settings(steps: 10, seed: seed, dropout: dropout), context: context)
            Self.advance(trainer, to: 10)
            return trainer.checkpoint().encoded()
        }
        for dropout: Float in [0, 0.1] {
            let a = try run(seed: 1, dropout: dropout)
            XCTAssertEqual(try run(seed: 1, dropout: dropout), a, "dropout \(dropout): same seed, same bytes")
            XCTAssertEqual(try run(seed: 1, dropout: dropout, context: testContext), a,
                           "dropout \(dropout): the shared pool (one thread per core) must give the same bytes")
            XCTAssertNotEqual(try run(seed: 2, dropout: dropout), a, "dropout \(dropout): another seed, other bytes")
        }
    }

    func testResumeContinuesExactly() throws {
        let total = 12
        for dropout: Float in [0, 0.1] {
            for split in [1, 7] {
                let straight = try Self.makeTrainer(Self.settings(steps: total, dropout: dropout))
                Self.advance(straight, to: total)

                let first = try Self.makeTrainer(Self.settings(steps: total, dropout: dropout))
                Self.advance(first, to: split)
                let saved = try Checkpoint(decoding: first.checkpoint().encoded())
                let resumed = try Trainer(resuming: saved, tokens: Self.tokens, corpusName: "test corpus", context: Self.context)
                XCTAssertEqual(resumed.step, split)
                XCTAssertTrue(resumed.corpusMatches(try XCTUnwrap(saved.training)))
                XCTAssertEqual(resumed.history, first.history)
                Self.advance(resumed, to: total)

                XCTAssertTrue(resumed.checkpoint().encoded() == straight.checkpoint().encoded(),
                              "dropout \(dropout), resumed after \(split): the checkpoints differ")
                XCTAssertEqual(resumed.model.parameters.array, straight.model.parameters.array)
            }
        }
    }

    func testResumeCanExtendTheRunAndRefusesWhatItCannotDo() throws {
        let trainer = try Self.makeTrainer(Self.settings(steps: 4))
        Self.advance(trainer, to: 4)
        let checkpoint = trainer.checkpoint()
        assertError(.usage, containing: ["4 of 4", "`steps`"]) {
            _ = try Trainer(resuming: checkpoint, tokens: Self.tokens, corpusName: "c", context: Self.context)
        }
        let extended = try Trainer(resuming: checkpoint, tokens: Self.tokens, corpusName: "c", steps: 6, context: Self.context)
        XCTAssertEqual(extended.settings.steps, 6)
        Self.advance(extended, to: 6)

        var weightsOnly = checkpoint
        weightsOnly.training = nil
        assertError(.runtime, containing: ["weights only"]) {
            _ = try Trainer(resuming: weightsOnly, tokens: Self.tokens, corpusName: "c", steps: 8, context: Self.context)
        }
        let other = try Trainer(resuming: checkpoint, tokens: TokenIds(try Self.tokens.reversed()), corpusName: "c",
                                steps: 8, context: Self.context)
        XCTAssertFalse(other.corpusMatches(try XCTUnwrap(checkpoint.training)), "a different corpus must be noticed")
    }

    // MARK: - Learning-rate schedule

    func testWarmupRisesLinearlyToThePeak() {
        var s = TrainingConfig()
        s.steps = 100
        s.warmupSteps = 10
        s.learningRate = 1e-3
        s.minLearningRate = 1e-4
        let warmup = (0...10).map { s.learningRate(at: $0) }
        for step in 0..<10 {
            // nanoGPT: learning_rate * (it + 1) / (warmup_iters + 1).
            XCTAssertEqual(warmup[step], 1e-3 * Float(step + 1) / 11, accuracy: 1e-9, "warmup step \(step)")
            XCTAssertLessThan(warmup[step], warmup[step + 1])
        }
        let increments = (0..<10).map { warmup[$0 + 1] - warmup[$0] }
        for d in increments { XCTAssertEqual(d, 1e-3 / 11, accuracy: 1e-9, "equal increments: a straight line") }
        XCTAssertEqual(warmup[10], 1e-3, "the peak comes right after warmup")
        XCTAssertEqual((0..<100).map { s.learningRate(at: $0) }.max(), 1e-3)

        s.warmupSteps = 0
        XCTAssertEqual(s.learningRate(at: 0), 1e-3, "without warmup the first step runs at the peak")
    }

    func testCosineDecayFallsToTheMinimum() throws {
        var s = TrainingConfig()
        s.steps = 100
        s.warmupSteps = 10
        s.learningRate = 1e-3
        s.minLearningRate = 1e-4
        let lr = (0...120).map { s.learningRate(at: $0) }
        // Where the decay ends (the last step or the one after it, depending on convention).
        let end = try XCTUnwrap(lr.firstIndex(of: 1e-4))
        XCTAssertLessThanOrEqual(end, 100, "the decay must be over by the end of the run")
        XCTAssertGreaterThanOrEqual(end, 99)
        for step in 10...end {
            // Half a cosine from the peak at the warmup's end to the minimum at `end`.
            let expected = 1e-4 + 0.5 * (1 + cos(Double.pi * Double(step - 10) / Double(end - 10))) * 9e-4
            XCTAssertEqual(Double(lr[step]), expected, accuracy: 1e-9, "step \(step)")
            XCTAssertLessThanOrEqual(lr[step + 1], lr[step], "non-increasing after the peak (step \(step))")
        }
        for step in end...120 { XCTAssertEqual(lr[step], 1e-4, "beyond the decay the minimum holds (step \(step))") }
    }

    /// A run of `steps` steps trains at steps 0 … steps − 1; the last of them should use
    /// `minLearningRate`, as nanoGPT's last iteration (it = lr_decay_iters = max_iters) does.
    func testLastStepOfARunUsesTheMinimumLearningRate() throws {
        var settings = Self.settings(steps: 8)
        settings.warmupSteps = 2
        let trainer = try Self.makeTrainer(settings)
        var rates: [Float] = []
        while !trainer.isFinished {
            let expected = settings.learningRate(at: trainer.step)
            let result = trainer.trainStep()
            XCTAssertEqual(result.learningRate, expected, "the step reports the rate the schedule gives its step")
            rates.append(result.learningRate)
        }
        XCTAssertEqual(rates.max(), settings.learningRate, "the peak is reached during the run")
        XCTAssertEqual(Double(try XCTUnwrap(rates.last)), Double(settings.minLearningRate), accuracy: 1e-9,
                       "the last step (index \(settings.steps - 1)) trains at \(rates.last ?? .nan), not at the minimum \(settings.minLearningRate)")
    }

    // MARK: - Dataset

    func testDatasetRejectsACorpusShorterThanTheContext() throws {
        let short = TokenIds(try Self.tokens.prefix(20))
        assertError(.runtime, containing: ["test text", "20 characters", "context of 16", "`contextLength`"]) {
            _ = try TokenDataset(tokens: short, validationFraction: 0.1, contextLength: 16, name: "test text")
        }
        // Long enough in total, but the held-out tenth cannot hold one window of 17.
        let hundred = TokenIds(try Self.tokens.prefix(100))
        assertError(.runtime, containing: ["context of 16"]) {
            _ = try TokenDataset(tokens: hundred, validationFraction: 0.1, contextLength: 16, name: "test text")
        }
        XCTAssertNoThrow(try TokenDataset(tokens: TokenIds(try Self.tokens.prefix(170)), validationFraction: 0.1,
                                          contextLength: 16, name: "test text"))
        assertError(.runtime, containing: ["context of 16"]) {
            _ = try Trainer(config: Self.config(), settings: Self.settings(), tokenizer: Self.tokenizer, tokens: short,
                            corpusName: "test text", context: Self.context)
        }
    }

    func testBatchesAreShiftedWindowsFromTheirSplit() throws {
        // Token i has id i, so a window's ids say where it came from.
        let tokens = (0..<400).map { Int32($0) }
        let data = try TokenDataset(tokens: TokenIds(tokens), validationFraction: 0.25, contextLength: 16, name: "ids")
        XCTAssertEqual(data.trainCount, 300)
        XCTAssertEqual(data.validationCount, 100)
        let B = 32, T = 16
        var inputs = [Int32](repeating: -1, count: B * T), targets = [Int32](repeating: -1, count: B * T)
        var rng = RandomGenerator(seed: 3)
        for validation in [false, true] {
            var starts = Set<Int32>()
            for _ in 0..<10 {
                data.sampleBatch(inputs: &inputs, targets: &targets, B: B, T: T, validation: validation, rng: &rng)
                for b in 0..<B {
                    let first = inputs[b * T]
                    starts.insert(first)
                    for t in 0..<T {
                        XCTAssertEqual(inputs[b * T + t], first + Int32(t), "a window is consecutive")
                        XCTAssertEqual(targets[b * T + t], first + Int32(t) + 1, "targets are inputs shifted by one")
                    }
                    if validation {
                        XCTAssertGreaterThanOrEqual(first, 300, "validation windows come from the held-out tail")
                    } else {
                        XCTAssertLessThanOrEqual(targets[b * T + T - 1], 299, "training windows never reach the tail")
                    }
                }
            }
            XCTAssertGreaterThan(starts.count, validation ? 40 : 100, "windows start all over their split")
        }
    }

    // MARK: - Divergence guard

    func testNonFiniteLossLeavesEverythingUntouched() throws {
        let trainer = try Self.makeTrainer(Self.settings())
        Self.advance(trainer, to: 2)
        trainer.model.parameters.pointer[0] = .nan
        let parameters = trainer.model.parameters.array.map(\.bitPattern)
        let m = trainer.optimizer.m.array, v = trainer.optimizer.v.array
        let result = trainer.trainStep()
        XCTAssertFalse(result.applied)
        XCTAssertTrue(result.loss.isNaN)
        XCTAssertEqual(trainer.step, 2)
        XCTAssertEqual(trainer.tokensSeen, 2 * 4 * 16)
        XCTAssertEqual(trainer.model.parameters.array.map(\.bitPattern), parameters, "parameters must not move")
        XCTAssertEqual(trainer.optimizer.m.array, m, "AdamW moments must not move")
        XCTAssertEqual(trainer.optimizer.v.array, v)

        trainer.model.parameters.pointer[0] = 0
        XCTAssertTrue(trainer.trainStep().applied, "a finite model trains again")
        XCTAssertEqual(trainer.step, 3)
        trainer.model.parameters.pointer[0] = .nan
        trainer.skipStep()
        XCTAssertEqual(trainer.step, 4, "skipStep moves the schedule on")
        XCTAssertEqual(trainer.tokensSeen, 4 * 4 * 16)
    }

    // MARK: - TrainingRun

    func testRunWritesLatestBestAndKeepsTheNewestStepCheckpoints() throws {
        let folder = try makeTemporaryFolder()
        let trainer = try Self.makeTrainer(Self.settings(steps: 12))
        var steps = 0, evaluations: [(step: Int, loss: Float, isBest: Bool)] = [], saved: [String] = []
        let outcome = try TrainingRun.run(trainer, options: RunOptions(directory: folder, saveEvery: 3, keep: 2),
                                          shouldStop: { false }) { event in
            switch event {
            case .step: steps += 1
            case .evaluation(let step, _, let loss, let isBest): evaluations.append((step, loss, isBest))
            case .saved(let path, _): saved.append(path)
            case .skipped: XCTFail("no step should be skipped")
            }
        }
        XCTAssertEqual(steps, 12)
        XCTAssertEqual(evaluations.map(\.step), [4, 8, 12])
        XCTAssertEqual(outcome, .finished(validationLoss: try XCTUnwrap(evaluations.last).loss))

        let names = Set(try FileManager.default.contentsOfDirectory(atPath: folder))
        XCTAssertEqual(names, ["latest.ckpt", "best.ckpt", "step-0000009.ckpt", "step-0000012.ckpt"])

        let latestBytes = try XCTUnwrap(FileManager.default.contents(atPath: folder + "/latest.ckpt"))
        XCTAssertTrue(Array(latestBytes) == trainer.checkpoint().encoded(), "latest.ckpt holds the final state")
        let latest = try Checkpoint(contentsOf: folder + "/latest.ckpt")
        XCTAssertEqual(latest.training?.step, 12)
        XCTAssertEqual(try Checkpoint(contentsOf: folder + "/step-0000009.ckpt").training?.step, 9)

        let best = try Checkpoint(contentsOf: folder + "/best.ckpt")
        let bestEvaluation = try XCTUnwrap(evaluations.min { $0.loss < $1.loss })
        XCTAssertEqual(best.training?.step, bestEvaluation.step, "best.ckpt is from the lowest validation loss")
        XCTAssertEqual(best.training?.bestValidationLoss, bestEvaluation.loss)
        XCTAssertEqual(trainer.bestValidationLoss, bestEvaluation.loss)
        XCTAssertEqual(evaluations.filter(\.isBest).last?.step, bestEvaluation.step)
        XCTAssertEqual(saved.filter { $0.hasSuffix("best.ckpt") }.count, evaluations.filter(\.isBest).count)
        XCTAssertEqual(trainer.history.map(\.step), [4, 8, 12])
    }

    func testWriteCheckpointStreamsTheBytesOfCheckpointAndRefusesNonFiniteWeights() throws {
        let folder = try makeTemporaryFolder()
        let trainer = try Self.makeTrainer(Self.settings(steps: 5))
        Self.advance(trainer, to: 5)
        let paths = [folder + "/latest.ckpt", folder + "/best.ckpt"]
        try trainer.writeCheckpoint(to: paths)
        let expected = trainer.checkpoint().encoded()
        for path in paths { XCTAssertEqual(try AtomicFile.read(path), expected) }

        let saved = trainer.model.parameters[3]
        trainer.model.parameters[3] = .infinity
        XCTAssertThrowsError(try trainer.writeCheckpoint(to: paths)) { error in
            XCTAssertTrue("\(error)".contains("refusing to write \(paths[0]): parameter 3"), "\(error)")
        }
        trainer.model.parameters[3] = saved
        for path in paths { XCTAssertEqual(try AtomicFile.read(path), expected, "the old files are untouched") }
    }

    func testKeepZeroWritesNoStepCheckpoints() throws {
        let folder = try makeTemporaryFolder()
        let trainer = try Self.makeTrainer(Self.settings(steps: 6))
        _ = try TrainingRun.run(trainer, options: RunOptions(directory: folder, saveEvery: 2, keep: 0),
                                shouldStop: { false }) { _ in }
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: folder)), ["latest.ckpt", "best.ckpt"])
    }

    func testStopSavesLatestAndResumingMatchesAnUninterruptedRun() throws {
        let straightFolder = try makeTemporaryFolder()
        let straight = try Self.makeTrainer(Self.settings(steps: 10, dropout: 0.1))
        _ = try TrainingRun.run(straight, options: RunOptions(directory: straightFolder, saveEvery: 0),
                                shouldStop: { false }) { _ in }

        let folder = try makeTemporaryFolder()
        let trainer = try Self.makeTrainer(Self.settings(steps: 10, dropout: 0.1))
        var calls = 0
        let outcome = try TrainingRun.run(trainer, options: RunOptions(directory: folder, saveEvery: 0),
                                          shouldStop: { calls += 1; return calls > 5 }) { _ in }
        XCTAssertEqual(outcome, .interrupted(step: 5))
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: folder))
        XCTAssertEqual(names, ["latest.ckpt", "best.ckpt"], "an interrupt saves latest, no step checkpoint")
        let latest = try Checkpoint(contentsOf: folder + "/latest.ckpt")
        XCTAssertEqual(latest.training?.step, 5)

        let resumed = try Trainer(resuming: latest, tokens: Self.tokens, corpusName: "test corpus", context: Self.context)
        let finished = try TrainingRun.run(resumed, options: RunOptions(directory: folder, saveEvery: 0),
                                           shouldStop: { false }) { _ in }
        XCTAssertEqual(finished, .finished(validationLoss: try XCTUnwrap(straight.history.last).validationLoss))
        XCTAssertTrue(resumed.checkpoint().encoded() == straight.checkpoint().encoded(),
                      "stopping and resuming must not change a single bit")
        XCTAssertEqual(FileManager.default.contents(atPath: folder + "/latest.ckpt"),
                       FileManager.default.contents(atPath: straightFolder + "/latest.ckpt"))
    }

    /// A skipped step that lands on the last step (or on an evaluation or save step) must not
    /// cost the run its final evaluation and save.
    func testSkippedLastStepStillSavesTheFinalState() throws {
        let folder = try makeTemporaryFolder()
        let trainer = try Self.makeTrainer(Self.settings(steps: 8))
        let saved = trainer.model.parameters.pointer[0]
        var calls = 0, skipped = 0
        let outcome = try TrainingRun.run(trainer, options: RunOptions(directory: folder, saveEvery: 0, onNonFinite: .skip),
                                          shouldStop: {
                                              calls += 1
                                              trainer.model.parameters.pointer[0] = calls == 8 ? .nan : saved
                                              return false
                                          }) { event in
            // A skipped step leaves the weights as they were: undo the injected NaN at once.
            if case .skipped = event { skipped += 1; trainer.model.parameters.pointer[0] = saved }
        }
        trainer.model.parameters.pointer[0] = saved
        XCTAssertEqual(skipped, 1)
        XCTAssertEqual(trainer.step, 8)
        if case .finished(let loss) = outcome {
            XCTAssertTrue(loss.isFinite, "the run should end with a validation loss, got \(loss)")
        } else {
            XCTFail("unexpected outcome \(outcome)")
        }
        XCTAssertEqual(trainer.history.last?.step, 8, "the last step should be evaluated and recorded")
        let latest = folder + "/latest.ckpt"
        XCTAssertTrue(FileManager.default.fileExists(atPath: latest), "the finished run wrote no latest.ckpt")
        if FileManager.default.fileExists(atPath: latest) {
            XCTAssertEqual(try Checkpoint(contentsOf: latest).training?.step, 8, "latest.ckpt should hold the final step")
        }
    }

    /// NaN is injected into a weight before step 4 (through `shouldStop`, which runs before
    /// every step) and removed again before the next one.
    func testNonFiniteStepUnderSkipAndStopPolicies() throws {
        func run(_ policy: NonFinitePolicy, folder: String) throws -> (Trainer, [Int]) {
            let trainer = try Self.makeTrainer(Self.settings(steps: 8))
            let saved = trainer.model.parameters.pointer[0]
            var calls = 0, skipped: [Int] = []
            defer { trainer.model.parameters.pointer[0] = saved }
            _ = try TrainingRun.run(trainer, options: RunOptions(directory: folder, saveEvery: 2, onNonFinite: policy),
                                    shouldStop: {
                                        calls += 1
                                        trainer.model.parameters.pointer[0] = calls == 4 ? .nan : saved
                                        return false
                                    }) { event in
                if case .skipped(let step, let loss, _) = event {
                    skipped.append(step)
                    XCTAssertTrue(loss.isNaN)
                    trainer.model.parameters.pointer[0] = saved  // a skipped step leaves the weights as they were
                }
            }
            return (trainer, skipped)
        }

        let skipFolder = try makeTemporaryFolder()
        let (trainer, skipped) = try run(.skip, folder: skipFolder)
        XCTAssertEqual(skipped, [3], "the fourth step (after 3 completed) is skipped")
        XCTAssertEqual(trainer.step, 8, "the run still ends at its last step")
        XCTAssertEqual(try Checkpoint(contentsOf: skipFolder + "/latest.ckpt").training?.step, 8)

        let stopFolder = try makeTemporaryFolder()
        assertError(.runtime, containing: ["diverged", "step 4", "`onNonFinite` skip"]) {
            _ = try run(.stop, folder: stopFolder)
        }
        XCTAssertEqual(try Checkpoint(contentsOf: stopFolder + "/latest.ckpt").training?.step, 2,
                       "the checkpoint saved before the divergence stays as it was")
    }
}
