// Causal multi-head self-attention on packed Q, K, V (Vaswani et al. 2017, §3.2.2):
// for each head, att = softmax(Q Kᵀ / √hs) with future positions masked, out = att · V.
// The input projection (c_attn) and output projection (c_proj) are Linear ops around it.
//
// Legend: B batch, T time, C channels, NH heads, hs = C / NH head size.
// qkv (B, T, 3C) holds Q, K, V side by side in each row, head h at columns h·hs ..< (h+1)·hs
// of each third, as nanoGPT splits c_attn's output.

public enum Attention {
    /// out (B, T, C) = per head softmax(q·kᵀ/√hs, causal) · v; saves att (B, NH, T, T),
    /// zero above the diagonal. One task per (batch, head).
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ att: UnsafeMutablePointer<Float>,
                               _ qkv: UnsafePointer<Float>, B: Int, T: Int, C: Int, NH: Int,
                               context: KernelContext) {
        let hs = C / NH
        let scale = 1 / Float(hs).squareRoot()
        context.pool.run(B * NH) { task in
            let b = task / NH, h = task % NH
            for t in 0..<T {
                let q = qkv + (b * T + t) * 3 * C + h * hs
                let row = att + (task * T + t) * T
                for t2 in 0...t {
                    let k = qkv + (b * T + t2) * 3 * C + C + h * hs
                    row[t2] = FastMath.dot(q, k, hs) * scale
                }
                let m = FastMath.max(row, t + 1)
                let sum = FastMath.expShifted(row, t + 1, shift: m)
                let inv = 1 / sum
                for t2 in 0...t { row[t2] *= inv }
                if t + 1 < T { (row + t + 1).update(repeating: 0, count: T - t - 1) }
                let o = out + (b * T + t) * C + h * hs
                o.update(repeating: 0, count: hs)
                for t2 in 0...t {
                    FastMath.axpy(o, row[t2], qkv + (b * T + t2) * 3 * C + 2 * C + h * hs, hs)
                }
            }
        }
    }

    /// Backward of the forward above. dqkv (B, T, 3C) is overwritten.
    ///   out = Σ att·v        →  datt = dout·vᵀ, dv += attᵀ·dout
    ///   att = softmax(pre)   →  dpre = att ⊙ (datt - Σ att ⊙ datt)
    ///   pre = q·kᵀ/√hs       →  dq += dpre·k/√hs, dk += dpreᵀ·q/√hs
    public static func backward(_ dqkv: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                                _ qkv: UnsafePointer<Float>, _ att: UnsafePointer<Float>,
                                B: Int, T: Int, C: Int, NH: Int, context: KernelContext) {
        let hs = C / NH
        let scale = 1 / Float(hs).squareRoot()
        let scratch = context.partials.floats(B * NH * T)
        context.pool.run(B * NH) { task in
            let b = task / NH, h = task % NH
            let datt = scratch + task * T
            for t in 0..<T {
                let base = dqkv + (b * T + t) * 3 * C + h * hs
                base.update(repeating: 0, count: hs)
                (base + C).update(repeating: 0, count: hs)
                (base + 2 * C).update(repeating: 0, count: hs)
            }
            for t in 0..<T {
                let row = att + (task * T + t) * T
                let dy = dout + (b * T + t) * C + h * hs
                var weighted: Float = 0
                for t2 in 0...t {
                    let v = qkv + (b * T + t2) * 3 * C + 2 * C + h * hs
                    datt[t2] = FastMath.dot(dy, v, hs)
                    weighted += row[t2] * datt[t2]
                    FastMath.axpy(dqkv + (b * T + t2) * 3 * C + 2 * C + h * hs, row[t2], dy, hs)
                }
                let q = qkv + (b * T + t) * 3 * C + h * hs
                let dq = dqkv + (b * T + t) * 3 * C + h * hs
                for t2 in 0...t {
                    let dpre = row[t2] * (datt[t2] - weighted) * scale
                    FastMath.axpy(dq, dpre, qkv + (b * T + t2) * 3 * C + C + h * hs, hs)
                    FastMath.axpy(dqkv + (b * T + t2) * 3 * C + C + h * hs, dpre, q, hs)
                }
            }
        }
    }
}
