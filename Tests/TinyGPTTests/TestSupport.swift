// Helpers shared by the tests: the one "close enough" assertion, central finite differences
// of a Double function, and seeded random inputs. Gradient checks follow the usual recipe
// (e.g. CS231n's notes on gradient checking): compare an analytic gradient with
// (f(x + ε) - f(x - ε)) / 2ε, computed in Double so the numerical side is the accurate one.

import XCTest
@testable import TinyGPT

/// The context every op test runs its kernels on: the shared pool (one thread per core),
/// so the tests exercise the parallel paths.
let testContext = KernelContext()

/// One context per thread count for the determinism tests, made once: pools live as long as the process.
enum DeterminismPools {
    static let single = KernelContext(pool: ThreadPool(threadCount: 1))
    static let double = KernelContext(pool: ThreadPool(threadCount: 2))

    static func context(threads: Int) -> KernelContext { threads == 1 ? single : double }
}

// MARK: - Closeness

/// Asserts that `actual` matches `expected` elementwise within `atol + rtol · max|expected|`.
///
/// The bound is scaled by the largest expected magnitude, not by each element: a gradient
/// computed in Float carries rounding errors relative to the sizes of the terms it summed,
/// so an element that happens to be near zero cannot be held to a relative bound of its own.
/// On failure the message gives the largest absolute difference (and where), that difference
/// relative to max|expected|, and the first few mismatching indices with both values.
func assertClose<A: BinaryFloatingPoint>(_ actual: [A], _ expected: [Double], rtol: Double, atol: Double = 0,
                                         _ message: @autoclosure () -> String = "",
                                         file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(message()): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    let scale = expected.reduce(0) { max($0, abs($1)) }
    let bound = atol + rtol * scale
    var maxDiff = 0.0, maxIndex = 0
    var mismatches: [Int] = []
    for i in 0..<actual.count {
        let a = Double(actual[i]), e = expected[i]
        let raw = abs(a - e)
        let diff = raw.isNaN ? .infinity : raw  // a NaN never passes
        if diff > maxDiff { maxDiff = diff; maxIndex = i }
        if diff > bound { mismatches.append(i) }
    }
    if mismatches.isEmpty { return }
    let shown = mismatches.prefix(5).map { "[\($0)] \(Double(actual[$0])) vs \(expected[$0])" }
    let relative = scale > 0 ? maxDiff / scale : .infinity
    XCTFail("\(message()): \(mismatches.count) of \(actual.count) values beyond \(bound) "
            + "(atol \(atol) + rtol \(rtol) × max|expected| \(scale)); max |diff| \(maxDiff) at [\(maxIndex)] "
            + "(\(relative) of max|expected|); first mismatches: \(shown.joined(separator: ", "))",
            file: file, line: line)
}

/// Scalar form of `assertClose`.
func assertClose<A: BinaryFloatingPoint>(_ actual: A, _ expected: Double, rtol: Double, atol: Double = 0,
                                         _ message: @autoclosure () -> String = "",
                                         file: StaticString = #filePath, line: UInt = #line) {
    assertClose([actual], [expected], rtol: rtol, atol: atol, message(), file: file, line: line)
}

// MARK: - Finite differences

/// Central differences (f(x + ε·eᵢ) - f(x - ε·eᵢ)) / 2ε for each index in `indices`.
/// In Double with ε = 1e-5 the truncation error is O(ε²·f''') ≈ 1e-10 and the rounding error
/// ≈ 1e-16·|f| / ε ≈ 1e-11·|f|, both far below what a Float backward pass can resolve.
func centralDifferences(at x: [Double], indices: [Int], eps: Double = 1e-5,
                        _ f: ([Double]) -> Double) -> [Double] {
    var probe = x
    return indices.map { i in
        let saved = probe[i]
        probe[i] = saved + eps
        let plus = f(probe)
        probe[i] = saved - eps
        let minus = f(probe)
        probe[i] = saved
        return (plus - minus) / (2 * eps)
    }
}

/// Every index below `count` when there are at most `limit`; otherwise a deterministic spread
/// of about `limit` indices that always includes the first and last 16 (where edge tiles and
/// vector tails live).
func sampledIndices(_ count: Int, limit: Int) -> [Int] {
    if count <= limit { return Array(0..<count) }
    var picked = Set(0..<min(16, count))
    picked.formUnion(max(0, count - 16)..<count)
    let step = max(1, count / max(1, limit - 32))
    picked.formUnion(stride(from: 0, to: count, by: step))
    return picked.sorted()
}

/// The gradient of `L = Σ f(x) · dOut` by central differences at `indices`: the scalar whose
/// gradient a backward kernel computes when it is handed `dOut`.
func weightedSumGradient(at x: [Double], dOut: [Double], indices: [Int],
                         _ f: ([Double]) -> [Double]) -> [Double] {
    centralDifferences(at: x, indices: indices) { probe in
        let out = f(probe)
        precondition(out.count == dOut.count, "dOut does not match the output's size")
        var sum = 0.0
        for i in 0..<out.count { sum += out[i] * dOut[i] }
        return sum
    }
}

// MARK: - Random inputs

/// `count` Floats uniform in [-scale, scale).
func randomFloats(_ count: Int, scale: Float = 1, _ rng: inout RandomGenerator) -> [Float] {
    (0..<count).map { _ in (2 * rng.nextFloat() - 1) * scale }
}

/// `count` token ids uniform in 0..<vocab.
func randomTokens(_ count: Int, below vocab: Int, _ rng: inout RandomGenerator) -> [Int32] {
    (0..<count).map { _ in Int32(rng.nextInt(below: vocab)) }
}

extension Array where Element == Float {
    /// The same values widened to Double (exactly).
    var doubles: [Double] { map(Double.init) }
}

extension Array where Element == Double {
    /// Elementwise difference, for checking what an accumulating kernel added.
    func minus(_ other: [Double]) -> [Double] {
        precondition(count == other.count)
        return (0..<count).map { self[$0] - other[$0] }
    }
}

extension FloatBuffer {
    /// The buffer's values widened to Double.
    var doubles: [Double] { array.doubles }
}

/// Picks the elements at `indices`.
func gather<E>(_ values: [E], _ indices: [Int]) -> [E] { indices.map { values[$0] } }

/// Row-major (rows, cols) to row-major (cols, rows).
func transposeFloats(_ x: [Float], rows: Int, cols: Int) -> [Float] {
    var y = [Float](repeating: 0, count: rows * cols)
    for r in 0..<rows { for c in 0..<cols { y[c * rows + r] = x[r * cols + c] } }
    return y
}
