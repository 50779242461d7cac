// Tests for Ops/GELU.swift, both forms: forward against the Double reference (Foundation's
// tanh and erf), backward against central finite differences of L = Σ gelu(x) · dOut.

import XCTest
@testable import TinyGPT

final class GELUTests: XCTestCase {
    // Forward: the tanh form's gate 1/(1 + e^(-2u)) is good to ~1e-7 relative (FastMath.exp and
    // a division), so the output is off by ~|x|·1e-7; erff is within an ulp or two. 1e-5 of
    // max|out| is a wide margin over both.
    static let forwardTolerance = 1e-5
    // Backward: one Float derivative per element, measured at ~1.3e-6 of max|gradient| (the
    // tanh form, near its knee); the Double finite difference is good to ~1e-10. 1e-5 leaves an
    // 8× margin and still notices a constant off in its fourth digit.
    static let gradientTolerance = 1e-5

    /// A few exact points and saturated values, then inputs across the interesting range.
    /// 4096 + 39 elements: two parallel chunks, the last with four SIMD vectors and a scalar
    /// tail of seven ordinary values (so the scalar formula is checked where it matters).
    private func inputs(_ rng: inout RandomGenerator) -> [Float] {
        [0, -0.0, 1e-4, -1e-4, 12, -12, 30, -30] + randomFloats(GELU.chunk + 39 - 8, scale: 4, &rng)
    }

    func testForwardMatchesReference() {
        var rng = RandomGenerator(seed: 21)
        let x = inputs(&rng)
        for form in GELUForm.allCases {
            let out = FloatBuffer(randomFloats(x.count, &rng))  // garbage: forward overwrites
            let inp = FloatBuffer(x)
            withExtendedLifetime(inp) {
                GELU.forward(out.pointer, inp.pointer, count: x.count, form: form, context: testContext)
            }
            assertClose(out.array, Reference.gelu(x.doubles, form: form), rtol: Self.forwardTolerance,
                        "GELU \(form.name) forward")
        }
    }

    func testBackwardMatchesFiniteDifferences() {
        var rng = RandomGenerator(seed: 22)
        let x = inputs(&rng)
        let dout = randomFloats(x.count, &rng)
        for form in GELUForm.allCases {
            let dinp = FloatBuffer(randomFloats(x.count, &rng))  // garbage: backward overwrites
            let buffers = (FloatBuffer(x), FloatBuffer(dout))
            withExtendedLifetime(buffers) {
                GELU.backward(dinp.pointer, buffers.0.pointer, buffers.1.pointer, count: x.count, form: form,
                              context: testContext)
            }
            let at = sampledIndices(x.count, limit: 600)
            let expected = weightedSumGradient(at: x.doubles, dOut: dout.doubles, indices: at) {
                Reference.gelu($0, form: form)
            }
            assertClose(gather(dinp.array, at), expected, rtol: Self.gradientTolerance, "GELU \(form.name) backward")
        }
    }

    /// The fused pass the model's backward runs (dinp and the recomputed output, on any
    /// sub-range) gives bit for bit what the forward and backward passes give on their own.
    func testFusedBackwardMatchesSeparatePassesExactly() {
        var rng = RandomGenerator(seed: 23)
        let x = inputs(&rng)
        let dout = randomFloats(x.count, &rng)
        for form in GELUForm.allCases {
            let out = FloatBuffer(count: x.count), dinp = FloatBuffer(count: x.count)
            let fusedOut = FloatBuffer(count: x.count), fusedDinp = FloatBuffer(dout)  // in place
            let buffers = (FloatBuffer(x), FloatBuffer(dout))
            withExtendedLifetime(buffers) {
                GELU.forward(out.pointer, buffers.0.pointer, count: x.count, form: form, context: testContext)
                GELU.backward(dinp.pointer, buffers.0.pointer, buffers.1.pointer, count: x.count, form: form,
                              context: testContext)
                // Uneven pieces, so vector bodies and scalar tails fall at other places.
                for range in [0..<5, 5..<x.count / 2, x.count / 2..<x.count] {
                    GELU.backward(fusedDinp.pointer, buffers.0.pointer, fusedDinp.pointer, range: range, form: form,
                                  recomputed: fusedOut.pointer)
                }
            }
            XCTAssertEqual(fusedOut.array.map(\.bitPattern), out.array.map(\.bitPattern), "GELU \(form.name) output")
            XCTAssertEqual(fusedDinp.array.map(\.bitPattern), dinp.array.map(\.bitPattern), "GELU \(form.name) dinp")
        }
    }
}
