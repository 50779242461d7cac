// Matrix multiply: the GEMM kernel every linear layer (and the tied LM head) runs on,
// and the Linear op's forward and backward built on it.
//
// Legend: N rows (= B·T), C input features, OC output features. Weights are stored
// (OC, C) like PyTorch's nn.Linear, so forward is out = inp · Wᵀ + b.
//
// Kernel shape (Docs/MEASUREMENTS.md): B is packed into zero-padded K-major panels nr columns
// wide (a B seen transposed, as the forward's weights are, through 8×8 register transposes).
// A row-major A is read in place, mr rows at a time; a transposed A is packed into mr-row
// K-major micro-panels. So A·B, A·Bᵀ and Aᵀ·B share one micro-kernel that keeps its tile of
// accumulators in registers with K innermost; attention calls it directly. The build picks
// the kernel for its CPU: 8×32 with SIMD16 on AVX-512, 6×16 with SIMD8 elsewhere (AVX2, NEON).
// Every output element is summed over k in the same order whatever the partition and the
// kernel, so results depend neither on the number of threads nor on the kernel.

/// A read-only matrix view: element (r, c) is at `base[r * rowStride + c * colStride]`.
public struct MatrixView {
    public var base: UnsafePointer<Float>
    public var rowStride: Int
    public var colStride: Int

    public init(_ base: UnsafePointer<Float>, rowStride: Int, colStride: Int) {
        self.base = base
        self.rowStride = rowStride
        self.colStride = colStride
    }

    /// A row-major (rows, cols) matrix.
    public static func rowMajor(_ base: UnsafePointer<Float>, cols: Int) -> MatrixView {
        MatrixView(base, rowStride: cols, colStride: 1)
    }

    /// The transpose of a row-major (cols, rows) matrix, seen as (rows, cols).
    public static func transposed(_ base: UnsafePointer<Float>, rows: Int) -> MatrixView {
        MatrixView(base, rowStride: 1, colStride: rows)
    }
}

/// General matrix multiply on strided views.
public enum Gemm {
    static let kc = 256      // depth of one K block (a 16 KB or 32 KB panel slice stays in L1)
    static let rowsPerTask = 48  // a multiple of every micro-kernel's rows

    /// Rows and columns of the native micro-tile, which attention steps by as well.
    static var mr: Int { NativeKernel.mr }
    static var nr: Int { NativeKernel.nr }

    /// Work run on a block of c (rows, columns) as soon as a task has finished it, while it is
    /// still in cache. Blocks are disjoint and cover c; they run on any thread, in any order.
    public typealias Epilogue = (_ rows: Range<Int>, _ columns: Range<Int>) -> Void

    /// c (M, N), row-major with row stride `ldc`: c = a·b (+ bias (N) on every row, if given),
    /// or c += a·b when `accumulate` (then `bias` must be nil); then `epilogue` on each block.
    public static func multiply(M: Int, N: Int, K: Int, a: MatrixView, b: MatrixView,
                                c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                                bias: UnsafePointer<Float>? = nil, context: KernelContext,
                                epilogue: Epilogue? = nil) {
        multiply(using: NativeKernel.self, M: M, N: N, K: K, a: a, b: b, c: c, ldc: ldc, accumulate: accumulate,
                 bias: bias, context: context, epilogue: epilogue)
    }

