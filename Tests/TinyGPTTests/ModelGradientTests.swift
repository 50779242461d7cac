// End-to-end checks of Model/GPT.swift: the Float model's loss against the Double reference
// GPT (Reference.gptLoss), its hand-written backward against central finite differences of
// that reference for every parameter tensor (with and without dropout, both GELU forms, a
// sequence shorter than the context and one as long, a vocabulary wider than the MLP, blocks
// without their skip connections),
// gradient accumulation across calls,
// and bit-identical results on one thread and on two.

import XCTest
@testable import TinyGPT

final class ModelGradientTests: XCTestCase {
    static let tiny = GPTConfig(vocabSize: 11, contextLength: 8, layerCount: 2, headCount: 2, modelWidth: 8)
    static let batch = 2

    // Loss: the Float forward rounds at ~1e-7 relative per op through a dozen ops; 1e-5 is the
    // brief's bound and leaves a wide margin.
    static let lossTolerance = 1e-5
    // Gradients, per tensor: the Float backward runs through ~30 ops, each adding rounding of
    // ~1e-7 relative to the values it combines, so its gradients carry ~1e-6 of the tensor's
    // largest gradient; the Double finite differences are good to ~1e-10. 1e-4 of max|gradient|
    // of the tensor keeps a wide margin, plus an absolute floor of 1e-4 of the largest gradient
    // in the whole model for tensors whose gradients are all tiny (rounding there is relative
    // to the big gradients that flowed through the same buffers). A wrong sign, scale, index or
    // missing term is off by a large fraction of the tensor's gradient.
    static let gradientTolerance = 1e-4

    /// Parameters well away from GPT-2's tiny init, so every path carries a sizeable gradient:
    /// matrices and embeddings uniform in ±0.4, biases in ±0.1, LayerNorm gains 1 ± 0.2.
    static func randomParameters(_ config: GPTConfig, seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        let layout = ParameterLayout(config)
        var values = [Float](repeating: 0, count: layout.totalCount)
        for tensor in layout.tensors {
            let isGain = tensor.name.hasSuffix("ln_1.weight") || tensor.name.hasSuffix("ln_2.weight")
                || tensor.name.hasSuffix("ln_f.weight")
            for i in 0..<tensor.count {
                let u = 2 * rng.nextFloat() - 1
                values[tensor.offset + i] = isGain ? 1 + 0.2 * u : (tensor.shape.count == 2 ? 0.4 * u : 0.1 * u)
            }
        }
        return values
    }

    /// Tokens and targets for a batch, with the targets shifted from the tokens as in training.
    static func batch(_ config: GPTConfig, B: Int, T: Int, seed: UInt64) -> (tokens: [Int32], targets: [Int32]) {
        var rng = RandomGenerator(seed: seed)
        let stream = randomTokens(B * (T + 1), below: config.vocabSize, &rng)
        var tokens: [Int32] = [], targets: [Int32] = []
        for b in 0..<B {
            tokens += stream[b * (T + 1)..<b * (T + 1) + T]
            targets += stream[b * (T + 1) + 1..<(b + 1) * (T + 1)]
        }
        return (tokens, targets)
    }

    /// Runs forward (mean loss) and backward from zeroed gradients; returns the loss.
    @discardableResult
    static func lossAndGradients(_ model: GPT, tokens: [Int32], targets: [Int32], B: Int, T: Int,
                                 dropout: Float = 0, rng: inout RandomGenerator) -> Float {
        model.zeroGradients()
        let loss = model.forward(tokens: tokens, targets: targets, B: B, T: T, dropout: dropout, rng: &rng)
        model.backward()
        return loss
    }

    /// Compares `model.gradients` with central differences of `referenceLoss`, tensor by tensor.
    private func checkGradients(_ model: GPT, _ what: String, referenceLoss: ([Double]) -> Double,
                                file: StaticString = #filePath, line: UInt = #line) {
        let parameters = model.parameters.doubles
        let gradients = model.gradients.array
        let expected = centralDifferences(at: parameters, indices: Array(0..<parameters.count), referenceLoss)
        let floor = Self.gradientTolerance * expected.reduce(0) { max($0, abs($1)) }
        for tensor in model.layout.tensors {
            let range = tensor.offset..<tensor.offset + tensor.count
            assertClose(Array(gradients[range]), Array(expected[range]), rtol: Self.gradientTolerance, atol: floor,
                        "\(what): gradient of \(tensor.name)", file: file, line: line)
        }
    }

    // MARK: - Without dropout

