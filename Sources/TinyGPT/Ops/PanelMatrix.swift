// The cached panel product: a weight matrix copied once into panels of 64 output columns, each
// panel contiguous, and multiplied by a few rows at a time (a new position per stream, a
// prompt, a re-encoded window). The KV cache (Sampling/KVCache.swift) keeps one per weight.
//
// One row is memory-bound: it streams the whole matrix once, so it runs as a matrix-vector
// product with eight accumulators in registers. Several rows go through Gemm's register-tiled
// micro-kernel (Ops/Matmul.swift), panel by panel, so the weights are read once for every mr
// rows and the FMA units, not memory, set the pace. Both sum each output over k in order from
// zero in one chain of fused multiply-adds and then add the bias, so a row's numbers are the
// same whichever path and however many rows come with it.

/// Where one weight matrix (OC, C) sits in the cache's panel storage: panel j holds output
/// columns 64j ..< 64j+64 as a (C, 64) row-major block, zero past OC.
struct PanelMatrix {
    static let width = 64
    let offset: Int
    let inputs: Int    // C
    let outputs: Int   // OC

    var panelCount: Int { (outputs + Self.width - 1) / Self.width }
    var floatCount: Int { panelCount * inputs * Self.width }

    /// Thread `thread`'s fixed share of the panels: [count·t/P, count·(t+1)/P).
    func share(_ thread: Int, of threads: Int) -> Range<Int> {
        panelCount * thread / threads..<panelCount * (thread + 1) / threads
    }

    /// The output columns of a range of panels.
    func columns(_ panels: Range<Int>) -> Range<Int> {
        min(outputs, panels.lowerBound * Self.width)..<min(outputs, panels.upperBound * Self.width)
    }

    /// Copies the weight (OC, C), row-major, into this matrix's panels.
    func fill(_ storage: UnsafeMutablePointer<Float>, from weight: UnsafePointer<Float>) {
        let base = storage + offset
        base.update(repeating: 0, count: floatCount)
        for o in 0..<outputs {
            let panel = base + (o / Self.width) * inputs * Self.width, column = o % Self.width
            for k in 0..<inputs { panel[k * Self.width + column] = weight[o * inputs + k] }
        }
    }

    /// out (rows, OC) = inp (rows, C) · Wᵀ + bias, over the given panels' columns only: each
    /// output is the sum over k in order of inp[k]·W[o, k] (fused multiply-adds), then the bias.
    /// One row: a matrix-vector product, each panel read once. More rows: for each panel (it
    /// stays in cache), whole tiles of Gemm.mr rows × Gemm.nr columns on the GEMM micro-kernel,
    /// then the rows left in pairs and a single row on the matrix-vector kernels (same sums,
    /// same order).
    @inline(__always)
    func multiply(_ storage: UnsafePointer<Float>, _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                  rows: Int, bias: UnsafePointer<Float>?, panels: Range<Int>) {
        let mr = NativeKernel.mr, nr = NativeKernel.nr
        for j in panels {
            let panel = storage + offset + j * inputs * Self.width
            var m = 0
            while rows - m >= mr {
                let tileRows = mr
                let a = Gemm.Tile(input + m * inputs, rowStride: inputs, kStride: 1, rows: tileRows)
                var column = j * Self.width
                while column < min(outputs, (j + 1) * Self.width) {
                    NativeKernel.run(kLen: inputs, a: a, rows: tileRows, panel: panel + (column - j * Self.width),
                                     panelStride: Self.width, c: output + m * outputs + column, ldc: outputs,
                                     cols: min(nr, outputs - column), add: false, bias: bias.map { $0 + column })
                    column += nr
                }
                m += tileRows
            }
            // Fewer than mr rows left: pairs share each weight load. (A partial micro-tile still
            // computes all mr rows, and in L1 or L2 a pair already keeps the FMA units as busy.)
            while rows - m >= 2 {
                multiplyTwo(storage, input + m * inputs, into: output + m * outputs, bias: bias, panel: j)
                m += 2
            }
            if m < rows { multiply(storage, input + m * inputs, into: output + m * outputs, bias: bias, panel: j) }
        }
    }

