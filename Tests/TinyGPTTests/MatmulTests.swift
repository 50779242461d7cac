// Tests for Ops/Matmul.swift: the GEMM against a naive Double triple loop for every stride
// pattern the model uses, and the Linear op's forward and backward against the Double
// reference and its central finite differences. Shapes are chosen off the 6×16 and 8×32
// micro-tiles and past the 256-deep K block, so edge tiles and multi-block sums are exercised.
// Both x86 micro-kernels (8×32 SIMD16 for AVX-512, 6×16 SIMD8 for AVX2) run in every build
// and must agree bit for bit; the rest runs on the build's own kernel.

import Foundation
import XCTest
@testable import TinyGPT

final class MatmulTests: XCTestCase {
    // Float GEMM vs Double: each output sums K products; with inputs in [-1, 1] the rounding
    // error grows like √K · 2⁻²⁴ · (typical partial sum), about 1e-6 of max|c| for K = 300.
    // 1e-5 of max|c| leaves a 10× margin; a wrong index or a dropped K block is O(1) off.
    static let gemmTolerance = 1e-5

    // A Float backward against Double finite differences: the Float side sums at most a few
    // hundred products per element (relative error ~1e-6), the Double side is accurate to ~1e-10.
    // 1e-4 of max|gradient| is a 100× margin over rounding, and far below any real mistake.
    static let gradientTolerance = 1e-4

    /// (M, N, K) triples: one full tile, edge tiles everywhere, K past one block, many row tasks,
    /// and few rows with many column panels, where columns are split across tasks too: 19 and
    /// 10 panels over 8 splits, and 5 panels over 4 (one 64-token sequence's logits over a
    /// 65-character vocabulary).
    static let shapes = [(6, 16, 256), (13, 37, 300), (7, 17, 257), (1, 1, 1), (100, 50, 7), (61, 3, 600),
                         (13, 300, 37), (40, 150, 9), (64, 65, 32)]

    enum Pattern: CaseIterable { case abTransposed, ab, aTransposedB }

    // MARK: - GEMM

    func testGemmMatchesNaiveProductForAllStridePatterns() {
        var rng = RandomGenerator(seed: 1)
        for (M, N, K) in Self.shapes {
            for pattern in Pattern.allCases {
                for accumulate in [false, true] {
                    checkGemm(M: M, N: N, K: K, pattern: pattern, accumulate: accumulate, rng: &rng)
                }
            }
        }
    }

    /// Runs one GEMM into a C with row stride N + 3, whose three extra columns must stay untouched.
    private func checkGemm(M: Int, N: Int, K: Int, pattern: Pattern, accumulate: Bool, rng: inout RandomGenerator) {
        let a = randomFloats(M * K, &rng), b = randomFloats(K * N, &rng)  // logical (M, K), (K, N)
        let ldc = N + 3
        let initial = randomFloats(M * ldc, &rng)
        // Store A and B the way each pattern reads them.
        let aStored = pattern == .aTransposedB ? transposeFloats(a, rows: M, cols: K) : a
        let bStored = pattern == .abTransposed ? transposeFloats(b, rows: K, cols: N) : b
        let aBuffer = FloatBuffer(aStored), bBuffer = FloatBuffer(bStored), c = FloatBuffer(initial)
        withExtendedLifetime((aBuffer, bBuffer)) {
            let aView: MatrixView = pattern == .aTransposedB
                ? .transposed(aBuffer.pointer, rows: M) : .rowMajor(aBuffer.pointer, cols: K)
            let bView: MatrixView = pattern == .abTransposed
                ? .transposed(bBuffer.pointer, rows: K) : .rowMajor(bBuffer.pointer, cols: N)
            Gemm.multiply(M: M, N: N, K: K, a: aView, b: bView, c: c.pointer, ldc: ldc,
                          accumulate: accumulate, context: testContext)
        }

        let product = Reference.matmul(a.doubles, b.doubles, M: M, N: N, K: K)
        var expected = initial.doubles
        for i in 0..<M {
            for j in 0..<N { expected[i * ldc + j] = (accumulate ? expected[i * ldc + j] : 0) + product[i * N + j] }
        }
        assertClose(c.array, expected, rtol: Self.gemmTolerance,
                    "GEMM \(pattern) M=\(M) N=\(N) K=\(K) accumulate=\(accumulate)")
        for i in 0..<M {
            for j in N..<ldc where c[i * ldc + j] != initial[i * ldc + j] {
                XCTFail("GEMM \(pattern) M=\(M) N=\(N) K=\(K) wrote outside its columns at (\(i), \(j))")
                return
            }
        }
    }

