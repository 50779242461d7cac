// Tests for Ops/Embedding.swift: token + position embedding against the Double reference,
// and its backward (accumulating into dwte and dwpe, with tokens repeated within and across
// sequences) against central finite differences of L = Σ out · dOut.

import XCTest
@testable import TinyGPT

final class EmbeddingTests: XCTestCase {
    // Forward is one Float addition per element (correctly rounded): 1e-7 of max|out| suffices.
    static let forwardTolerance = 1e-7
    // Backward sums at most B·T Float values per element: 1e-5 of max|gradient| is a wide margin.
    static let gradientTolerance = 1e-5

    // B 3, T 6 of a context of 8, C 40 (two channel chunks), V 6 with token 5 never used, so
    // every used token repeats and wpe rows 6 and 7 and wte row 5 must receive nothing.
    static let shape = (B: 3, T: 6, context: 8, C: 40, V: 6)

    private func tokens(_ rng: inout RandomGenerator) -> [Int32] {
        let (B, T, _, _, V) = Self.shape
        var tokens = randomTokens(B * T, below: V - 1, &rng)
        tokens[1] = tokens[0]  // a repeat within one sequence at neighbouring positions
        return tokens
    }

    func testForwardMatchesReference() {
        let (B, T, context, C, V) = Self.shape
        var rng = RandomGenerator(seed: 51)
        let tokens = tokens(&rng)
        let wte = randomFloats(V * C, &rng), wpe = randomFloats(context * C, &rng)
        let out = FloatBuffer(randomFloats(B * T * C, &rng))  // garbage: forward overwrites
        let tables = (FloatBuffer(wte), FloatBuffer(wpe))
        withExtendedLifetime(tables) {
            Embedding.forward(out.pointer, tokens, tables.0.pointer, tables.1.pointer, B: B, T: T, C: C,
                              context: testContext)
        }
        assertClose(out.array, Reference.embedding(tokens, wte.doubles, wpe.doubles, B: B, T: T, C: C),
                    rtol: Self.forwardTolerance, "Embedding forward")
    }

    func testBackwardMatchesFiniteDifferencesAndAccumulates() {
        let (B, T, context, C, V) = Self.shape
        var rng = RandomGenerator(seed: 52)
        let tokens = tokens(&rng)
        let wte = randomFloats(V * C, &rng), wpe = randomFloats(context * C, &rng)
        let dout = randomFloats(B * T * C, &rng)
        let dwteStart = randomFloats(V * C, &rng), dwpeStart = randomFloats(context * C, &rng)
        let dwte = FloatBuffer(dwteStart), dwpe = FloatBuffer(dwpeStart)
        let gradient = FloatBuffer(dout)
        withExtendedLifetime(gradient) {
            Embedding.backward(dwte.pointer, dwpe.pointer, gradient.pointer, tokens, B: B, T: T, C: C,
                               context: testContext)
        }
        let e = wte.doubles, p = wpe.doubles, d = dout.doubles
        let expectedDwte = weightedSumGradient(at: e, dOut: d, indices: Array(0..<e.count)) {
            Reference.embedding(tokens, $0, p, B: B, T: T, C: C)
        }
        let expectedDwpe = weightedSumGradient(at: p, dOut: d, indices: Array(0..<p.count)) {
            Reference.embedding(tokens, e, $0, B: B, T: T, C: C)
        }
        assertClose(dwte.doubles.minus(dwteStart.doubles), expectedDwte, rtol: Self.gradientTolerance,
                    "Embedding dwte (accumulated)")
        assertClose(dwpe.doubles.minus(dwpeStart.doubles), expectedDwpe, rtol: Self.gradientTolerance,
                    "Embedding dwpe (accumulated)")
        // Rows nothing reads keep their values bit for bit.
        XCTAssertEqual(Array(dwte.array[(V - 1) * C..<V * C]), Array(dwteStart[(V - 1) * C..<V * C]), "unused token row changed")
        XCTAssertEqual(Array(dwpe.array[T * C..<context * C]), Array(dwpeStart[T * C..<context * C]), "unused position rows changed")
    }
}
