// Tests for Ops/CrossEntropy.swift: fused softmax + negative log-likelihood against the Double
// reference (log-sum-exp form), including large logits, the in-place use the model makes of it,
// and its backward against central finite differences of L = dloss · Σ losses.

import XCTest
@testable import TinyGPT

final class CrossEntropyTests: XCTestCase {
    // Forward: a softmax over V terms with FastMath.exp (~1e-7 relative) and one logf; with
    // logits of size ~100 the loss loses ~|logit|·2⁻²⁴ absolutely. 1e-5 of max|loss| covers both.
    static let forwardTolerance = 1e-5
    // Backward: one Float product per element; 1e-4 of max|gradient| is a wide margin.
    static let gradientTolerance = 1e-4

    /// (N, V): rows spread over several tasks with a ragged last one, a vocabulary below one
    /// SIMD vector, and one of several vectors plus a tail.
    static let shapes = [(37, 5), (20, 70)]

    /// Logits of moderate size, with one row shifted far up and one far down (softmax is
    /// shift-invariant, so the loss stays moderate but a naive exp would overflow or underflow).
    private func logits(N: Int, V: Int, _ rng: inout RandomGenerator) -> [Float] {
        var x = randomFloats(N * V, scale: 3, &rng)
        for i in 0..<V { x[i] += 120; x[V + i] -= 120 }
        return x
    }

    func testForwardMatchesReference() {
        var rng = RandomGenerator(seed: 41)
        for (N, V) in Self.shapes {
            let x = logits(N: N, V: V, &rng), targets = randomTokens(N, below: V, &rng)
            let losses = FloatBuffer(count: N), probs = FloatBuffer(count: N * V)
            let input = FloatBuffer(x)
            withExtendedLifetime(input) {
                CrossEntropy.forward(losses.pointer, probs.pointer, input.pointer, targets, N: N, V: V,
                                     context: testContext)
            }
            let shape = "N=\(N) V=\(V)"
            assertClose(losses.array, Reference.crossEntropy(x.doubles, targets, N: N, V: V),
                        rtol: Self.forwardTolerance, "CrossEntropy losses \(shape)")
            let expectedProbs = (0..<N).flatMap { n in Reference.softmax(Array(x.doubles[n * V..<(n + 1) * V])) }
            assertClose(probs.array, expectedProbs, rtol: Self.forwardTolerance, "CrossEntropy probabilities \(shape)")

            // In place, as the model calls it: probabilities written over the logits.
            let inPlace = FloatBuffer(x), inPlaceLosses = FloatBuffer(count: N)
            CrossEntropy.forward(inPlaceLosses.pointer, inPlace.pointer, inPlace.pointer, targets, N: N, V: V,
                                 context: testContext)
            XCTAssertEqual(inPlaceLosses.array, losses.array, "in-place losses differ, \(shape)")
            XCTAssertEqual(inPlace.array, probs.array, "in-place probabilities differ, \(shape)")
        }
    }

    func testBackwardMatchesFiniteDifferences() {
        var rng = RandomGenerator(seed: 42)
        let dloss: Float = 0.37
        for (N, V) in Self.shapes {
            let x = logits(N: N, V: V, &rng), targets = randomTokens(N, below: V, &rng)
            let losses = FloatBuffer(count: N), probs = FloatBuffer(count: N * V)
            let dlogits = FloatBuffer(randomFloats(N * V, &rng))  // garbage: backward overwrites
            let input = FloatBuffer(x)
            withExtendedLifetime(input) {
                CrossEntropy.forward(losses.pointer, probs.pointer, input.pointer, targets, N: N, V: V,
                                     context: testContext)
            }
            CrossEntropy.backward(dlogits.pointer, probs.pointer, targets, dloss: dloss, N: N, V: V,
                                  context: testContext)
            let at = sampledIndices(N * V, limit: 600)
            let expected = centralDifferences(at: x.doubles, indices: at) { probe in
                Double(dloss) * Reference.crossEntropy(probe, targets, N: N, V: V).reduce(0, +)
            }
            let shape = "N=\(N) V=\(V)"
            assertClose(gather(dlogits.array, at), expected, rtol: Self.gradientTolerance,
                        "CrossEntropy dlogits (overwritten) \(shape)")

            // In place, as the model calls it: the gradient written over the probabilities.
            CrossEntropy.backward(probs.pointer, probs.pointer, targets, dloss: dloss, N: N, V: V, context: testContext)
            XCTAssertEqual(probs.array, dlogits.array, "in-place gradient differs, \(shape)")
        }
    }
}