    /// The same product on a chosen micro-kernel (the tests run both x86 kernels in one build).
    /// Every kernel sums each element over k in the same order, so all give the same bits.
    static func multiply<Kernel: GemmMicroKernel>(using _: Kernel.Type, M: Int, N: Int, K: Int, a: MatrixView,
                                                  b: MatrixView, c: UnsafeMutablePointer<Float>, ldc: Int,
                                                  accumulate: Bool, bias: UnsafePointer<Float>? = nil,
                                                  context: KernelContext, epilogue: Epilogue? = nil) {
        precondition(bias == nil || !accumulate, "a bias initialises c; it cannot be accumulated")
        if M == 0 || N == 0 { return }
        if K == 0 {
            if !accumulate {
                for i in 0..<M {
                    if let bias { (c + i * ldc).update(from: bias, count: N) } else { (c + i * ldc).update(repeating: 0, count: N) }
                }
            }
            epilogue?(0..<M, 0..<N)
            return
        }
        // (The closures below name Kernel.mr and Kernel.nr again: a captured value is not a
        // constant to the compiler, and copies of a run-time width become memmove calls.)
        let mr = Kernel.mr, nr = Kernel.nr
        let panels = (N + nr - 1) / nr
        let packed = context.packing.floats(panels * K * nr)
        // Pack b: panel p holds b[k, p·nr ..< p·nr+nr] for every k, zero-padded past N.
        context.pool.run(panels) { p in
            let nr = Kernel.nr
            let dst = packed + p * K * nr
            let n0 = p * nr
            let width = min(nr, N - n0)
            if b.colStride == 1 && width == nr {
                for k in 0..<K {
                    (dst + k * nr).update(from: b.base + k * b.rowStride + n0, count: nr)
                }
            } else if b.rowStride == 1 && width == nr {
                // bᵀ is row-major (a weight matrix seen transposed): transpose 8×8 blocks in registers.
                var k = 0
                while k + 8 <= K {
                    for j in stride(from: 0, to: nr, by: 8) {
                        transpose8x8(b.base + (n0 + j) * b.colStride + k, rowStride: b.colStride, into: dst + k * nr + j,
                                     dstStride: nr)
                    }
                    k += 8
                }
                for j in 0..<nr {
                    let src = b.base + (n0 + j) * b.colStride
                    for kk in k..<K { dst[kk * nr + j] = src[kk] }
                }
            } else {
                if width < nr { dst.update(repeating: 0, count: K * nr) }
                for j in 0..<width {
                    let src = b.base + (n0 + j) * b.colStride
                    for k in 0..<K { dst[k * nr + j] = src[k * b.rowStride] }
                }
            }
        }
        // Rows go to tasks in whole micro-tiles, about 48 rows each. Every task streams all of
        // packed b; when b fits in half of a core's 1 MB L2 cache that is cheap, so tasks take 24
        // rows and the threads finish closer together. The task count is rounded up to a
        // multiple of the thread count and tiles are dealt out evenly, so no thread is left
        // alone with the last task (the partition changes no sum: see the top).
        let rowTiles = (M + mr - 1) / mr
        let taskRows = panels * K * nr * 4 <= 512 * 1024 ? rowsPerTask / 2 : rowsPerTask
        var rowTasks = (M + taskRows - 1) / taskRows
        // Split columns too when there are few row blocks, so both threads get work.
        let wantedSplits = min(panels, max(1, 8 / rowTasks))
        let panelsPerSplit = (panels + wantedSplits - 1) / wantedSplits
        let columnSplits = (panels + panelsPerSplit - 1) / panelsPerSplit  // so every split is non-empty
        let threads = context.pool.threadCount
        if (rowTasks * columnSplits) % threads != 0 {
            rowTasks = min(rowTiles, (rowTasks + threads - 1) / threads * threads)
        }
        let maxTaskRows = (rowTiles + rowTasks - 1) / rowTasks * mr
        // A row-major A is read in place: each micro-tile walks mr rows, each contiguous in k.
        // Any other A (a transposed view) is packed, per K block, into the thread's own mr-row
        // micro-panels, k-major, so the kernel still reads it contiguously.
        let packsA = a.colStride != 1
        let tasks = rowTasks * columnSplits
        let aPacks = context.packingA.floats(packsA ? threads * maxTaskRows * kc : 0)
        context.pool.run(tasks) { task, thread in
            let mr = Kernel.mr, nr = Kernel.nr
            let rowTask = task / columnSplits
            let m0 = rowTask * rowTiles / rowTasks * mr
            let m1 = min(M, (rowTask + 1) * rowTiles / rowTasks * mr)
            let p0 = (task % columnSplits) * panelsPerSplit
            let p1 = min(panels, p0 + panelsPerSplit)
            let aPack = aPacks + thread * maxTaskRows * kc
            let tiles = (m1 - m0 + mr - 1) / mr
            var k0 = 0
            while k0 < K {
                let kLen = min(kc, K - k0)
                // The first K block stores bias + products (or adds them to c when accumulating).
                let add = accumulate || k0 > 0
                let blockBias = k0 == 0 ? bias : nil
                if packsA { packA(a, rows: m0..<m1, mr: mr, k0: k0, kLen: kLen, into: aPack) }
                for p in p0..<p1 {
                    let n0 = p * nr
                    let cols = min(nr, N - n0)
                    let panel = UnsafePointer(packed + p * K * nr + k0 * nr)
                    for tile in 0..<tiles {
                        let m = m0 + tile * mr, rows = min(mr, m1 - m)
                        let tileA = packsA ? Tile(UnsafePointer(aPack + tile * kLen * mr), rowStride: 1, kStride: mr, rows: mr)
                                           : Tile(a.base + m * a.rowStride + k0, rowStride: a.rowStride, kStride: 1, rows: rows)
                        Kernel.run(kLen: kLen, a: tileA, rows: rows, panel: panel, panelStride: nr, c: c + m * ldc + n0,
                                   ldc: ldc, cols: cols, add: add, bias: blockBias.map { $0 + n0 })
                    }
                }
                k0 += kLen
            }
            epilogue?(m0..<m1, p0 * nr..<min(N, p1 * nr))
        }
    }

