// Token + position embedding, the model's first op (GPT-2; nanoGPT's wte and wpe).
// Legend: B batch, T time, C channels, V vocabulary.

public enum Embedding {
    static let channelChunk = 32

    /// out (B, T, C) = wte[tokens[b, t]] + wpe[t]. Overwrites `out`.
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ tokens: UnsafePointer<Int32>,
                               _ wte: UnsafePointer<Float>, _ wpe: UnsafePointer<Float>,
                               B: Int, T: Int, C: Int, context: KernelContext) {
        context.pool.run(B) { b in
            for t in 0..<T { forwardRow(out + (b * T + t) * C, tokens[b * T + t], position: t, wte, wpe, C: C) }
        }
    }

    /// One position of the forward pass: out (C) = wte[token] + wpe[t].
    @inline(__always)
    static func forwardRow(_ out: UnsafeMutablePointer<Float>, _ token: Int32, position t: Int,
                           _ wte: UnsafePointer<Float>, _ wpe: UnsafePointer<Float>, C: Int) {
        let e = wte + Int(token) * C, p = wpe + t * C
        for i in 0..<C { out[i] = e[i] + p[i] }
    }

    /// dwte (V, C) += Σ dout at each token's row; dwpe (T, C) += Σ_b dout[b, t].
    /// Tasks own channel slices, so rows that share a token never race.
    public static func backward(_ dwte: UnsafeMutablePointer<Float>, _ dwpe: UnsafeMutablePointer<Float>,
                                _ dout: UnsafePointer<Float>, _ tokens: UnsafePointer<Int32>,
                                B: Int, T: Int, C: Int, context: KernelContext) {
        context.pool.run((C + channelChunk - 1) / channelChunk) { task in
            let c0 = task * channelChunk, c1 = min(C, c0 + channelChunk)
            for b in 0..<B {
                for t in 0..<T {
                    let d = dout + (b * T + t) * C
                    let e = dwte + Int(tokens[b * T + t]) * C, p = dwpe + t * C
                    for i in c0..<c1 {
                        e[i] += d[i]
                        p[i] += d[i]
                    }
                }
            }
        }
    }
}
