// Tests for Sampling/LearningStep.swift and the Q/K/V vectors of Sampling/GPT+Trace.swift:
// the prompt's loss is what `Evaluation.score` (tinygpt eval) gives on the same text; every
// rung of the η ladder is the loss of an independently built model at θ − η·∇; a small step
// lowers the loss by the first-order prediction η‖∇‖²; the backward flow's last stage is
// the position embedding's gradient; q is W_Q·ln_1(x) + b; the checked entries pass.

import Foundation
import XCTest
@testable import TinyGPT

final class LearningStepTests: XCTestCase {
    /// The gradient-check tests' trained model (context 16) and a prompt from its data.
    static let trained: (model: GPT, prompt: [Int32]) = {
        let (trainer, _) = GradientCheckTests.trained
        let model = GPT(config: trainer.model.config, parameters: Array(trainer.model.parameters.buffer))
        let tokens = try! TrainerTests.tokens
        return (model, (100..<117).map { tokens[$0] })
    }()

    func testPromptLossIsEvalOnTheSameText() throws {
        let (model, prompt) = Self.trained
        let before = Array(model.parameters.buffer)
        let step = model.learningStep(tokens: prompt)
        XCTAssertEqual(step.positions.count, prompt.count - 1)
        let mean = step.positions.map(\.loss).reduce(0, +) / Double(step.positions.count)
        XCTAssertEqual(step.loss, mean, accuracy: 1e-12)
        let eval = try Evaluation.score(model: GPT(config: model.config, parameters: before), tokens: prompt)
        XCTAssertEqual(eval.positions, prompt.count - 1, "a text shorter than the context is one window")
        XCTAssertEqual(step.loss, eval.loss, accuracy: 1e-4)
        for (t, position) in step.positions.enumerated() {
            XCTAssertEqual(position.target, prompt[t + 1])
            XCTAssertEqual(-Foundation.log(position.probability), position.loss, accuracy: 1e-4)
            XCTAssertEqual(position.candidates.count, 8)
            XCTAssertTrue(zip(position.candidates, position.candidates.dropFirst()).allSatisfy { $0.probability >= $1.probability })
        }
        XCTAssertEqual(Array(model.parameters.buffer), before, "the weights are restored bit for bit")
    }

    func testEachRungIsTheLossOfTheSteppedModel() throws {
        let (model, prompt) = Self.trained
        let step = model.learningStep(tokens: prompt)
        XCTAssertEqual(step.ladder.map(\.eta), LearningStep.defaultLadder)
        let theta = Array(model.parameters.buffer), gradient = Array(model.gradients.buffer)
        var squared = 0.0
        for g in gradient { squared += Double(g) * Double(g) }
        XCTAssertEqual(step.gradientNorm, squared.squareRoot(), accuracy: 1e-9 * squared.squareRoot())
        for rung in step.ladder {
            let eta = Float(rung.eta)
            let stepped = GPT(config: model.config, parameters: zip(theta, gradient).map { $0 - eta * $1 })
            let recomputed = try Evaluation.score(model: stepped, tokens: prompt).loss
            XCTAssertEqual(rung.lossAfter, recomputed, accuracy: 1e-5, "η = \(rung.eta)")
            XCTAssertEqual(rung.predicted, step.loss - rung.eta * squared, accuracy: 1e-9)
        }
        // A small step lowers the loss by what the first-order prediction says; a large one overshoots.
        let small = step.ladder[0]
        XCTAssertEqual((step.loss - small.lossAfter) / (step.loss - small.predicted), 1, accuracy: 0.1)
        XCTAssertNotNil(step.firstOvershoot, "η = 10 is too large for one step")
        XCTAssertLessThan(step.bestRung!.lossAfter, step.loss)
    }

