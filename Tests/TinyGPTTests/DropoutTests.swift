// Tests for Ops/Dropout.swift: the mask it draws (values, rate, reproducibility), the forward
// against the Double reference with that mask, and the backward against central finite
// differences of L = Σ (inp ⊙ mask) · dOut for the fixed mask.

import XCTest
@testable import TinyGPT

final class DropoutTests: XCTestCase {
    // Forward and backward are one Float product per element (correctly rounded).
    static let tolerance = 1e-7

    func testMaskValuesRateAndSeed() {
        let count = 100_000, p: Float = 0.3
        let inp = FloatBuffer(count: count)
        func mask(seed: UInt64) -> [Float] {
            let out = FloatBuffer(count: count), mask = FloatBuffer(count: count)
            var rng = RandomGenerator(seed: seed)
            withExtendedLifetime(inp) {
                Dropout.forward(out.pointer, mask.pointer, inp.pointer, count: count, p: p, rng: &rng)
            }
            return mask.array
        }
        let first = mask(seed: 7)
        let keep = 1 / (1 - p)
        XCTAssertTrue(first.allSatisfy { $0 == 0 || $0 == keep }, "mask values must be 0 or 1/(1-p)")
        // The dropped fraction has standard deviation √(p(1-p)/n) ≈ 0.0014; 0.01 is 7 of those.
        let dropped = Double(first.filter { $0 == 0 }.count) / Double(count)
        XCTAssertEqual(dropped, Double(p), accuracy: 0.01, "dropped fraction")
        XCTAssertEqual(mask(seed: 7), first, "the same seed must give the same mask")
        XCTAssertNotEqual(mask(seed: 8), first, "another seed should give another mask")
    }

    func testZeroRateKeepsEverything() {
        var rng = RandomGenerator(seed: 60)
        let x = randomFloats(100, &rng)
        let out = FloatBuffer(count: 100), mask = FloatBuffer(count: 100), inp = FloatBuffer(x)
        withExtendedLifetime(inp) {
            Dropout.forward(out.pointer, mask.pointer, inp.pointer, count: 100, p: 0, rng: &rng)
        }
        XCTAssertEqual(out.array, x)
        XCTAssertTrue(mask.array.allSatisfy { $0 == 1 })
    }

    func testForwardAndBackwardWithFixedMask() {
        var rng = RandomGenerator(seed: 61)
        let count = 257, p: Float = 0.4
        let x = randomFloats(count, &rng), dout = randomFloats(count, &rng)
        let out = FloatBuffer(count: count), mask = FloatBuffer(count: count), inp = FloatBuffer(x)
        var maskRng = RandomGenerator(seed: 62)
        withExtendedLifetime(inp) {
            Dropout.forward(out.pointer, mask.pointer, inp.pointer, count: count, p: p, rng: &maskRng)
        }
        let m = mask.doubles
        XCTAssertTrue(m.contains(0) && m.contains { $0 != 0 }, "a 257-element mask at p 0.4 should drop some and keep some")
        assertClose(out.array, Reference.multiply(x.doubles, m), rtol: Self.tolerance, "Dropout forward")

        // In place (out aliasing inp), as the model calls it, with the same draws.
        let inPlace = FloatBuffer(x), inPlaceMask = FloatBuffer(count: count)
        maskRng = RandomGenerator(seed: 62)
        Dropout.forward(inPlace.pointer, inPlaceMask.pointer, inPlace.pointer, count: count, p: p, rng: &maskRng)
        XCTAssertEqual(inPlace.array, out.array, "in-place forward differs")
        XCTAssertEqual(inPlaceMask.array, mask.array, "in-place mask differs")

        let dinp = FloatBuffer(randomFloats(count, &rng))  // garbage: backward overwrites
        let gradient = FloatBuffer(dout)
        withExtendedLifetime(gradient) {
            Dropout.backward(dinp.pointer, mask.pointer, gradient.pointer, count: count)
        }
        let expected = weightedSumGradient(at: x.doubles, dOut: dout.doubles, indices: Array(0..<count)) {
            Reference.multiply($0, m)
        }
        // The finite difference of a linear function is exact up to Double rounding (~1e-11).
        assertClose(dinp.array, expected, rtol: 1e-6, "Dropout backward (overwritten)")
        Dropout.backward(gradient.pointer, mask.pointer, gradient.pointer, count: count)
        XCTAssertEqual(gradient.array, dinp.array, "in-place backward differs")
    }
}
