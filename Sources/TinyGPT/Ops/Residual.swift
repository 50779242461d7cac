// The residual connection: out = a + b. Its backward sends dout to both inputs unchanged,
// which the model does by letting both branches accumulate into one gradient buffer.

public enum Residual {
    static let chunk = 8192

    /// out (N) = a (N) + b (N). Overwrites `out` (which may alias `a`).
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>,
                               _ b: UnsafePointer<Float>, count N: Int, context: KernelContext) {
        context.pool.run((N + chunk - 1) / chunk) { task in
            forward(out, a, b, range: task * chunk..<min(N, (task + 1) * chunk))
        }
    }

    /// The forward pass over out[range] only, on the calling thread.
    @inline(__always)
    static func forward(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                        range: Range<Int>) {
        for i in range { out[i] = a[i] + b[i] }
    }

    /// da (N) += dout, db (N) += dout.
    public static func backward(_ da: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>,
                                _ dout: UnsafePointer<Float>, count N: Int, context: KernelContext) {
        context.pool.run((N + chunk - 1) / chunk) { task in
            for i in task * chunk..<min(N, (task + 1) * chunk) {
                da[i] += dout[i]
                db[i] += dout[i]
            }
        }
    }
}
