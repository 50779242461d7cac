// Inverted dropout (Srivastava et al. 2014; PyTorch nn.Dropout): in training each element
// is zeroed with probability p and the survivors are scaled by 1/(1-p); at eval it is the
// identity and is skipped. The mask comes from the trainer's seeded generator, drawn in
// element order on one thread, so it is the same for the same seed.

public enum Dropout {
    /// Draws mask (N) ∈ {0, 1/(1-p)} and sets out (N) = inp · mask. `out` may alias `inp`.
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ mask: UnsafeMutablePointer<Float>,
                               _ inp: UnsafePointer<Float>, count N: Int, p: Float,
                               rng: inout RandomGenerator) {
        drawMask(mask, count: N, p: p, rng: &rng)
        apply(out, mask, inp, range: 0..<N)
    }

    /// Draws mask (N) ∈ {0, 1/(1-p)}, for `apply` to use later (on blocks, in any order).
    public static func drawMask(_ mask: UnsafeMutablePointer<Float>, count N: Int, p: Float,
                                rng: inout RandomGenerator) {
        let scale = 1 / (1 - p)
        for i in 0..<N { mask[i] = rng.nextFloat() < p ? 0 : scale }
    }

    /// out[range] = inp · mask. `out` may alias `inp`.
    @inline(__always)
    static func apply(_ out: UnsafeMutablePointer<Float>, _ mask: UnsafePointer<Float>, _ inp: UnsafePointer<Float>,
                      range: Range<Int>) {
        for i in range { out[i] = inp[i] * mask[i] }
    }

    /// dinp (N) = dout · mask. Overwrites `dinp` (which may alias `dout`).
    public static func backward(_ dinp: UnsafeMutablePointer<Float>, _ mask: UnsafePointer<Float>,
                                _ dout: UnsafePointer<Float>, count N: Int) {
        apply(dinp, mask, dout, range: 0..<N)
    }
}