    func testLossMatchesReference() {
        for form in GELUForm.allCases {
            for T in [5, Self.tiny.contextLength] {
                var config = Self.tiny
                config.gelu = form
                let parameters = Self.randomParameters(config, seed: 100)
                let (tokens, targets) = Self.batch(config, B: Self.batch, T: T, seed: 101)
                let model = GPT(config: config, parameters: parameters, context: testContext)
                var rng = RandomGenerator(seed: 0)
                let loss = model.forward(tokens: tokens, targets: targets, B: Self.batch, T: T, rng: &rng)
                let expected = Reference.gptLoss(config: config, parameters: parameters.doubles, tokens: tokens,
                                                 targets: targets, B: Self.batch, T: T)
                assertClose(loss, expected, rtol: Self.lossTolerance, "loss, GELU \(form.name), T=\(T)")
            }
        }
    }

    func testGradientsMatchFiniteDifferencesOfReference() {
        for form in GELUForm.allCases {
            for T in [5, Self.tiny.contextLength] {
                var config = Self.tiny
                config.gelu = form
                let (tokens, targets) = Self.batch(config, B: Self.batch, T: T, seed: 102)
                let model = GPT(config: config, parameters: Self.randomParameters(config, seed: 103), context: testContext)
                var rng = RandomGenerator(seed: 0)
                Self.lossAndGradients(model, tokens: tokens, targets: targets, B: Self.batch, T: T, rng: &rng)
                checkGradients(model, "GELU \(form.name), T=\(T)") { probe in
                    Reference.gptLoss(config: config, parameters: probe, tokens: tokens, targets: targets,
                                      B: Self.batch, T: T)
                }
            }
        }
    }

    func testGradientsMatchWhenTheVocabularyIsWiderThanTheMLP() {
        // V > 4C: the logits outgrow the GELU buffer they share (the other way round from `tiny`).
        let config = GPTConfig(vocabSize: 37, contextLength: 6, layerCount: 2, headCount: 2, modelWidth: 8)
        let T = 6
        let (tokens, targets) = Self.batch(config, B: Self.batch, T: T, seed: 110)
        let model = GPT(config: config, parameters: Self.randomParameters(config, seed: 111), context: testContext)
        var rng = RandomGenerator(seed: 0)
        let loss = Self.lossAndGradients(model, tokens: tokens, targets: targets, B: Self.batch, T: T, rng: &rng)
        assertClose(loss, Reference.gptLoss(config: config, parameters: model.parameters.doubles, tokens: tokens,
                                            targets: targets, B: Self.batch, T: T), rtol: Self.lossTolerance, "loss, V > 4C")
        checkGradients(model, "V > 4C") { probe in
            Reference.gptLoss(config: config, parameters: probe, tokens: tokens, targets: targets, B: Self.batch, T: T)
        }
    }

    // MARK: - Without skip connections (the residual ablation)

    /// x = branch instead of x = x + branch: the forward drops the add and the backward must drop
    /// the fan-out term (dx += dout). Checked without and with dropout, on 3 layers so a middle
    /// block's input gradient flows only through the branches of the block above it.
    func testNoResidualGradientsMatchFiniteDifferencesOfReference() {
        var config = Self.tiny
        config.residual = false
        config.layerCount = 3
        let B = Self.batch, T = 6
        for p: Float in [0, 0.3] {
            let (tokens, targets) = Self.batch(config, B: B, T: T, seed: 120)
            let parameters = Self.randomParameters(config, seed: 121)
            let model = GPT(config: config, parameters: parameters, context: testContext)
            var modelRng = RandomGenerator(seed: 122)
            let loss = Self.lossAndGradients(model, tokens: tokens, targets: targets, B: B, T: T, dropout: p, rng: &modelRng)
            var maskRng = RandomGenerator(seed: 122)
            let masks = p > 0 ? Reference.DropoutMasks(config: config, B: B, T: T, p: p, rng: &maskRng) : nil
            let reference = { (probe: [Double]) in
                Reference.gptLoss(config: config, parameters: probe, tokens: tokens, targets: targets, B: B, T: T,
                                  masks: masks)
            }
            // The ablation really changes the function: the same weights with skips give another loss.
            var withSkips = config
            withSkips.residual = true
            let skipLoss = Reference.gptLoss(config: withSkips, parameters: parameters.doubles, tokens: tokens,
                                             targets: targets, B: B, T: T, masks: masks)
            XCTAssertGreaterThan(abs(reference(parameters.doubles) - skipLoss), 1e-3, "residual = false changed nothing")
            assertClose(loss, reference(parameters.doubles), rtol: Self.lossTolerance, "loss without residual, dropout \(p)")
            checkGradients(model, "no residual, dropout \(p)", referenceLoss: reference)
        }
    }

    // MARK: - With dropout