    /// c[0..<rows, 0..<cols] (+)= a (rows × kLen) · panel (kLen × nr) on the native micro-kernel
    /// (rows ≤ mr, cols ≤ nr); attention calls it block by block.
    @inline(__always)
    static func microKernel(kLen: Int, a: Tile, rows: Int, panel: UnsafePointer<Float>, panelStride: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int, add: Bool,
                            bias: UnsafePointer<Float>? = nil) {
        NativeKernel.run(kLen: kLen, a: a, rows: rows, panel: panel, panelStride: panelStride, c: c, ldc: ldc,
                         cols: cols, add: add, bias: bias)
    }

    /// Where a micro-tile's rows of A sit: row r, step k at base[offsets[r] + k·kStride], for
    /// up to eight rows. Rows past the matrix's end repeat its last row (their results are
    /// never stored), so the kernel never reads outside A.
    struct Tile {
        var base: UnsafePointer<Float>
        var kStride: Int
        var r1: Int, r2: Int, r3: Int, r4: Int, r5: Int, r6: Int, r7: Int

        @inline(__always)
        init(_ base: UnsafePointer<Float>, rowStride: Int, kStride: Int, rows: Int) {
            self.base = base
            self.kStride = kStride
            r1 = min(1, rows - 1) * rowStride
            r2 = min(2, rows - 1) * rowStride
            r3 = min(3, rows - 1) * rowStride
            r4 = min(4, rows - 1) * rowStride
            r5 = min(5, rows - 1) * rowStride
            r6 = min(6, rows - 1) * rowStride
            r7 = min(7, rows - 1) * rowStride
        }
    }

