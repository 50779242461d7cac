// Causal multi-head self-attention on packed Q, K, V (Vaswani et al. 2017, §3.2.2):
// for each head, att = softmax(Q Kᵀ / √hs) with future positions masked, out = att · V.
// The input projection (c_attn) and output projection (c_proj) are Linear ops around it.
//
// Legend: B batch, T time, C channels, NH heads, hs = C / NH head size.
// qkv (B, T, 3C) holds Q, K, V side by side in each row, head h at columns h·hs ..< (h+1)·hs
// of each third, as nanoGPT splits c_attn's output.
//
// Every product is a `FastMath.weightedSum` (a small matrix product accumulated in
// registers); K and V are copied transposed per (batch, head) so that scores and their
// gradients run along positions. One task per (batch, head).

public enum Attention {
    /// out (B, T, C) = per head softmax(q·kᵀ/√hs, causal) · v; saves att (B, NH, T, T),
    /// zero above the diagonal.
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ att: UnsafeMutablePointer<Float>,
                               _ qkv: UnsafePointer<Float>, B: Int, T: Int, C: Int, NH: Int,
                               context: KernelContext) {
        let hs = C / NH
        let scale = 1 / Float(hs).squareRoot()
        let scratch = context.partials.floats(B * NH * hs * T)
        context.pool.run(B * NH) { task in
            let b = task / NH, h = task % NH
            let rows = qkv + b * T * 3 * C + h * hs      // q of position t at rows + t·3C
            let kt = scratch + task * hs * T              // Kᵀ (hs, T)
            transpose(rows + C, rowStride: 3 * C, T: T, hs: hs, into: kt)
            for t in 0..<T {
                let row = att + (task * T + t) * T
                // pre[t2] = q_t · k_t2 for t2 ≤ t
                FastMath.weightedSum(row, rows + t * 3 * C, wStride: 1, kt, xStride: T, count: hs, n: t + 1)
                for t2 in 0...t { row[t2] *= scale }
                let m = FastMath.max(row, t + 1)
                let inv = 1 / FastMath.expShifted(row, t + 1, shift: m)
                for t2 in 0...t { row[t2] *= inv }
                if t + 1 < T { (row + t + 1).update(repeating: 0, count: T - t - 1) }
                // out_t = Σ_t2 att[t, t2] · v_t2
                FastMath.weightedSum(out + (b * T + t) * C + h * hs, row, wStride: 1, rows + 2 * C,
                                     xStride: 3 * C, count: t + 1, n: hs)
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
        let hs = C / NH
        let scale = 1 / Float(hs).squareRoot()
        let perTask = hs * T + T * T + T
        let scratch = context.partials.floats(B * NH * perTask)
        context.pool.run(B * NH) { task in
            let b = task / NH, h = task % NH
            let rows = qkv + b * T * 3 * C + h * hs
            let drows = dqkv + b * T * 3 * C + h * hs
            let dy = dout + b * T * C + h * hs            // dout of position t at dy + t·C
            let vt = scratch + task * perTask             // Vᵀ (hs, T)
            let dpre = vt + hs * T                        // (T, T), zero above the diagonal
            let datt = dpre + T * T                       // (T)
            transpose(rows + 2 * C, rowStride: 3 * C, T: T, hs: hs, into: vt)
            for t in 0..<T {
                let a = att + (task * T + t) * T
                FastMath.weightedSum(datt, dy + t * C, wStride: 1, vt, xStride: T, count: hs, n: t + 1)
                var weighted: Float = 0
                for t2 in 0...t { weighted += a[t2] * datt[t2] }
                let d = dpre + t * T
                for t2 in 0...t { d[t2] = a[t2] * (datt[t2] - weighted) * scale }
                if t + 1 < T { (d + t + 1).update(repeating: 0, count: T - t - 1) }
                FastMath.weightedSum(drows + t * 3 * C, d, wStride: 1, rows + C, xStride: 3 * C, count: t + 1, n: hs)
            }
            for t2 in 0..<T {
                // Column t2 from row t2 down: the later positions that attended to t2.
                FastMath.weightedSum(drows + t2 * 3 * C + C, dpre + t2 * T + t2, wStride: T, rows + t2 * 3 * C,
                                     xStride: 3 * C, count: T - t2, n: hs)
                FastMath.weightedSum(drows + t2 * 3 * C + 2 * C, att + (task * T + t2) * T + t2, wStride: T,
                                     dy + t2 * C, xStride: C, count: T - t2, n: hs)
            }
        }
    }

    /// dst (hs, T) = the (T, hs) block at `src` whose rows are `rowStride` apart, transposed.
    @inline(__always)
    static func transpose(_ src: UnsafePointer<Float>, rowStride: Int, T: Int, hs: Int,
                          into dst: UnsafeMutablePointer<Float>) {
        for t in 0..<T {
            let row = src + t * rowStride
            for d in 0..<hs { dst[d * T + t] = row[d] }
        }
    }
}