    /// The masks are re-drawn by the reference from the same seed, following Dropout's documented
    /// rule and the model's order of dropout sites. That this is the mask the model used is
    /// itself checked: the losses must agree and the generator must end in the same state.
    func testDropoutGradientsMatchFiniteDifferencesOfReference() {
        let p: Float = 0.3, T = 5, B = Self.batch
        for form in GELUForm.allCases {
            var config = Self.tiny
            config.gelu = form
            let (tokens, targets) = Self.batch(config, B: B, T: T, seed: 104)
            let parameters = Self.randomParameters(config, seed: 105)
            let model = GPT(config: config, parameters: parameters, context: testContext)
            var modelRng = RandomGenerator(seed: 106)
            let loss = Self.lossAndGradients(model, tokens: tokens, targets: targets, B: B, T: T, dropout: p, rng: &modelRng)

            var maskRng = RandomGenerator(seed: 106)
            let masks = Reference.DropoutMasks(config: config, B: B, T: T, p: p, rng: &maskRng)
            XCTAssertEqual(modelRng, maskRng, "the model drew a different number of dropout values than expected")
            let reference = { (probe: [Double]) in
                Reference.gptLoss(config: config, parameters: probe, tokens: tokens, targets: targets, B: B, T: T,
                                  masks: masks)
            }
            let withoutDropout = Reference.gptLoss(config: config, parameters: parameters.doubles, tokens: tokens,
                                                   targets: targets, B: B, T: T)
            XCTAssertGreaterThan(abs(reference(parameters.doubles) - withoutDropout), 1e-3, "dropout changed nothing")
            assertClose(loss, reference(parameters.doubles), rtol: Self.lossTolerance, "loss with dropout, GELU \(form.name)")
            checkGradients(model, "dropout \(p), GELU \(form.name)", referenceLoss: reference)
        }
    }

    // MARK: - Accumulation and determinism

    func testBackwardAccumulatesAcrossBatches() {
        let config = Self.tiny, B = Self.batch, T = 6
        let model = GPT(config: config, parameters: Self.randomParameters(config, seed: 107), context: testContext)
        let first = Self.batch(config, B: B, T: T, seed: 108), second = Self.batch(config, B: B, T: T, seed: 109)
        var rng = RandomGenerator(seed: 0)
        Self.lossAndGradients(model, tokens: first.tokens, targets: first.targets, B: B, T: T, rng: &rng)
        let g1 = model.gradients.doubles
        Self.lossAndGradients(model, tokens: second.tokens, targets: second.targets, B: B, T: T, rng: &rng)
        let g2 = model.gradients.doubles

        model.zeroGradients()
        model.forward(tokens: first.tokens, targets: first.targets, B: B, T: T, rng: &rng)
        model.backward()
        model.forward(tokens: second.tokens, targets: second.targets, B: B, T: T, rng: &rng)
        model.backward()
        // Each accumulating kernel adds its partial sums onto the previous gradient, so the
        // rounding differs from g1 + g2 by a few Float ulps of the gradient.
        assertClose(model.gradients.array, Reference.add(g1, g2), rtol: 1e-6, "gradients accumulated over two batches")
    }

    func testOneAndTwoThreadsGiveBitIdenticalResults() {
        // Large enough that every op splits into several tasks: 128 rows of LayerNorm (4 tasks),
        // 16 attention (batch, head) tasks, 3 GEMM row blocks, 8 GELU and cross-entropy tasks.
        let config = GPTConfig(vocabSize: 70, contextLength: 32, layerCount: 2, headCount: 4, modelWidth: 64)
        let B = 4, T = 32
        let (tokens, targets) = Self.batch(config, B: B, T: T, seed: 110)
        for dropout: Float in [0, 0.1] {
            var results: [(loss: UInt32, gradients: [UInt32])] = []
            for threads in [1, 2] {
                let model = GPT(config: config, seed: 111, context: DeterminismPools.context(threads: threads))
                var rng = RandomGenerator(seed: 112)
                let loss = Self.lossAndGradients(model, tokens: tokens, targets: targets, B: B, T: T,
                                                 dropout: dropout, rng: &rng)
                results.append((loss.bitPattern, model.gradients.array.map(\.bitPattern)))
            }
            XCTAssertEqual(results[0].loss, results[1].loss, "loss differs between 1 and 2 threads, dropout \(dropout)")
            if let i = (0..<results[0].gradients.count).first(where: { results[0].gradients[$0] != results[1].gradients[$0] }) {
                let layout = ParameterLayout(config)
                let name = layout.tensors.last { $0.offset <= i }?.name ?? "?"
                XCTFail("gradient \(i) (in \(name)) differs between 1 and 2 threads, dropout \(dropout)")
            }
        }
    }
}