    func testBackwardFlowEndsAtThePositionEmbeddingsGradient() {
        let (model, prompt) = Self.trained
        let step = model.learningStep(tokens: prompt)
        let L = model.config.layerCount, C = model.config.modelWidth, N = prompt.count - 1
        XCTAssertEqual(step.flow.map(\.point), [.logits, .finalNorm] + (0...(2 * L)).reversed().map { .stream($0) })
        // Position t's embedding is wte[token] + wpe[t]: wpe[t]'s gradient is ∂L/∂x⁰_t itself.
        let wpe = model.gradients.pointer + model.layout["transformer.wpe.weight"]!.offset
        for t in 0..<N {
            var sum = 0.0
            for c in 0..<C { sum += Double(wpe[t * C + c]) * Double(wpe[t * C + c]) }
            XCTAssertEqual(Double(step.flow.last!.sizes[t]), sum.squareRoot(), accuracy: 1e-6 + 1e-4 * sum.squareRoot())
        }
        // ∂L/∂logits_t = (p_t − y_t)/N: at least (1 − p(target))/N in size.
        for t in 0..<N {
            XCTAssertGreaterThanOrEqual(Double(step.flow[0].sizes[t]) * 1.0001, (1 - step.positions[t].probability) / Double(N))
        }
        // Every tensor's norm, and they add up to the whole gradient's.
        XCTAssertEqual(step.tensors.map(\.name), model.layout.tensors.map(\.name))
        let total = step.tensors.map { $0.norm * $0.norm }.reduce(0, +).squareRoot()
        XCTAssertEqual(total, step.gradientNorm, accuracy: 1e-9 * total)
        XCTAssertTrue(step.checks.passed, "\(step.checks.entries)")
        XCTAssertEqual(Set(step.checks.entries.map(\.tensor)), Set(LearningStep.checkedTensors(model.config)))
    }

    func testTheTrainingPassIsUnchangedByTheProbe() {
        // The probe only reads: with and without it the gradients are the same bits.
        let (model, prompt) = Self.trained
        _ = model.learningStep(tokens: prompt)
        let probed = Array(model.gradients.buffer)
        let inputs = Array(prompt.dropLast()), targets = Array(prompt.dropFirst())
        model.zeroGradients()
        var rng = RandomGenerator(seed: 0)
        inputs.withUnsafeBufferPointer { i in
            targets.withUnsafeBufferPointer { t in
                _ = model.forward(tokens: i.baseAddress!, targets: t.baseAddress!, B: 1, T: inputs.count, rng: &rng)
            }
        }
        model.backward()
        XCTAssertEqual(Array(model.gradients.buffer), probed)
    }

    func testQueryIsWQTimesTheNormalisedInput() {
        let (model, prompt) = Self.trained
        let tokens = Array(prompt.prefix(12))
        let trace = model.trace(tokens: tokens, newline: nil, space: nil)
        let C = model.config.modelWidth, hs = model.config.headWidth
        for l in 0..<model.config.layerCount {
            let w = model.layout.blocks[l].qkv
            let W = model.parameters.pointer + w.weight, b = model.parameters.pointer + w.bias
            for head in 0..<model.config.headCount {
                for t in [0, 5, tokens.count - 1] {
                    let x = trace.normalizedInputs[l][(t * C)..<((t + 1) * C)]
                    for part in 0..<3 {
                        let vector = Array(trace.vector(layer: l, head: head, position: t, part: part))
                        for i in 0..<hs {
                            let row = part * C + head * hs + i
                            var sum = Double(b[row])
                            for (c, xc) in x.enumerated() { sum += Double(W[row * C + c]) * Double(xc) }
                            XCTAssertEqual(Double(vector[i]), sum, accuracy: 1e-4)
                        }
                    }
                    // The scores are q·k, and the weights over the keys add to one.
                    for j in 0...t {
                        let q = trace.vector(layer: l, head: head, position: t, part: 0)
                        let k = trace.vector(layer: l, head: head, position: j, part: 1)
                        let dot = zip(q, k).map { Double($0) * Double($1) }.reduce(0, +)
                        XCTAssertEqual(Double(trace.heads[l][head].scores[t * tokens.count + j]), dot, accuracy: 1e-4)
                    }
                    XCTAssertEqual(trace.attentionOutput(layer: l, head: head, query: t).count, hs)
                }
            }
        }
    }
}
