// Causal multi-head self-attention on packed Q, K, V (Vaswani et al. 2017, §3.2.2):
// for each head, att = softmax(Q Kᵀ / √hs) with future positions masked, out = att · V.
// The input projection (c_attn) and output projection (c_proj) are Linear ops around it.
//
// Legend: B batch, T time, C channels, NH heads, hs = C / NH head size.
// qkv (B, T, 3C) holds Q, K, V side by side in each row, head h at columns h·hs ..< (h+1)·hs
// of each third, as nanoGPT splits c_attn's output.
//
// Every product runs on the GEMM micro-kernel (Ops/Matmul.swift), one block of its mr rows
// (6, or 8 on AVX-512) at a time on the task's own thread, skipping the blocks that causality
// makes zero. K and V (and in backward Q and dout) are first copied into per-task tiles
// zero-padded to its nr columns (16, or 32), so the kernel's rows never read past a head.
// One task per (batch, head).
//
// Summation orders are fixed by the shapes alone, so results do not depend on the threads.

public enum Attention {
    /// out (B, T, C) = per head softmax(q·kᵀ/√hs, causal) · v; saves att (B, NH, T, T),
    /// zero above the diagonal.
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ att: UnsafeMutablePointer<Float>,
                               _ qkv: UnsafePointer<Float>, B: Int, T: Int, C: Int, NH: Int,
                               context: KernelContext) {
        let hs = C / NH, hp = padded(hs), Tp = padded(T)
        let scale = 1 / Float(hs).squareRoot()
        let perTask = hs * Tp + T * hp
        forEachHead(B: B, NH: NH, scratchPerTask: perTask, context: context) { task, scratch in
            let b = task / NH, h = task % NH
            let q = qkv + b * T * 3 * C + h * hs          // q_t at q + t·3C, k_t at + C, v_t at + 2C
            let kt = scratch                              // Kᵀ (hs, Tp)
            let v = kt + hs * Tp                          // V (T, hp)
            transpose(q + C, rowStride: 3 * C, T: T, hs: hs, into: kt, stride: Tp)
            copy(q + 2 * C, rowStride: 3 * C, T: T, hs: hs, into: v, stride: hp)
            let a = att + task * T * T
            // pre = q · kᵀ, one block of rows at a time, up to the block's last row's diagonal.
            for t0 in stride(from: 0, to: T, by: Gemm.mr) {
                let rows = min(Gemm.mr, T - t0)
                let tile = Gemm.Tile(q + t0 * 3 * C, rowStride: 3 * C, kStride: 1, rows: rows)
                for c0 in stride(from: 0, to: t0 + rows, by: Gemm.nr) {
                    Gemm.microKernel(kLen: hs, a: tile, rows: rows, panel: kt + c0, panelStride: Tp,
                                     c: a + t0 * T + c0, ldc: T, cols: min(Gemm.nr, T - c0), add: false)
                }
            }
            for t in 0..<T {
                let row = a + t * T
                _ = Softmax.forward(row, t + 1, scale: scale)
                if t + 1 < T { (row + t + 1).update(repeating: 0, count: T - t - 1) }
            }
            // out = att · v: row t sums over positions 0...t (att is zero beyond).
            for t0 in stride(from: 0, to: T, by: Gemm.mr) {
                let rows = min(Gemm.mr, T - t0)
                let tile = Gemm.Tile(a + t0 * T, rowStride: T, kStride: 1, rows: rows)
                for c0 in stride(from: 0, to: hs, by: Gemm.nr) {
                    Gemm.microKernel(kLen: t0 + rows, a: tile, rows: rows, panel: v + c0, panelStride: hp,
                                     c: out + (b * T + t0) * C + h * hs + c0, ldc: C, cols: min(Gemm.nr, hs - c0),
                                     add: false)
                }
            }
        }
    }

    /// Backward of the forward above. dqkv (B, T, 3C) is overwritten.
    ///   out = att · v        →  datt = dout · vᵀ,  dv = attᵀ · dout
    ///   att = softmax(pre)   →  dpre = att ⊙ (datt - Σ att ⊙ datt)
    ///   pre = q · kᵀ / √hs   →  dq = dpre · k / √hs,  dk = dpreᵀ · q / √hs
    public static func backward(_ dqkv: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                                _ qkv: UnsafePointer<Float>, _ att: UnsafePointer<Float>,
                                B: Int, T: Int, C: Int, NH: Int, context: KernelContext) {
        let hs = C / NH, hp = padded(hs), Tp = padded(T)
        let scale = 1 / Float(hs).squareRoot()
        let perTask = hs * Tp + 3 * T * hp + T * T
        forEachHead(B: B, NH: NH, scratchPerTask: perTask, context: context) { task, scratch in
            let b = task / NH, h = task % NH
            let q = qkv + b * T * 3 * C + h * hs
            let dq = dqkv + b * T * 3 * C + h * hs        // dq_t at dq + t·3C, dk_t at + C, dv_t at + 2C
            let dy = dout + b * T * C + h * hs            // dout_t at dy + t·C
            let vt = scratch                              // Vᵀ (hs, Tp)
            let kp = vt + hs * Tp, qp = kp + T * hp, dyp = qp + T * hp   // K, Q, dout (T, hp)
            let dpre = dyp + T * hp                       // (T, T), zero above the diagonal
            transpose(q + 2 * C, rowStride: 3 * C, T: T, hs: hs, into: vt, stride: Tp)
            copy(q + C, rowStride: 3 * C, T: T, hs: hs, into: kp, stride: hp)
            copy(q, rowStride: 3 * C, T: T, hs: hs, into: qp, stride: hp)
            copy(dy, rowStride: C, T: T, hs: hs, into: dyp, stride: hp)
            let a = att + task * T * T
            // datt = dout · vᵀ into dpre's rows, up to each block's diagonal.
            for t0 in stride(from: 0, to: T, by: Gemm.mr) {
                let rows = min(Gemm.mr, T - t0)
                let tile = Gemm.Tile(dy + t0 * C, rowStride: C, kStride: 1, rows: rows)
                for c0 in stride(from: 0, to: t0 + rows, by: Gemm.nr) {
                    Gemm.microKernel(kLen: hs, a: tile, rows: rows, panel: vt + c0, panelStride: Tp,
                                     c: dpre + t0 * T + c0, ldc: T, cols: min(Gemm.nr, T - c0), add: false)
                }
            }
            // dpre = att ⊙ (datt - Σ att ⊙ datt) / √hs, in place, row by row.
            for t in 0..<T {
                let arow = a + t * T, d = dpre + t * T
                let weighted = FastMath.dot(arow, d, t + 1)
                var t2 = 0
                while t2 + 8 <= t + 1 {
                    let av = UnsafeRawPointer(arow + t2).loadUnaligned(as: Vec.self)
                    let dv = UnsafeMutableRawPointer(d + t2)
                    dv.storeBytes(of: av * (dv.loadUnaligned(as: Vec.self) - weighted) * scale, as: Vec.self)
                    t2 += 8
                }
                while t2 <= t { d[t2] = arow[t2] * (d[t2] - weighted) * scale; t2 += 1 }
                if t + 1 < T { (d + t + 1).update(repeating: 0, count: T - t - 1) }
            }
            for t0 in stride(from: 0, to: T, by: Gemm.mr) {
                let rows = min(Gemm.mr, T - t0)
                // dq = dpre · k: row t sums over positions 0...t.
                let dpreRows = Gemm.Tile(dpre + t0 * T, rowStride: T, kStride: 1, rows: rows)
                // dk = dpreᵀ · q and dv = attᵀ · dout: position t0 + r gathers the later
                // positions t ≥ t0 that attended to it (the entries above the diagonal are zero).
                let dpreColumns = Gemm.Tile(dpre + t0 * T + t0, rowStride: 1, kStride: T, rows: rows)
                let attColumns = Gemm.Tile(a + t0 * T + t0, rowStride: 1, kStride: T, rows: rows)
                for c0 in stride(from: 0, to: hs, by: Gemm.nr) {
                    let cols = min(Gemm.nr, hs - c0), row = t0 * 3 * C + c0
                    Gemm.microKernel(kLen: t0 + rows, a: dpreRows, rows: rows, panel: kp + c0, panelStride: hp,
                                     c: dq + row, ldc: 3 * C, cols: cols, add: false)
                    Gemm.microKernel(kLen: T - t0, a: dpreColumns, rows: rows, panel: qp + t0 * hp + c0,
                                     panelStride: hp, c: dq + row + C, ldc: 3 * C, cols: cols, add: false)
                    Gemm.microKernel(kLen: T - t0, a: attColumns, rows: rows, panel: dyp + t0 * hp + c0,
                                     panelStride: hp, c: dq + row + 2 * C, ldc: 3 * C, cols: cols, add: false)
                }
            }
        }
    }

    /// Runs `body(task, scratch)` for every (batch, head) task, b·NH + h. The tasks are cut
    /// into one contiguous share per thread, each share with its own `scratchPerTask` floats
    /// reused task after task, so scratch memory grows with threads, not with B·NH.
    @inline(__always)
    static func forEachHead(B: Int, NH: Int, scratchPerTask: Int, context: KernelContext,
                            _ body: (_ task: Int, _ scratch: UnsafeMutablePointer<Float>) -> Void) {
        let tasks = B * NH, shares = min(tasks, context.pool.threadCount)
        let scratch = context.partials.floats(shares * scratchPerTask)
        context.pool.run(shares) { share in
            for task in tasks * share / shares..<tasks * (share + 1) / shares {
                body(task, scratch + share * scratchPerTask)
            }
        }
    }

    /// n rounded up to the micro-kernel's columns.
    @inline(__always)
    static func padded(_ n: Int) -> Int { (n + Gemm.nr - 1) / Gemm.nr * Gemm.nr }

    /// dst (hs, stride) = the (T, hs) block at `src` whose rows are `rowStride` apart,
    /// transposed; columns T ..< stride are zero.
    @inline(__always)
    static func transpose(_ src: UnsafePointer<Float>, rowStride: Int, T: Int, hs: Int,
                          into dst: UnsafeMutablePointer<Float>, stride: Int) {
        for d in 0..<hs { (dst + d * stride + T).update(repeating: 0, count: stride - T) }
        // Whole 8×8 blocks in registers, then the edges element by element.
        let T8 = T / 8 * 8, hs8 = hs / 8 * 8
        for t in Swift.stride(from: 0, to: T8, by: 8) {
            for d in Swift.stride(from: 0, to: hs8, by: 8) {
                Gemm.transpose8x8(src + t * rowStride + d, rowStride: rowStride, into: dst + d * stride + t,
                                  dstStride: stride)
            }
        }
        for t in 0..<T {
            let row = src + t * rowStride
            for d in (t < T8 ? hs8 : 0)..<hs { dst[d * stride + t] = row[d] }
        }
    }

    /// dst (T, stride) = the (T, hs) block at `src` whose rows are `rowStride` apart; columns
    /// hs ..< stride are zero.
    @inline(__always)
    static func copy(_ src: UnsafePointer<Float>, rowStride: Int, T: Int, hs: Int,
                     into dst: UnsafeMutablePointer<Float>, stride: Int) {
        for t in 0..<T {
            (dst + t * stride).update(from: src + t * rowStride, count: hs)
            (dst + t * stride + hs).update(repeating: 0, count: stride - hs)
        }
    }
}
