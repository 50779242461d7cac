// Tests for Ops/LayerNorm.swift: forward (and its saved mean and rstd) against the Double
// reference, backward against central finite differences of L = Σ out · dOut.

import XCTest
@testable import TinyGPT

final class LayerNormTests: XCTestCase {
    // Forward: a row sums C terms in Float, ~1e-7 relative per element; 1e-5 leaves 100× margin.
    static let forwardTolerance = 1e-5
    // Backward: Float terms of size up to rstd·|dOut·weight| (rstd up to ~1/std of the row),
    // summed over C and over N rows for dweight and dbias; rounding stays ~1e-6 of the largest
    // gradient, and finite differences in Double are good to ~1e-10. 1e-4 is a 100× margin.
    static let gradientTolerance = 1e-4

    /// (N, C): fewer rows than one task, several tasks with a ragged last one, a wide row.
    static let shapes = [(3, 8), (70, 13), (5, 200)]

    func testForwardMatchesReference() {
        var rng = RandomGenerator(seed: 11)
        for (N, C) in Self.shapes {
            // Rows with an offset and a scale, so mean and variance are far from 0 and 1.
            let inp = randomFloats(N * C, scale: 3, &rng).map { $0 + 2 }
            let weight = randomFloats(C, &rng), bias = randomFloats(C, &rng)
            let out = FloatBuffer(count: N * C), mean = FloatBuffer(count: N), rstd = FloatBuffer(count: N)
            let inputs = (FloatBuffer(inp), FloatBuffer(weight), FloatBuffer(bias))
            withExtendedLifetime(inputs) {
                LayerNorm.forward(out.pointer, mean.pointer, rstd.pointer, inputs.0.pointer, inputs.1.pointer,
                                  inputs.2.pointer, N: N, C: C, context: testContext)
            }
            assertClose(out.array, Reference.layerNorm(inp.doubles, weight.doubles, bias.doubles, N: N, C: C),
                        rtol: Self.forwardTolerance, "LayerNorm forward N=\(N) C=\(C)")
            let x = inp.doubles
            let expectedMean = (0..<N).map { n in x[n * C..<(n + 1) * C].reduce(0, +) / Double(C) }
            let expectedRstd = (0..<N).map { n in
                let m = expectedMean[n]
                let variance = x[n * C..<(n + 1) * C].reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(C)
                return 1 / (variance + 1e-5).squareRoot()
            }
            assertClose(mean.array, expectedMean, rtol: Self.forwardTolerance, "LayerNorm saved mean")
            assertClose(rstd.array, expectedRstd, rtol: Self.forwardTolerance, "LayerNorm saved rstd")
        }
    }

    func testBackwardMatchesFiniteDifferencesAndAccumulates() {
        var rng = RandomGenerator(seed: 12)
        for (N, C) in Self.shapes {
            let inp = randomFloats(N * C, scale: 3, &rng).map { $0 + 2 }
            let weight = randomFloats(C, scale: 2, &rng), bias = randomFloats(C, &rng)
            let dout = randomFloats(N * C, &rng)
            let out = FloatBuffer(count: N * C), mean = FloatBuffer(count: N), rstd = FloatBuffer(count: N)
            let inputs = (FloatBuffer(inp), FloatBuffer(weight), FloatBuffer(bias), FloatBuffer(dout))
            // All three gradients accumulate: start them from non-zero values and subtract those.
            let dinpStart = randomFloats(N * C, &rng), dweightStart = randomFloats(C, &rng)
            let dbiasStart = randomFloats(C, &rng)
            let dinp = FloatBuffer(dinpStart), dweight = FloatBuffer(dweightStart), dbias = FloatBuffer(dbiasStart)
            withExtendedLifetime(inputs) {
                LayerNorm.forward(out.pointer, mean.pointer, rstd.pointer, inputs.0.pointer, inputs.1.pointer,
                                  inputs.2.pointer, N: N, C: C, context: testContext)
                LayerNorm.backward(dinp.pointer, dweight.pointer, dbias.pointer, inputs.3.pointer, inputs.0.pointer,
                                   inputs.1.pointer, mean.pointer, rstd.pointer, N: N, C: C, context: testContext)
            }

            let x = inp.doubles, w = weight.doubles, b = bias.doubles, d = dout.doubles
            let shape = "N=\(N) C=\(C)"
            var at = sampledIndices(x.count, limit: 400)
            assertClose(gather(dinp.doubles.minus(dinpStart.doubles), at),
                        weightedSumGradient(at: x, dOut: d, indices: at) { Reference.layerNorm($0, w, b, N: N, C: C) },
                        rtol: Self.gradientTolerance, "LayerNorm dinp (accumulated) \(shape)")
            at = Array(0..<C)
            assertClose(dweight.doubles.minus(dweightStart.doubles),
                        weightedSumGradient(at: w, dOut: d, indices: at) { Reference.layerNorm(x, $0, b, N: N, C: C) },
                        rtol: Self.gradientTolerance, "LayerNorm dweight (accumulated) \(shape)")
            assertClose(dbias.doubles.minus(dbiasStart.doubles),
                        weightedSumGradient(at: b, dOut: d, indices: at) { Reference.layerNorm(x, w, $0, N: N, C: C) },
                        rtol: Self.gradientTolerance, "LayerNorm dbias (accumulated) \(shape)")
        }
    }
}