    /// dst[c·dstStride + r] = src[r·rowStride + c] for an 8×8 block, in registers.
    @inline(__always)
    static func transpose8x8(_ src: UnsafePointer<Float>, rowStride: Int, into dst: UnsafeMutablePointer<Float>,
                             dstStride: Int) {
        let raw = UnsafeRawPointer(src)
        func row(_ i: Int) -> Vec { raw.loadUnaligned(fromByteOffset: i * rowStride * 4, as: Vec.self) }
        var v = (row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7))
        // Element (r, c) sits at bits r₂r₁r₀c₂c₁c₀ of (vector, lane). Splitting each pair of
        // vectors into even and odd lanes rotates those six bits right by one; three rounds
        // give c₂c₁c₀r₂r₁r₀, the transpose.
        for _ in 0..<3 {
            let p0 = SIMD16(lowHalf: v.0, highHalf: v.1), p1 = SIMD16(lowHalf: v.2, highHalf: v.3)
            let p2 = SIMD16(lowHalf: v.4, highHalf: v.5), p3 = SIMD16(lowHalf: v.6, highHalf: v.7)
            v = (p0.evenHalf, p1.evenHalf, p2.evenHalf, p3.evenHalf, p0.oddHalf, p1.oddHalf, p2.oddHalf, p3.oddHalf)
        }
        let out = UnsafeMutableRawPointer(dst), step = dstStride * 4
        out.storeBytes(of: v.0, toByteOffset: 0 * step, as: Vec.self)
        out.storeBytes(of: v.1, toByteOffset: 1 * step, as: Vec.self)
        out.storeBytes(of: v.2, toByteOffset: 2 * step, as: Vec.self)
        out.storeBytes(of: v.3, toByteOffset: 3 * step, as: Vec.self)
        out.storeBytes(of: v.4, toByteOffset: 4 * step, as: Vec.self)
        out.storeBytes(of: v.5, toByteOffset: 5 * step, as: Vec.self)
        out.storeBytes(of: v.6, toByteOffset: 6 * step, as: Vec.self)
        out.storeBytes(of: v.7, toByteOffset: 7 * step, as: Vec.self)
    }

    /// Copies a[rows, k0 ..< k0+kLen] into mr-row micro-panels: tile t, step k, row r at
    /// dst[t·kLen·mr + k·mr + r]; rows past the end are zero.
    @inline(__always)
    static func packA(_ a: MatrixView, rows: Range<Int>, mr: Int, k0: Int, kLen: Int,
                      into dst: UnsafeMutablePointer<Float>) {
        let tiles = (rows.count + mr - 1) / mr
        for t in 0..<tiles {
            let tileDst = dst + t * kLen * mr
            let m0 = rows.lowerBound + t * mr
            let valid = min(mr, rows.upperBound - m0)
            let src = a.base + m0 * a.rowStride + k0 * a.colStride
            if valid == mr && a.rowStride == 1 {
                // Transposed A: the tile's rows sit side by side at each k.
                for k in 0..<kLen { (tileDst + k * mr).update(from: src + k * a.colStride, count: mr) }
                continue
            }
            for r in 0..<mr {
                let row = src + r * a.rowStride
                if r < valid {
                    for k in 0..<kLen { tileDst[k * mr + r] = row[k * a.colStride] }
                } else {
                    for k in 0..<kLen { tileDst[k * mr + r] = 0 }
                }
            }
        }
    }
}

// MARK: - Micro-kernels

/// A register-blocked micro-kernel: c[0..<rows, 0..<cols] (+)= a (rows × kLen) · panel
/// (kLen × nr), rows ≤ mr, cols ≤ nr, where panel row k starts at panel + k·panelStride and
/// holds nr readable floats. Without `add`, a `bias` (cols) is added to every row as it is
/// stored. Each element is one chain of fused multiply-adds over k = 0, 1, …, kLen-1 from zero,
/// then added to c (or the bias) once: the same arithmetic in every kernel, whatever its tile.
protocol GemmMicroKernel {
    static var mr: Int { get }
    static var nr: Int { get }
    static func run(kLen: Int, a: Gemm.Tile, rows: Int, panel: UnsafePointer<Float>, panelStride: Int,
                    c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int, add: Bool, bias: UnsafePointer<Float>?)
}

// The build picks the kernel for its instruction set (Package.swift sets the condition when it
// builds for AVX-512; README "Compiler settings and CPUs").
#if TINYGPT_WIDE_KERNELS
typealias NativeKernel = Gemm.Wide
#else
typealias NativeKernel = Gemm.Narrow
#endif

extension Gemm {
    /// 6×16 with SIMD8 (AVX2, NEON): twelve accumulators, two panel vectors and a broadcast fit
    /// the sixteen AVX2 registers. Twelve independent FMA chains hide the FMA latency (4 cycles,
    /// 2 per cycle); a 4-row tile's eight chains left the units idle whenever a load came late.
    enum Narrow: GemmMicroKernel {
        static var mr: Int { 6 }
        static var nr: Int { 16 }

