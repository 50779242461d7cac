// Tests for Ops/Attention.swift: causal multi-head attention on packed Q, K, V against the
// Double reference (output and saved probabilities), and its backward against central
// finite differences of L = Σ out · dOut with respect to every element of qkv.

import XCTest
@testable import TinyGPT

final class AttentionTests: XCTestCase {
    // Forward: dot products of hs terms, a softmax and a weighted sum over ≤ T rows, all in
    // Float with FastMath.exp (~1e-7 relative); 1e-5 of the largest value is a wide margin.
    static let forwardTolerance = 1e-5
    // Backward: a few dozen Float products per element (~1e-6 relative) against Double finite
    // differences good to ~1e-10; 1e-4 of max|gradient| is a 100× margin over rounding.
    static let gradientTolerance = 1e-4

    /// (B, T, C, NH): head size 4, head size 20 (a full and a partial 16-column tile), a
    /// single position, a single head of width 16, and 19 positions (several 6-row blocks
    /// and 16-column key tiles, the last of each partial) with head size 32.
    static let shapes = [(2, 7, 12, 3), (1, 9, 40, 2), (3, 1, 8, 2), (2, 5, 16, 1), (1, 19, 64, 2)]

    func testForwardMatchesReference() {
        var rng = RandomGenerator(seed: 31)
        for (B, T, C, NH) in Self.shapes {
            let qkv = randomFloats(B * T * 3 * C, scale: 1.5, &rng)
            let out = FloatBuffer(randomFloats(B * T * C, &rng))  // garbage: forward overwrites
            let att = FloatBuffer(randomFloats(B * NH * T * T, &rng))
            let input = FloatBuffer(qkv)
            withExtendedLifetime(input) {
                Attention.forward(out.pointer, att.pointer, input.pointer, B: B, T: T, C: C, NH: NH, context: testContext)
            }
            let expected = Reference.attention(qkv.doubles, B: B, T: T, C: C, NH: NH)
            let shape = "B=\(B) T=\(T) C=\(C) NH=\(NH)"
            assertClose(out.array, expected.out, rtol: Self.forwardTolerance, "Attention out \(shape)")
            // Probabilities, including the exact zeros above the diagonal.
            assertClose(att.array, expected.att, rtol: Self.forwardTolerance, "Attention probabilities \(shape)")
            for row in 0..<B * NH * T {
                let t = row % T
                XCTAssertTrue((t + 1..<T).allSatisfy { att[row * T + $0] == 0 }, "future position attended, \(shape)")
            }
        }
    }

    func testBackwardMatchesFiniteDifferences() {
        var rng = RandomGenerator(seed: 32)
        for (B, T, C, NH) in Self.shapes {
            let qkv = randomFloats(B * T * 3 * C, scale: 1.5, &rng)
            let dout = randomFloats(B * T * C, &rng)
            let out = FloatBuffer(count: B * T * C), att = FloatBuffer(count: B * NH * T * T)
            let dqkv = FloatBuffer(randomFloats(B * T * 3 * C, &rng))  // garbage: backward overwrites
            let inputs = (FloatBuffer(qkv), FloatBuffer(dout))
            withExtendedLifetime(inputs) {
                Attention.forward(out.pointer, att.pointer, inputs.0.pointer, B: B, T: T, C: C, NH: NH,
                                  context: testContext)
                Attention.backward(dqkv.pointer, inputs.1.pointer, inputs.0.pointer, att.pointer,
                                   B: B, T: T, C: C, NH: NH, context: testContext)
            }
            let expected = weightedSumGradient(at: qkv.doubles, dOut: dout.doubles, indices: Array(0..<qkv.count)) {
                Reference.attention($0, B: B, T: T, C: C, NH: NH).out
            }
            assertClose(dqkv.array, expected, rtol: Self.gradientTolerance,
                        "Attention dqkv (overwritten) B=\(B) T=\(T) C=\(C) NH=\(NH)")
        }
    }
}