    /// Both micro-kernels against the naive product, and against each other to the bit: each
    /// sums every element over k in the same order, so the AVX-512 and AVX2 builds train alike.
    func testBothKernelsMatchNaiveProductAndEachOtherBitForBit() {
        var rng = RandomGenerator(seed: 6)
        let shapes = Self.shapes + [(8, 32, 256), (17, 33, 257), (9, 70, 520), (24, 96, 40)]
        for (M, N, K) in shapes {
            for pattern in Pattern.allCases {
                for mode in 0..<3 {  // store, store with a bias, accumulate
                    let a = randomFloats(M * K, &rng), b = randomFloats(K * N, &rng), bias = randomFloats(N, &rng)
                    let ldc = N + 3
                    let initial = randomFloats(M * ldc, &rng)
                    let aStored = pattern == .aTransposedB ? transposeFloats(a, rows: M, cols: K) : a
                    let bStored = pattern == .abTransposed ? transposeFloats(b, rows: K, cols: N) : b
                    let aBuffer = FloatBuffer(aStored), bBuffer = FloatBuffer(bStored), biasBuffer = FloatBuffer(bias)
                    let narrow = FloatBuffer(initial), wide = FloatBuffer(initial)
                    withExtendedLifetime((aBuffer, bBuffer, biasBuffer)) {
                        let aView: MatrixView = pattern == .aTransposedB
                            ? .transposed(aBuffer.pointer, rows: M) : .rowMajor(aBuffer.pointer, cols: K)
                        let bView: MatrixView = pattern == .abTransposed
                            ? .transposed(bBuffer.pointer, rows: K) : .rowMajor(bBuffer.pointer, cols: N)
                        let biasPointer = mode == 1 ? UnsafePointer(biasBuffer.pointer) : nil
                        Gemm.multiply(using: Gemm.Narrow.self, M: M, N: N, K: K, a: aView, b: bView, c: narrow.pointer,
                                      ldc: ldc, accumulate: mode == 2, bias: biasPointer, context: testContext)
                        Gemm.multiply(using: Gemm.Wide.self, M: M, N: N, K: K, a: aView, b: bView, c: wide.pointer,
                                      ldc: ldc, accumulate: mode == 2, bias: biasPointer, context: testContext)
                    }
                    let product = Reference.matmul(a.doubles, b.doubles, M: M, N: N, K: K)
                    var expected = initial.doubles
                    for i in 0..<M {
                        for j in 0..<N {
                            let start = mode == 2 ? expected[i * ldc + j] : mode == 1 ? Double(bias[j]) : 0
                            expected[i * ldc + j] = start + product[i * N + j]
                        }
                    }
                    let label = "\(pattern) M=\(M) N=\(N) K=\(K) mode=\(mode)"
                    assertClose(wide.array, expected, rtol: Self.gemmTolerance, "8×32 kernel \(label)")
                    assertClose(narrow.array, expected, rtol: Self.gemmTolerance, "6×16 kernel \(label)")
                    let differing = (0..<M * ldc).filter { wide[$0].bitPattern != narrow[$0].bitPattern }
                    XCTAssert(differing.isEmpty, "the kernels differ in \(differing.count) bits, first at \(differing.first ?? 0): \(label)")
                }
            }
        }
    }

