// Tests for the small pieces the ops share: FastMath's exp and vector helpers against
// Foundation in Double, and the residual connection (Ops/Residual.swift).

import Foundation
import XCTest
@testable import TinyGPT

final class FastMathTests: XCTestCase {
    /// Evenly spaced inputs over [lower, upper], plus `extra`.
    private func grid(_ lower: Float, _ upper: Float, count: Int, extra: [Float] = []) -> [Float] {
        (0..<count).map { lower + (upper - lower) * Float($0) / Float(count - 1) } + extra
    }

    /// Runs a vector function over `x`, eight lanes at a time (zero-padded at the end).
    private func apply(_ f: (Vec) -> Vec, _ x: [Float]) -> [Float] {
        var out: [Float] = []
        var i = 0
        while i < x.count {
            var v = Vec()
            for lane in 0..<min(8, x.count - i) { v[lane] = x[i + lane] }
            let y = f(v)
            for lane in 0..<min(8, x.count - i) { out.append(y[lane]) }
            i += 8
        }
        return out
    }

    func testExpRelativeErrorOverTheWholeRange() {
        // Every input whose e^x is a normal Float, densely: the Cephes polynomial with an exact
        // two-part ln2 reduction is good to about one ulp (2⁻²³ ≈ 1.2e-7) relative.
        let x = grid(-87.3, 88.3, count: 200_003, extra: [0, -0.0, 1e-8, -1e-8, 0.346_573_6, -0.346_573_6])
        let y = apply(FastMath.exp, x)
        var worst = 0.0, worstAt: Float = 0
        for i in 0..<x.count {
            let exact = Foundation.exp(Double(x[i]))
            let relative = abs(Double(y[i]) - exact) / exact
            if !(relative <= worst) { worst = relative; worstAt = x[i] }
        }
        XCTAssertLessThan(worst, 2.5e-7, "FastMath.exp worst relative error \(worst) at x = \(worstAt)")
        XCTAssertEqual(FastMath.exp(Float(0)), 1, "e^0 must be exactly 1")
        XCTAssertEqual(FastMath.exp(Float(1.5)), apply(FastMath.exp, [1.5])[0], "scalar and vector paths differ")
    }

    func testExpClampsLargeMagnitudes() {
        let y = apply(FastMath.exp, [100, 1000, .infinity, -100, -1000, -.infinity, 88.3, -87.3])
        for v in y { XCTAssertTrue(v.isFinite && v >= 0, "FastMath.exp gave \(v) for a clamped input") }
        XCTAssertEqual(y[0], y[6], "inputs above the clamp give e^88.3")
        XCTAssertEqual(y[3], y[7], "inputs below the clamp give e^-87.3")
        XCTAssertLessThan(y[3], 1e-37)
        XCTAssertGreaterThan(y[0], 1e38)
    }

    func testVectorHelpersMatchDouble() {
        var rng = RandomGenerator(seed: 71)
        for n in [1, 7, 8, 9, 16, 23] {
            let a = randomFloats(n, &rng), b = randomFloats(n, &rng)
            let pa = FloatBuffer(a), pb = FloatBuffer(b)
            withExtendedLifetime((pa, pb)) {
                let expectedDot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                assertClose(FastMath.dot(pa.pointer, pb.pointer, n), expectedDot, rtol: 1e-6, atol: 1e-6, "dot n=\(n)")
                FastMath.axpy(pa.pointer, 0.5, pb.pointer, n)
                assertClose(pa.array, (0..<n).map { Double(a[$0]) + 0.5 * Double(b[$0]) }, rtol: 1e-6, "axpy n=\(n)")
                XCTAssertEqual(FastMath.max(pb.pointer, n), b.max(), "max n=\(n)")
                let scale: Float = 0.7
                let (m, sum) = Softmax.forward(pb.pointer, n, scale: scale)
                XCTAssertEqual(m, b.max()! * scale, "softmax's max n=\(n)")
                let exps = b.map { Foundation.exp(Double($0) * Double(scale) - Double(m)) }
                let total = exps.reduce(0, +)
                assertClose(pb.array, exps.map { $0 / total }, rtol: 1e-6, "softmax n=\(n)")
                assertClose(sum, total, rtol: 1e-6, "softmax's sum n=\(n)")
            }
        }
    }
}

final class ResidualTests: XCTestCase {
    func testForwardAndAccumulatingBackward() {
        var rng = RandomGenerator(seed: 81)
        let count = 2 * Residual.chunk + 5  // several tasks and a ragged last one
        let a = randomFloats(count, &rng), b = randomFloats(count, &rng), dout = randomFloats(count, &rng)
        let out = FloatBuffer(count: count), inputs = (FloatBuffer(a), FloatBuffer(b), FloatBuffer(dout))
        let daStart = randomFloats(count, &rng), dbStart = randomFloats(count, &rng)
        let da = FloatBuffer(daStart), db = FloatBuffer(dbStart)
        withExtendedLifetime(inputs) {
            Residual.forward(out.pointer, inputs.0.pointer, inputs.1.pointer, count: count, context: testContext)
            Residual.backward(da.pointer, db.pointer, inputs.2.pointer, count: count, context: testContext)
        }
        // One correctly rounded Float addition per element.
        assertClose(out.array, Reference.add(a.doubles, b.doubles), rtol: 1e-7, "Residual forward")

        let at = sampledIndices(count, limit: 200)
        let x = a.doubles, y = b.doubles, d = dout.doubles
        // Accumulated, so compare what was added; the finite difference of a sum is exact to ~1e-11,
        // the Float accumulation rounds once per element (~1e-7 of max|gradient|).
        assertClose(gather(da.doubles.minus(daStart.doubles), at),
                    weightedSumGradient(at: x, dOut: d, indices: at) { Reference.add($0, y) },
                    rtol: 1e-6, "Residual da (accumulated)")
        assertClose(gather(db.doubles.minus(dbStart.doubles), at),
                    weightedSumGradient(at: y, dOut: d, indices: at) { Reference.add(x, $0) },
                    rtol: 1e-6, "Residual db (accumulated)")

        // In place (out aliasing a), as the model may call it.
        let inPlace = FloatBuffer(a)
        withExtendedLifetime(inputs) {
            Residual.forward(inPlace.pointer, inPlace.pointer, inputs.1.pointer, count: count, context: testContext)
        }
        XCTAssertEqual(inPlace.array, out.array, "in-place residual differs")
    }
}
