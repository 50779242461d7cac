// Tests for Training/Preset.swift: the presets' numbers, the default rules of `TrainingPlan`
// (min-lr a tenth of lr, warmup at most half the steps, eval interval at most a quarter,
// overrides winning), validation once at the plan, and the bench shapes taken from presets.

import Foundation
import XCTest
@testable import TinyGPT

final class PresetTests: XCTestCase {
    func testPresetsAndLookup() {
        XCTAssertEqual(Preset.all.map(\.name), ["baby", "tiny", "ten-minutes", "small"])
        XCTAssertEqual(Preset.named("tiny"), .tiny)
        XCTAssertNil(Preset.named("huge"))
        let baby = Preset.baby.config(vocabSize: 65)
        XCTAssertEqual(baby, GPTConfig(vocabSize: 65, contextLength: 64, layerCount: 4, headCount: 4, modelWidth: 128))
        XCTAssertEqual(Preset.baby.settings.batchSize, 12)
        XCTAssertEqual(Preset.small.settings.dropout, 0.2)
    }

    func testDefaultRules() throws {
        // Nothing overridden: the preset, with min-lr = lr / 10 and the caps not biting.
        let baby = try TrainingPlan(vocabSize: 30)
        XCTAssertEqual(baby.config, Preset.baby.config(vocabSize: 30))
        XCTAssertEqual(baby.settings.learningRate, 1e-3)
        XCTAssertEqual(baby.settings.minLearningRate, 1e-3 / 10)
        XCTAssertEqual(baby.settings.warmupSteps, 100)
        XCTAssertEqual(baby.settings.evalInterval, 250)

        // A short run: warmup capped at steps / 2, evaluation at steps / 4; min-lr follows the new lr.
        var o = TrainingPlan.Overrides()
        o.steps = 40
        o.learningRate = 0.02
        let short = try TrainingPlan(preset: .tiny, vocabSize: 30, overrides: o)
        XCTAssertEqual(short.settings.steps, 40)
        XCTAssertEqual(short.settings.warmupSteps, 20)
        XCTAssertEqual(short.settings.evalInterval, 10)
        XCTAssertEqual(short.settings.minLearningRate, 0.02 / 10)
        o.steps = 2
        XCTAssertEqual(try TrainingPlan(preset: .tiny, vocabSize: 30, overrides: o).settings.evalInterval, 1)

        // Given values win, except that warmup is capped even when given.
        o = TrainingPlan.Overrides()
        o.steps = 100
        o.minLearningRate = 0
        o.warmupSteps = 80
        o.evalInterval = 70
        o.headCount = 8
        o.gelu = .exact
        o.seed = 9
        let given = try TrainingPlan(preset: .tiny, vocabSize: 30, overrides: o)
        XCTAssertEqual(given.settings.minLearningRate, 0)
        XCTAssertEqual(given.settings.warmupSteps, 50)
        XCTAssertEqual(given.settings.evalInterval, 70)
        XCTAssertEqual(given.settings.seed, 9)
        XCTAssertEqual(given.config.headCount, 8)
        XCTAssertEqual(given.config.gelu, .exact)
    }

    func testPlanValidatesNamingTheField() {
        var o = TrainingPlan.Overrides()
        o.modelWidth = 30
        o.headCount = 4
        XCTAssertThrowsError(try TrainingPlan(vocabSize: 30, overrides: o)) { error in
            XCTAssertEqual((error as? TinyGPTError)?.kind, .usage)
            XCTAssertTrue("\(error)".hasPrefix("`modelWidth` 30 is not divisible by `headCount` 4"), "\(error)")
        }
        o = TrainingPlan.Overrides()
        o.learningRate = 0.001
        o.minLearningRate = 0.01
        XCTAssertThrowsError(try TrainingPlan(vocabSize: 30, overrides: o)) { error in
            XCTAssertEqual("\(error)", "`minLearningRate` must be between 0 and `learningRate` (0.001), got 0.01")
        }
        o = TrainingPlan.Overrides()
        o.modelWidth = 16384
        o.headCount = 1
        o.layerCount = 1024
        XCTAssertThrowsError(try TrainingPlan(vocabSize: 30, overrides: o)) { error in
            XCTAssertTrue("\(error)".contains("use a smaller `modelWidth`, `layerCount`, `contextLength` or `batchSize`"), "\(error)")
        }
    }

    /// A trainer made from a plan is the trainer made from the same config and settings.
    func testTrainerFromPlanMatchesTrainerFromConfig() throws {
        let text = String(repeating: "to be or not to be, that is the question. ", count: 12)
        let tokenizer = CharTokenizer(fitting: TextFile.scalars(of: text))
        let tokens = TokenIds(try tokenizer.encode(text))
        var o = TrainingPlan.Overrides()
        o.steps = 3
        o.contextLength = 8
        o.modelWidth = 16
        o.evalWindows = 2
        let plan = try TrainingPlan(preset: .tiny, vocabSize: tokenizer.vocabSize, overrides: o)
        let a = try Trainer(plan: plan, tokenizer: tokenizer, tokens: tokens, corpusName: "a", context: DeterminismPools.single)
        let b = try Trainer(config: plan.config, settings: plan.settings, tokenizer: tokenizer, tokens: tokens,
                            corpusName: "b", context: DeterminismPools.single)
        for _ in 0..<3 { _ = a.trainStep(); _ = b.trainStep() }
        XCTAssertEqual(a.checkpoint(), b.checkpoint())
    }

    func testBenchShapesAreThePresets() {
        XCTAssertEqual(BenchShape.all.map(\.name), ["baby", "small"])
        for shape in BenchShape.all {
            let preset = Preset.named(shape.name)!
            XCTAssertEqual(shape.config, preset.config(vocabSize: 65))
            XCTAssertEqual(shape.batchSize, preset.settings.batchSize)
        }
        XCTAssertEqual(BenchShape.baby.timedSteps, 30)
        XCTAssertEqual(BenchShape.small.timedSteps, 5)
    }
}