        @inline(__always)
        static func run(kLen: Int, a: Tile, rows: Int, panel: UnsafePointer<Float>, panelStride: Int,
                        c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int, add: Bool, bias: UnsafePointer<Float>?) {
            typealias V = SIMD8<Float>
            var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
            var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
            var bk = UnsafeRawPointer(panel), ak = a.base  // stepped by k (see Wide)
            let bStep = panelStride * 4, aStep = a.kStride
            for _ in 0..<kLen {
                let b0 = bk.loadUnaligned(as: V.self)
                let b1 = bk.loadUnaligned(fromByteOffset: 32, as: V.self)
                bk += bStep
                var x = V(repeating: ak[0])
                c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
                x = V(repeating: ak[a.r1])
                c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
                x = V(repeating: ak[a.r2])
                c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
                x = V(repeating: ak[a.r3])
                c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
                x = V(repeating: ak[a.r4])
                c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
                x = V(repeating: ak[a.r5])
                c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
                ak += aStep
            }
            if rows == mr && cols == nr {
                // What the products are added to: c itself, the bias, or nothing.
                let base: UnsafeRawPointer? = add ? UnsafeRawPointer(c) : bias.map { UnsafeRawPointer($0) }
                let step = add ? ldc * 4 : 0
                storeRow(c00, c01, c + 0 * ldc, base, 0 * step)
                storeRow(c10, c11, c + 1 * ldc, base, 1 * step)
                storeRow(c20, c21, c + 2 * ldc, base, 2 * step)
                storeRow(c30, c31, c + 3 * ldc, base, 3 * step)
                storeRow(c40, c41, c + 4 * ldc, base, 4 * step)
                storeRow(c50, c51, c + 5 * ldc, base, 5 * step)
                return
            }
            var tile = (c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51)
            storeEdge(&tile, nr: nr, rows: rows, cols: cols, c: c, ldc: ldc, add: add, bias: bias)
        }
    }

    /// 8×32 with SIMD16 (AVX-512): sixteen zmm accumulators, two panel vectors and a broadcast
    /// use 19 of the 32 registers, and the eight row offsets fit the general registers with A
    /// read in place. Sixteen independent FMA chains cover twice the 4-cycle latency × 2 units;
    /// each k loads 2 panel vectors and 8 broadcasts for 16 FMAs (8 cycles on two 512-bit units).
    enum Wide: GemmMicroKernel {
        static var mr: Int { 8 }
        static var nr: Int { 32 }

        @inline(__always)
        static func run(kLen: Int, a: Tile, rows: Int, panel: UnsafePointer<Float>, panelStride: Int,
                        c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int, add: Bool, bias: UnsafePointer<Float>?) {
            typealias V = SIMD16<Float>
            var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V(), c30 = V(), c31 = V()
            var c40 = V(), c41 = V(), c50 = V(), c51 = V(), c60 = V(), c61 = V(), c70 = V(), c71 = V()
            // Pointers stepped by k (no index products, whose overflow checks cost a general
            // register and several instructions every step).
            var bk = UnsafeRawPointer(panel), ak = a.base
            let bStep = panelStride * 4, aStep = a.kStride
            for _ in 0..<kLen {
                let b0 = bk.loadUnaligned(as: V.self)
                let b1 = bk.loadUnaligned(fromByteOffset: 64, as: V.self)
                bk += bStep
                var x = V(repeating: ak[0])
                c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
                x = V(repeating: ak[a.r1])
                c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
                x = V(repeating: ak[a.r2])
                c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
                x = V(repeating: ak[a.r3])
                c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
                x = V(repeating: ak[a.r4])
                c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
                x = V(repeating: ak[a.r5])
                c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
                x = V(repeating: ak[a.r6])
                c60 = c60.addingProduct(x, b0); c61 = c61.addingProduct(x, b1)
                x = V(repeating: ak[a.r7])
                c70 = c70.addingProduct(x, b0); c71 = c71.addingProduct(x, b1)
                ak += aStep
            }
            if rows == mr && cols == nr {
                let base: UnsafeRawPointer? = add ? UnsafeRawPointer(c) : bias.map { UnsafeRawPointer($0) }
                let step = add ? ldc * 4 : 0
                storeRow(c00, c01, c + 0 * ldc, base, 0 * step)
                storeRow(c10, c11, c + 1 * ldc, base, 1 * step)
                storeRow(c20, c21, c + 2 * ldc, base, 2 * step)
                storeRow(c30, c31, c + 3 * ldc, base, 3 * step)
                storeRow(c40, c41, c + 4 * ldc, base, 4 * step)
                storeRow(c50, c51, c + 5 * ldc, base, 5 * step)
                storeRow(c60, c61, c + 6 * ldc, base, 6 * step)
                storeRow(c70, c71, c + 7 * ldc, base, 7 * step)
                return
            }
            var tile = (c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71)
            storeEdge(&tile, nr: nr, rows: rows, cols: cols, c: c, ldc: ldc, add: add, bias: bias)
        }
    }

