// Tests for Training/GradientCheck.swift: on a trained model every tensor agrees with the
// finite differences; a deliberately broken gradient (one tensor's scaled after backward,
// as a wrong backward rule would leave it) fails, naming that tensor; the model is left as
// it was.

import XCTest
@testable import TinyGPT

final class GradientCheckTests: XCTestCase {
    /// A small model trained for a while on the trainer tests' corpus, and its data.
    static let trained: (trainer: Trainer, data: TokenDataset) = {
        var settings = TrainerTests.settings(steps: 120)
        settings.evalInterval = 1000
        let trainer = try! TrainerTests.makeTrainer(settings, contextLength: 16)
        while !trainer.isFinished { _ = trainer.trainStep() }
        return (trainer, trainer.data)
    }()

    func testTrainedModelPassesEveryTensor() throws {
        let (trainer, data) = Self.trained
        let before = Array(trainer.model.parameters.buffer)
        let result = GradientCheck(samplesPerTensor: 3).run(model: trainer.model, data: data, batchSize: 4)
        XCTAssertTrue(result.passed, "failing: \(result.failingTensors); worst: \(result.entries.max { $0.relativeError < $1.relativeError }!)")
        XCTAssertNil(result.failure)
        XCTAssertEqual(Set(result.entries.map(\.tensor)), Set(trainer.model.layout.tensors.map(\.name)), "every tensor is checked")
        XCTAssertEqual(result.entries.count, 3 * trainer.model.layout.tensors.count)
        // The largest entries of each tensor agree to well within the tolerance, not just the floor.
        let largest = Dictionary(grouping: result.entries, by: \.tensor).compactMap { $0.value.first }
        let tight = largest.filter { $0.relativeError < 1e-2 }.count
        XCTAssertGreaterThanOrEqual(tight, largest.count * 9 / 10, "most tensors' largest gradients agree to 1%")
        XCTAssertEqual(Array(trainer.model.parameters.buffer), before, "the weights are restored bit for bit")
        XCTAssertLessThan(result.noiseFloor, 1e-3, "the rounding floor stays small next to real gradients")
    }

    func testAScaledGradientFailsNamingTheTensor() throws {
        let (trainer, data) = Self.trained
        for (tensor, factor) in [("transformer.h.1.mlp.c_fc.weight", Float(1.1)), ("transformer.h.0.ln_1.bias", 0.5),
                                 ("transformer.wpe.weight", -1)] {
            var check = GradientCheck(samplesPerTensor: 2)
            check.corruptGradient = (tensor, factor)
            let result = check.run(model: trainer.model, data: data, batchSize: 4)
            XCTAssertEqual(result.failingTensors, [tensor], "only the broken tensor fails (factor \(factor))")
            let failure = try XCTUnwrap(result.failure)
            XCTAssertEqual(failure.exitCode, 1)
            XCTAssertTrue(failure.message.contains(tensor), failure.message)
        }
        // Without the fault the same check passes again (the gradients were left as backward made them).
        let clean = GradientCheck(samplesPerTensor: 2).run(model: trainer.model, data: data, batchSize: 4)
        XCTAssertTrue(clean.passed, "\(clean.failingTensors)")
    }

    func testAFivePercentScaleOrOneFlippedSignFailsNamingTheTensor() throws {
        let (trainer, data) = Self.trained
        let tensors = ["transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.attn.c_attn.weight",
                       "transformer.h.1.mlp.c_proj.bias", "transformer.ln_f.weight"]
        for tensor in tensors {
            var scaled = GradientCheck(samplesPerTensor: 2)
            scaled.corruptGradient = (tensor, 1.05)
            var result = scaled.run(model: trainer.model, data: data, batchSize: 4)
            XCTAssertEqual(result.failingTensors, [tensor], "×1.05")
            XCTAssertTrue(try XCTUnwrap(result.failure).message.contains(tensor))

            var flipped = GradientCheck(samplesPerTensor: 2)
            flipped.flipSign = (tensor, nil)
            result = flipped.run(model: trainer.model, data: data, batchSize: 4)
            XCTAssertEqual(result.failingTensors, [tensor], "one sign flipped")
            XCTAssertEqual(try XCTUnwrap(result.failure).exitCode, 1)
        }
    }

    func testFreshModelsOfEveryPresetShapePass() throws {
        // Freshly initialised models, with and without the skip connections: small gradients
        // everywhere, where a fixed step used to cry wolf.
        for (layers, width, residual) in [(2, 32, true), (3, 48, true), (2, 32, false)] {
            let config = GPTConfig(vocabSize: 40, contextLength: 16, layerCount: layers, headCount: 4,
                                   modelWidth: width, residual: residual)
            let model = GPT(config: config, seed: 7)
            var rng = RandomGenerator(seed: 3)
            let inputs = randomTokens(4 * 16, below: 40, &rng), targets = randomTokens(4 * 16, below: 40, &rng)
            let result = GradientCheck(samplesPerTensor: 2).run(model: model, inputs: inputs, targets: targets, B: 4, T: 16)
            XCTAssertTrue(result.passed, "\(layers) layers, width \(width), residual \(residual): \(result.entries.filter { !$0.passed })")
        }
    }

    func testLargestEntriesAndCoordinates() {
        let values: [Float] = [0.1, -3, 2, 0, -2, 5]
        values.withUnsafeBufferPointer {
            XCTAssertEqual(GradientCheck.largestEntries($0.baseAddress!, count: 6, k: 3), [5, 1, 2])
            XCTAssertEqual(GradientCheck.largestEntries($0.baseAddress!, count: 6, k: 10), [5, 1, 2, 4, 0, 3])
        }
        XCTAssertEqual(GradientCheck.coordinates(7, shape: [3, 4]), [1, 3])
        XCTAssertEqual(GradientCheck.coordinates(5, shape: [6]), [5])
    }
}