    /// Two consecutive rows, one panel: each weight vector loaded once feeds both rows. Each
    /// output's sum is the one-row kernel's (same terms, same order), so the bits are the same.
    @inline(__always)
    private func multiplyTwo(_ storage: UnsafePointer<Float>, _ inp: UnsafePointer<Float>,
                             into out: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, panel j: Int) {
        let w = UnsafeRawPointer(storage + offset + j * inputs * Self.width), inp1 = inp + inputs
        var a0 = Vec(), a1 = Vec(), a2 = Vec(), a3 = Vec(), a4 = Vec(), a5 = Vec(), a6 = Vec(), a7 = Vec()
        var b0 = Vec(), b1 = Vec(), b2 = Vec(), b3 = Vec(), b4 = Vec(), b5 = Vec(), b6 = Vec(), b7 = Vec()
        for k in 0..<inputs {
            let x = Vec(repeating: inp[k]), z = Vec(repeating: inp1[k]), row = w + k * Self.width * 4
            let w0 = row.loadUnaligned(fromByteOffset: 0, as: Vec.self), w1 = row.loadUnaligned(fromByteOffset: 32, as: Vec.self)
            let w2 = row.loadUnaligned(fromByteOffset: 64, as: Vec.self), w3 = row.loadUnaligned(fromByteOffset: 96, as: Vec.self)
            let w4 = row.loadUnaligned(fromByteOffset: 128, as: Vec.self), w5 = row.loadUnaligned(fromByteOffset: 160, as: Vec.self)
            let w6 = row.loadUnaligned(fromByteOffset: 192, as: Vec.self), w7 = row.loadUnaligned(fromByteOffset: 224, as: Vec.self)
            a0 = a0.addingProduct(x, w0); b0 = b0.addingProduct(z, w0)
            a1 = a1.addingProduct(x, w1); b1 = b1.addingProduct(z, w1)
            a2 = a2.addingProduct(x, w2); b2 = b2.addingProduct(z, w2)
            a3 = a3.addingProduct(x, w3); b3 = b3.addingProduct(z, w3)
            a4 = a4.addingProduct(x, w4); b4 = b4.addingProduct(z, w4)
            a5 = a5.addingProduct(x, w5); b5 = b5.addingProduct(z, w5)
            a6 = a6.addingProduct(x, w6); b6 = b6.addingProduct(z, w6)
            a7 = a7.addingProduct(x, w7); b7 = b7.addingProduct(z, w7)
        }
        store((a0, a1, a2, a3, a4, a5, a6, a7), into: out, bias: bias, panel: j)
        store((b0, b1, b2, b3, b4, b5, b6, b7), into: out + outputs, bias: bias, panel: j)
    }

    /// A panel's 64 sums into out[64j ..< 64j+64] (clipped to OC), plus the bias if any.
    @inline(__always)
    private func store(_ sums: (Vec, Vec, Vec, Vec, Vec, Vec, Vec, Vec), into out: UnsafeMutablePointer<Float>,
                       bias: UnsafePointer<Float>?, panel j: Int) {
        var sums = sums
        let o0 = j * Self.width, count = min(Self.width, outputs - o0)
        withUnsafeBytes(of: &sums) { raw in
            let v = raw.bindMemory(to: Float.self).baseAddress!
            if let bias {
                for i in 0..<count { out[o0 + i] = v[i] + bias[o0 + i] }
            } else {
                (out + o0).update(from: v, count: count)
            }
        }
    }

    /// One row, one panel: out[64j ..< 64j+64] (clipped to OC).
    @inline(__always)
    private func multiply(_ storage: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                          bias: UnsafePointer<Float>?, panel j: Int) {
        let w = UnsafeRawPointer(storage + offset + j * inputs * Self.width)
        var a0 = Vec(), a1 = Vec(), a2 = Vec(), a3 = Vec(), a4 = Vec(), a5 = Vec(), a6 = Vec(), a7 = Vec()
        for k in 0..<inputs {
            let x = Vec(repeating: inp[k]), row = w + k * Self.width * 4
            a0 = a0.addingProduct(x, row.loadUnaligned(fromByteOffset: 0, as: Vec.self))
            a1 = a1.addingProduct(x, row.loadUnaligned(fromByteOffset: 32, as: Vec.self))
            a2 = a2.addingProduct(x, row.loadUnaligned(fromByteOffset: 64, as: Vec.self))
            a3 = a3.addingProduct(x, row.loadUnaligned(fromByteOffset: 96, as: Vec.self))
            a4 = a4.addingProduct(x, row.loadUnaligned(fromByteOffset: 128, as: Vec.self))
            a5 = a5.addingProduct(x, row.loadUnaligned(fromByteOffset: 160, as: Vec.self))
            a6 = a6.addingProduct(x, row.loadUnaligned(fromByteOffset: 192, as: Vec.self))
            a7 = a7.addingProduct(x, row.loadUnaligned(fromByteOffset: 224, as: Vec.self))
        }
        store((a0, a1, a2, a3, a4, a5, a6, a7), into: out, bias: bias, panel: j)
    }
}