    /// Stores one row of a full tile at c: the products alone, or added to the row of floats at
    /// base + offset (c itself, or the bias).
    @inline(__always)
    static func storeRow<V: SIMD>(_ lo: V, _ hi: V, _ c: UnsafeMutablePointer<Float>, _ base: UnsafeRawPointer?,
                                  _ offset: Int) where V.Scalar == Float {
        let raw = UnsafeMutableRawPointer(c), width = MemoryLayout<V>.size
        if let base {
            raw.storeBytes(of: base.loadUnaligned(fromByteOffset: offset, as: V.self) + lo, as: V.self)
            raw.storeBytes(of: base.loadUnaligned(fromByteOffset: offset + width, as: V.self) + hi,
                           toByteOffset: width, as: V.self)
        } else {
            raw.storeBytes(of: lo, as: V.self)
            raw.storeBytes(of: hi, toByteOffset: width, as: V.self)
        }
    }

    /// An edge tile: the accumulators (row-major, nr floats a row) go through memory and only
    /// c[0..<rows, 0..<cols] is written.
    @inline(__always)
    static func storeEdge<T>(_ tile: inout T, nr: Int, rows: Int, cols: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                             add: Bool, bias: UnsafePointer<Float>?) {
        withUnsafeBytes(of: &tile) { raw in
            let t = raw.bindMemory(to: Float.self).baseAddress!
            for i in 0..<rows {
                let dst = c + i * ldc
                for j in 0..<cols {
                    dst[j] = add ? dst[j] + t[i * nr + j] : (bias.map { $0[j] + t[i * nr + j] } ?? t[i * nr + j])
                }
            }
        }
    }
}