    func testGemmWithEmptyDepthClearsOrKeeps() {
        let a = FloatBuffer(count: 1), b = FloatBuffer(count: 1)
        let c = FloatBuffer([1, 2, 3, 4, 5, 6])
        withExtendedLifetime((a, b)) {
            Gemm.multiply(M: 2, N: 3, K: 0, a: .rowMajor(a.pointer, cols: 0), b: .rowMajor(b.pointer, cols: 3),
                          c: c.pointer, ldc: 3, accumulate: true, context: testContext)
            XCTAssertEqual(c.array, [1, 2, 3, 4, 5, 6], "accumulating an empty product must leave C alone")
            Gemm.multiply(M: 2, N: 3, K: 0, a: .rowMajor(a.pointer, cols: 0), b: .rowMajor(b.pointer, cols: 3),
                          c: c.pointer, ldc: 3, accumulate: false, context: testContext)
        }
        XCTAssertEqual(c.array, [0, 0, 0, 0, 0, 0], "an empty product is zero")
    }

    func testGemmIsIndependentOfThreadCount() {
        var rng = RandomGenerator(seed: 2)
        let (M, N, K) = (150, 70, 300)
        let a = FloatBuffer(randomFloats(M * K, &rng)), b = FloatBuffer(randomFloats(K * N, &rng))
        var results: [[UInt32]] = []
        for threads in [1, 2] {
            let c = FloatBuffer(count: M * N)
            withExtendedLifetime((a, b)) {
                Gemm.multiply(M: M, N: N, K: K, a: .rowMajor(a.pointer, cols: K), b: .rowMajor(b.pointer, cols: N),
                              c: c.pointer, ldc: N, accumulate: false, context: DeterminismPools.context(threads: threads))
            }
            results.append(c.array.map(\.bitPattern))
        }
        XCTAssertEqual(results[0], results[1], "GEMM results differ between 1 and 2 threads")
    }

    /// The epilogue sees every element of c exactly once, each block already final.
    func testEpilogueCoversEveryBlockOnceWithFinalValues() {
        var rng = RandomGenerator(seed: 3)
        for (M, N, K) in [(150, 70, 300), (5, 300, 9), (1, 1, 1), (4, 3, 0)] {
            let a = FloatBuffer(randomFloats(M * K, &rng)), b = FloatBuffer(randomFloats(K * N, &rng))
            let bias = FloatBuffer(randomFloats(N, &rng))
            let c = FloatBuffer(count: M * N), seen = FloatBuffer(count: M * N), visits = FloatBuffer(count: M * N)
            let lock = NSLock()
            withExtendedLifetime((a, b, bias)) {
                Gemm.multiply(M: M, N: N, K: K, a: .rowMajor(a.pointer, cols: K), b: .rowMajor(b.pointer, cols: N),
                              c: c.pointer, ldc: N, accumulate: false, bias: bias.pointer,
                              context: DeterminismPools.context(threads: 2)) { rows, columns in
                    lock.lock()
                    defer { lock.unlock() }
                    for i in rows { for j in columns { seen[i * N + j] = c[i * N + j]; visits[i * N + j] += 1 } }
                }
            }
            XCTAssertEqual(visits.array, [Float](repeating: 1, count: M * N), "epilogue coverage, \(M)×\(N)×\(K)")
            XCTAssertEqual(seen.array, c.array, "epilogue saw unfinished values, \(M)×\(N)×\(K)")
        }
    }

    // MARK: - Linear

    /// (N, C, OC). The backward's three products have K = C (forward), OC (dinp) and N (dweight):
    /// the first shape takes the forward past one K block, the second takes dweight past it; the
    /// last sums dbias in two whole 64-column chunks and a ragged one.
    static let linearShapes = [(13, 300, 37), (270, 19, 37), (5, 8, 24), (9, 10, 150)]

