// Layer normalisation over the last dimension (Ba, Kiros & Hinton 2016; PyTorch nn.LayerNorm,
// eps = 1e-5). Legend: N rows, C features. Rows are summed with eight-lane accumulators
// (then the lanes in order), so results are fixed for a given C.

public enum LayerNorm {
    static let eps: Float = 1e-5
    static let rowsPerTask = 32

    /// out (N, C) = (inp - mean) · rstd · weight + bias, row by row; saves mean (N) and rstd (N).
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>,
                               _ rstd: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                               _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                               N: Int, C: Int, context: KernelContext) {
        context.pool.run((N + rowsPerTask - 1) / rowsPerTask) { task in
            for n in task * rowsPerTask..<min(N, (task + 1) * rowsPerTask) {
                (mean[n], rstd[n]) = forwardRow(out + n * C, inp + n * C, weight, bias, C: C)
            }
        }
    }

    /// One row of the forward pass: y (C) = (x - mean) · rstd · weight + bias; returns mean and rstd.
    @inline(__always)
    static func forwardRow(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                           _ bias: UnsafePointer<Float>, C: Int) -> (mean: Float, rstd: Float) {
        let C8 = C & ~7
        var acc = Vec()
        for i in stride(from: 0, to: C8, by: 8) { acc += load(x + i) }
        var sum = acc.sum()
        for i in C8..<C { sum += x[i] }
        let m = sum / Float(C)
        let vm = Vec(repeating: m)
        acc = Vec()
        for i in stride(from: 0, to: C8, by: 8) { let d = load(x + i) - vm; acc += d * d }
        var sq = acc.sum()
        for i in C8..<C { let d = x[i] - m; sq += d * d }
        let s = 1 / (sq / Float(C) + eps).squareRoot()
        let vs = Vec(repeating: s)
        for i in stride(from: 0, to: C8, by: 8) {
            store((load(x + i) - vm) * vs * load(weight + i) + load(bias + i), y + i)
        }
        for i in C8..<C { y[i] = (x[i] - m) * s * weight[i] + bias[i] }
        return (m, s)
    }

    /// Backward of the forward above, given its saved mean and rstd:
    /// dinp (N, C) += rstd · (g - mean(g) - x̂ · mean(g · x̂)) with g = dout · weight and
    /// x̂ = (inp - mean) · rstd; dweight (C) += Σₙ dout · x̂; dbias (C) += Σₙ dout.
    public static func backward(_ dinp: UnsafeMutablePointer<Float>, _ dweight: UnsafeMutablePointer<Float>,
                                _ dbias: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                                _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                                _ mean: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>,
                                N: Int, C: Int, context: KernelContext) {
        let tasks = (N + rowsPerTask - 1) / rowsPerTask
        let C8 = C & ~7
        // Each task sums dweight and dbias over its rows into its own slot; the slots are then
        // added in task order, so the result does not depend on the threads.
        let partial = context.partials.floats(tasks * 2 * C)
        context.pool.run(tasks) { task in
            let pw = partial + task * 2 * C, pb = pw + C
            pw.update(repeating: 0, count: 2 * C)
            for n in task * rowsPerTask..<min(N, (task + 1) * rowsPerTask) {
                let x = inp + n * C, dy = dout + n * C, dx = dinp + n * C
                let m = mean[n], s = rstd[n]
                let vm = Vec(repeating: m), vs = Vec(repeating: s)
                var gAcc = Vec(), gxAcc = Vec()
                for i in stride(from: 0, to: C8, by: 8) {
                    let xhat = (load(x + i) - vm) * vs
                    let g = load(weight + i) * load(dy + i)
                    gAcc += g
                    gxAcc += g * xhat
                }
                var gMean = gAcc.sum(), gxMean = gxAcc.sum()
                for i in C8..<C {
                    let xhat = (x[i] - m) * s
                    let g = weight[i] * dy[i]
                    gMean += g
                    gxMean += g * xhat
                }
                gMean /= Float(C)
                gxMean /= Float(C)
                let vg = Vec(repeating: gMean), vgx = Vec(repeating: gxMean)
                for i in stride(from: 0, to: C8, by: 8) {
                    let xhat = (load(x + i) - vm) * vs
                    let d = load(dy + i)
                    store(load(pb + i) + d, pb + i)
                    store(load(pw + i) + xhat * d, pw + i)
                    store(load(dx + i) + (load(weight + i) * d - vg - xhat * vgx) * vs, dx + i)
                }
                for i in C8..<C {
                    let xhat = (x[i] - m) * s
                    pb[i] += dy[i]
                    pw[i] += xhat * dy[i]
                    dx[i] += (weight[i] * dy[i] - gMean - xhat * gxMean) * s
                }
            }
        }
        for task in 0..<tasks {
            let pw = partial + task * 2 * C, pb = pw + C
            for i in 0..<C {
                dweight[i] += pw[i]
                dbias[i] += pb[i]
            }
        }
    }

    @inline(__always) private static func load(_ p: UnsafePointer<Float>) -> Vec {
        UnsafeRawPointer(p).loadUnaligned(as: Vec.self)
    }
    @inline(__always) private static func load(_ p: UnsafeMutablePointer<Float>) -> Vec {
        UnsafeRawPointer(p).loadUnaligned(as: Vec.self)
    }
    @inline(__always) private static func store(_ v: Vec, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec.self)
    }
}