/// A fully connected layer: out = inp · Wᵀ + b.
public enum Linear {
    /// out (N, OC) = inp (N, C) · weightᵀ (C, OC) + bias (OC). Overwrites `out`; then
    /// `epilogue` on each finished block of it (an activation reading it while in cache).
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                               _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                               N: Int, C: Int, OC: Int, context: KernelContext, epilogue: Gemm.Epilogue? = nil) {
        Gemm.multiply(M: N, N: OC, K: C, a: .rowMajor(inp, cols: C), b: .transposed(weight, rows: C),
                      c: out, ldc: OC, accumulate: false, bias: bias, context: context, epilogue: epilogue)
    }

    /// Backward of `out = inp · Wᵀ + b`:
    /// dinp (N, C) = dout · W (overwritten; nil to skip), dweight (OC, C) += doutᵀ · inp,
    /// dbias (OC) += Σₙ dout[n]. `dinpEpilogue` runs on each finished block of dinp before
    /// dweight is computed, so it may also fill in `inp` (an activation recomputed there).
    public static func backward(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>,
                                _ dbias: UnsafeMutablePointer<Float>?, _ dout: UnsafePointer<Float>,
                                _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                                N: Int, C: Int, OC: Int, context: KernelContext, dinpEpilogue: Gemm.Epilogue? = nil) {
        if let dinp {
            Gemm.multiply(M: N, N: C, K: OC, a: .rowMajor(dout, cols: OC), b: .rowMajor(weight, cols: C),
                          c: dinp, ldc: C, accumulate: false, context: context, epilogue: dinpEpilogue)
        }
        Gemm.multiply(M: OC, N: C, K: N, a: .transposed(dout, rows: OC), b: .rowMajor(inp, cols: C),
                      c: dweight, ldc: C, accumulate: true, context: context)
        if let dbias {
            // Columns split into fixed chunks; each sums its columns over all rows in order,
            // in registers: a whole chunk as eight independent chains, else eight columns at a time.
            let chunk = 64
            context.pool.run((OC + chunk - 1) / chunk) { task in
                let o0 = task * chunk, o1 = min(OC, o0 + chunk)
                var o = o0
                if o1 - o0 == chunk {
                    let sum = UnsafeMutableRawPointer(dbias + o0)
                    var a0 = sum.loadUnaligned(fromByteOffset: 0, as: Vec.self)
                    var a1 = sum.loadUnaligned(fromByteOffset: 32, as: Vec.self)
                    var a2 = sum.loadUnaligned(fromByteOffset: 64, as: Vec.self)
                    var a3 = sum.loadUnaligned(fromByteOffset: 96, as: Vec.self)
                    var a4 = sum.loadUnaligned(fromByteOffset: 128, as: Vec.self)
                    var a5 = sum.loadUnaligned(fromByteOffset: 160, as: Vec.self)
                    var a6 = sum.loadUnaligned(fromByteOffset: 192, as: Vec.self)
                    var a7 = sum.loadUnaligned(fromByteOffset: 224, as: Vec.self)
                    for n in 0..<N {
                        let row = UnsafeRawPointer(dout + n * OC + o0)
                        a0 += row.loadUnaligned(fromByteOffset: 0, as: Vec.self)
                        a1 += row.loadUnaligned(fromByteOffset: 32, as: Vec.self)
                        a2 += row.loadUnaligned(fromByteOffset: 64, as: Vec.self)
                        a3 += row.loadUnaligned(fromByteOffset: 96, as: Vec.self)
                        a4 += row.loadUnaligned(fromByteOffset: 128, as: Vec.self)
                        a5 += row.loadUnaligned(fromByteOffset: 160, as: Vec.self)
                        a6 += row.loadUnaligned(fromByteOffset: 192, as: Vec.self)
                        a7 += row.loadUnaligned(fromByteOffset: 224, as: Vec.self)
                    }
                    sum.storeBytes(of: a0, toByteOffset: 0, as: Vec.self)
                    sum.storeBytes(of: a1, toByteOffset: 32, as: Vec.self)
                    sum.storeBytes(of: a2, toByteOffset: 64, as: Vec.self)
                    sum.storeBytes(of: a3, toByteOffset: 96, as: Vec.self)
                    sum.storeBytes(of: a4, toByteOffset: 128, as: Vec.self)
                    sum.storeBytes(of: a5, toByteOffset: 160, as: Vec.self)
                    sum.storeBytes(of: a6, toByteOffset: 192, as: Vec.self)
                    sum.storeBytes(of: a7, toByteOffset: 224, as: Vec.self)
                    return
                }
                while o + 8 <= o1 {
                    let sum = UnsafeMutableRawPointer(dbias + o)
                    var acc = sum.loadUnaligned(as: Vec.self)
                    for n in 0..<N { acc += UnsafeRawPointer(dout + n * OC + o).loadUnaligned(as: Vec.self) }
                    sum.storeBytes(of: acc, as: Vec.self)
                    o += 8
                }
                for n in 0..<N {
                    let row = dout + n * OC
                    for j in o..<o1 { dbias[j] += row[j] }
                }
            }
        }
    }
}
