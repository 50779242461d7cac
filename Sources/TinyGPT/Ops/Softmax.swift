// Softmax, written once: p_i = exp(z_i/T - m) / Σ_j exp(z_j/T - m), with m = max_j z_j/T so
// that no exponent overflows (T = 1 is the plain softmax; as T → 0 it becomes the argmax).
//
// `probabilities` is the definition, in Double, with the C library's exp: sampling draws from
// it and the temperature page shows it. `forward` is the same formula in place on Float rows
// with the vectorised exp (FastMath), for the hot paths: attention's rows (T = √hs) and
// cross-entropy's (T = 1). The tests check the one against the other.

public enum Softmax {
    /// softmax(z / T) over `count` logits in Double (T > 0), or one-hot at the argmax (T = 0).
    public static func probabilities(_ logits: UnsafePointer<Float>, count V: Int, temperature: Double) -> [Double] {
        var p = [Double](repeating: 0, count: V)
        if temperature == 0 {
            p[argmax(logits, count: V)] = 1
            return p
        }
        var m = -Double.infinity
        for i in 0..<V { m = max(m, Double(logits[i])) }
        var sum = 0.0
        for i in 0..<V {
            p[i] = Math.exp((Double(logits[i]) - m) / temperature)
            sum += p[i]
        }
        for i in 0..<V { p[i] /= sum }
        return p
    }

    /// The index of the largest logit (the lowest index among ties).
    public static func argmax(_ logits: UnsafePointer<Float>, count V: Int) -> Int {
        var best = 0
        for i in 1..<V where logits[i] > logits[best] { best = i }
        return best
    }

    /// The definition above in place on Float, for the hot paths: x[0..<n] = softmax(scale · x),
    /// n > 0, scale > 0 (scale = 1/T), with the vectorised exp. Returns the largest scaled input
    /// and the sum of the exponentials before normalising (log Σ e^{scale·x} = max + log sum).
    /// `capacity` (≥ n, or 0): how many floats of x may be written; with room for it, the last
    /// n mod 8 exponentials are taken as one vector (the same bits, x[n..<capacity] overwritten).
    @inline(__always)
    static func forward(_ x: UnsafeMutablePointer<Float>, _ n: Int, scale: Float = 1, capacity: Int = 0) -> (max: Float, sum: Float) {
        let top = FastMath.max(x, n) * scale
        let raw = UnsafeMutableRawPointer(x)
        let vScale = Vec(repeating: scale), vShift = Vec(repeating: -top)
        var acc = Vec()
        var i = 0
        while i + 8 <= n {
            let e = FastMath.exp(vShift.addingProduct(raw.loadUnaligned(fromByteOffset: i * 4, as: Vec.self), vScale))
            raw.storeBytes(of: e, toByteOffset: i * 4, as: Vec.self)
            acc += e
            i += 8
        }
        var sum = acc.sum()
        if i < n && i + 8 <= capacity {
            // The last n mod 8 in one vector: each lane's exp is the scalar one's, and they are
            // still added one by one, in order.
            let e = FastMath.exp(vShift.addingProduct(raw.loadUnaligned(fromByteOffset: i * 4, as: Vec.self), vScale))
            raw.storeBytes(of: e, toByteOffset: i * 4, as: Vec.self)
            while i < n { sum += x[i]; i += 1 }
        }
        while i < n { x[i] = FastMath.exp(vShift.addingProduct(Vec(repeating: x[i]), vScale))[0]; sum += x[i]; i += 1 }
        let inv = 1 / sum
        i = 0
        while i + 8 <= n {
            raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: i * 4, as: Vec.self) * inv, toByteOffset: i * 4, as: Vec.self)
            i += 8
        }
        while i < n { x[i] *= inv; i += 1 }
        return (top, sum)
    }
}
