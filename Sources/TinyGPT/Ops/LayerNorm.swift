// Layer normalisation over the last dimension (Ba, Kiros & Hinton 2016; PyTorch nn.LayerNorm,
// eps = 1e-5). Legend: N rows, C features.

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
                let x = inp + n * C
                var sum: Float = 0
                for i in 0..<C { sum += x[i] }
                let m = sum / Float(C)
                var sq: Float = 0
                for i in 0..<C { let d = x[i] - m; sq += d * d }
                let s = 1 / (sq / Float(C) + eps).squareRoot()
                let y = out + n * C
                for i in 0..<C { y[i] = (x[i] - m) * s * weight[i] + bias[i] }
                mean[n] = m
                rstd[n] = s
            }
        }
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
        // Each task sums dweight and dbias over its rows into its own slot; the slots are then
        // added in task order, so the result does not depend on the threads.
        let partial = context.partials.floats(tasks * 2 * C)
        context.pool.run(tasks) { task in
            let pw = partial + task * 2 * C, pb = pw + C
            pw.update(repeating: 0, count: 2 * C)
            for n in task * rowsPerTask..<min(N, (task + 1) * rowsPerTask) {
                let x = inp + n * C, dy = dout + n * C, dx = dinp + n * C
                let m = mean[n], s = rstd[n]
                var gMean: Float = 0, gxMean: Float = 0
                for i in 0..<C {
                    let xhat = (x[i] - m) * s
                    let g = weight[i] * dy[i]
                    gMean += g
                    gxMean += g * xhat
                }
                gMean /= Float(C)
                gxMean /= Float(C)
                for i in 0..<C {
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
}