    func testLinearForwardMatchesReference() {
        var rng = RandomGenerator(seed: 3)
        for (N, C, OC) in Self.linearShapes {
            let inp = randomFloats(N * C, &rng), weight = randomFloats(OC * C, &rng), bias = randomFloats(OC, &rng)
            let inpBuffer = FloatBuffer(inp), weightBuffer = FloatBuffer(weight), biasBuffer = FloatBuffer(bias)
            for withBias in [true, false] {
                let out = FloatBuffer(randomFloats(N * OC, &rng))  // garbage: forward overwrites
                withExtendedLifetime((inpBuffer, weightBuffer, biasBuffer)) {
                    Linear.forward(out.pointer, inpBuffer.pointer, weightBuffer.pointer,
                                   withBias ? UnsafePointer(biasBuffer.pointer) : nil, N: N, C: C, OC: OC,
                                   context: testContext)
                }
                let expected = Reference.linear(inp.doubles, weight.doubles, withBias ? bias.doubles : nil,
                                                N: N, C: C, OC: OC)
                assertClose(out.array, expected, rtol: Self.gemmTolerance,
                            "Linear forward N=\(N) C=\(C) OC=\(OC) bias=\(withBias)")
            }
        }
    }

    func testLinearBackwardMatchesFiniteDifferences() {
        var rng = RandomGenerator(seed: 4)
        for (N, C, OC) in Self.linearShapes {
            let inp = randomFloats(N * C, &rng), weight = randomFloats(OC * C, &rng), bias = randomFloats(OC, &rng)
            let dout = randomFloats(N * OC, &rng)
            let dinp = FloatBuffer(randomFloats(N * C, &rng))  // overwritten
            let dweightStart = randomFloats(OC * C, &rng), dbiasStart = randomFloats(OC, &rng)  // accumulated into
            let dweight = FloatBuffer(dweightStart), dbias = FloatBuffer(dbiasStart)
            let inputs = (FloatBuffer(dout), FloatBuffer(inp), FloatBuffer(weight))
            withExtendedLifetime(inputs) {
                Linear.backward(dinp.pointer, dweight.pointer, dbias.pointer, inputs.0.pointer, inputs.1.pointer,
                                inputs.2.pointer, N: N, C: C, OC: OC, context: testContext)
            }

            let x = inp.doubles, w = weight.doubles, bb = bias.doubles, d = dout.doubles
            let shape = "N=\(N) C=\(C) OC=\(OC)"
            var at = sampledIndices(x.count, limit: 300)
            assertClose(gather(dinp.array, at),
                        weightedSumGradient(at: x, dOut: d, indices: at) { Reference.linear($0, w, bb, N: N, C: C, OC: OC) },
                        rtol: Self.gradientTolerance, "Linear dinp (overwritten) \(shape)")
            at = sampledIndices(w.count, limit: 300)
            assertClose(gather(dweight.doubles.minus(dweightStart.doubles), at),
                        weightedSumGradient(at: w, dOut: d, indices: at) { Reference.linear(x, $0, bb, N: N, C: C, OC: OC) },
                        rtol: Self.gradientTolerance, "Linear dweight (accumulated) \(shape)")
            at = Array(0..<OC)
            assertClose(dbias.doubles.minus(dbiasStart.doubles),
                        weightedSumGradient(at: bb, dOut: d, indices: at) { Reference.linear(x, w, $0, N: N, C: C, OC: OC) },
                        rtol: Self.gradientTolerance, "Linear dbias (accumulated) \(shape)")
        }
    }

