// Tests of the residual ablation (`GPTConfig.residual` false) outside the training pass, which
// ModelGradientTests checks against finite differences: the cached sampling pass runs such a
// model as the full forward pass does, export refuses it in one line, and a plan or a resume
// carries the setting.

import XCTest
@testable import TinyGPT

final class ResidualAblationTests: XCTestCase {
    func testCacheMatchesFullForwardWithoutSkipConnections() {
        var config = SamplerTests.config(gelu: .tanh)
        config.residual = false
        let T = config.contextLength, V = config.vocabSize
        let model = SamplerTests.randomModel(config, seed: 31, context: testContext)
        var rng = RandomGenerator(seed: 32)
        let tokens = randomTokens(T, below: V, &rng)
        tokens.withUnsafeBufferPointer { model.forward(tokens: $0.baseAddress!, B: 1, T: T) }
        let full = (0..<T).map { t in Array(UnsafeBufferPointer(start: model.logits(row: t), count: V)) }
        // The same weights with skips give other logits: the flag reached the full pass.
        var withSkips = config
        withSkips.residual = true
        let skipModel = GPT(config: withSkips, parameters: model.parameters.array, context: testContext)
        let skipLast = SamplerTests.fullForwardLastLogits(skipModel, tokens)
        XCTAssertGreaterThan(zip(skipLast, full[T - 1]).map { abs($0 - $1) }.max() ?? 0, 1e-2)

        let cache = KVCache(model: model)
        for t in 0..<T {
            cache.feed(tokens[t])
            assertClose(cache.logits.array, full[t].doubles, rtol: SamplerTests.tolerance, "no residual, position \(t)")
        }
    }

    func testExportRefusesAModelWithoutSkipConnections() {
        var checkpoint = SafetensorsTests.checkpoint()
        checkpoint.config.residual = false
        XCTAssertThrowsError(try ModelExport.safetensorsBytes(checkpoint)) { error in
            let message = (error as? TinyGPTError)?.message ?? ""
            XCTAssertTrue(message.contains("without skip connections (`residual`)"), message)
            XCTAssertFalse(message.contains("\n"))
        }
        XCTAssertThrowsError(try ModelExport.sidecarJSON(checkpoint))
    }

    func testPlanAndResumeCarryTheSetting() throws {
        var o = TrainingPlan.Overrides()
        XCTAssertTrue(try TrainingPlan(preset: .tiny, vocabSize: 10, overrides: o).config.residual)
        o.residual = false
        let plan = try TrainingPlan(preset: .tiny, vocabSize: 10, overrides: o)
        XCTAssertFalse(plan.config.residual)
        XCTAssertEqual(o.conflicts(config: plan.config, settings: plan.settings), [])
        var withSkips = plan.config
        withSkips.residual = true
        XCTAssertEqual(o.conflicts(config: withSkips, settings: plan.settings).map(\.field), ["residual"])
    }
}