    func testLinearBackwardWithoutInputOrBiasGradient() {
        // The tied LM head has no bias, and a caller may not need dinp.
        var rng = RandomGenerator(seed: 5)
        let (N, C, OC) = (9, 20, 11)
        let inp = randomFloats(N * C, &rng), weight = randomFloats(OC * C, &rng), dout = randomFloats(N * OC, &rng)
        let dweight = FloatBuffer(count: OC * C)
        let inputs = (FloatBuffer(dout), FloatBuffer(inp), FloatBuffer(weight))
        withExtendedLifetime(inputs) {
            Linear.backward(nil, dweight.pointer, nil, inputs.0.pointer, inputs.1.pointer, inputs.2.pointer,
                            N: N, C: C, OC: OC, context: testContext)
        }
        let expected = weightedSumGradient(at: weight.doubles, dOut: dout.doubles, indices: Array(0..<OC * C)) {
            Reference.linear(inp.doubles, $0, nil, N: N, C: C, OC: OC)
        }
        assertClose(dweight.array, expected, rtol: Self.gradientTolerance, "Linear dweight without dinp and dbias")
    }

    // MARK: - Panel product (Ops/PanelMatrix.swift)

    /// The cached panel product gives every row the bits it gets alone, whatever the number of
    /// rows (micro-tiles, pairs, single rows) and the panel range; and is the product to rounding.
    func testPanelProductRowsAreBitIdenticalToOneRowAlone() {
        var rng = RandomGenerator(seed: 4)
        for (C, OC) in [(37, 65), (128, 384), (300, 100)] {
            let matrix = PanelMatrix(offset: 5, inputs: C, outputs: OC)
            let storage = FloatBuffer(count: 5 + matrix.floatCount)
            let weight = randomFloats(OC * C, &rng), bias = randomFloats(OC, &rng)
            let rows = 13, input = randomFloats(rows * C, &rng)
            weight.withUnsafeBufferPointer { matrix.fill(storage.pointer, from: $0.baseAddress!) }
            func product(_ n: Int, from row: Int, panels: Range<Int>, bias b: [Float]?) -> [Float] {
                var out = [Float](repeating: .nan, count: n * OC)
                input.withUnsafeBufferPointer { inp in
                    out.withUnsafeMutableBufferPointer { o in
                        if let b {
                            b.withUnsafeBufferPointer {
                                matrix.multiply(storage.pointer, inp.baseAddress! + row * C, into: o.baseAddress!, rows: n,
                                                bias: $0.baseAddress!, panels: panels)
                            }
                        } else {
                            matrix.multiply(storage.pointer, inp.baseAddress! + row * C, into: o.baseAddress!, rows: n,
                                            bias: nil, panels: panels)
                        }
                    }
                }
                return out
            }
            let all = 0..<matrix.panelCount
            for b in [bias, nil] {
                let alone = (0..<rows).flatMap { product(1, from: $0, panels: all, bias: b) }
                for n in 1...rows {
                    XCTAssertEqual(product(n, from: 0, panels: all, bias: b), Array(alone.prefix(n * OC)), "C \(C), OC \(OC), \(n) rows")
                }
                // Thread shares: each writes only its own columns, and the same bits there.
                for threads in [2, 3] {
                    var joined = [Float](repeating: .nan, count: rows * OC)
                    for t in 0..<threads {
                        let part = product(rows, from: 0, panels: matrix.share(t, of: threads), bias: b)
                        for r in 0..<rows {
                            for o in matrix.columns(matrix.share(t, of: threads)) { joined[r * OC + o] = part[r * OC + o] }
                        }
                    }
                    XCTAssertEqual(joined, alone, "C \(C), OC \(OC), \(threads) shares")
                }
                for r in 0..<rows {
                    for o in 0..<OC {
                        var sum = Double(b?[o] ?? 0)
                        for k in 0..<C { sum += Double(input[r * C + k]) * Double(weight[o * C + k]) }
                        XCTAssertEqual(Double(alone[r * OC + o]), sum, accuracy: Self.gemmTolerance * Double(C).squareRoot() * 4)
                    }
                }
            }
        }
    }
}
