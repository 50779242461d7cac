// Softmax followed by the negative log-likelihood of the target, fused as in llm.c:
// loss = -log softmax(logits)[target]; its gradient is softmax(logits) - onehot(target).
// Legend: N rows (= B·T), V vocabulary.

public enum CrossEntropy {
    static let rowsPerTask = 16

    /// probs (N, V) = softmax(logits) row by row; losses (N) = -log probs[target].
    /// `probs` may alias `logits`.
    public static func forward(_ losses: UnsafeMutablePointer<Float>, _ probs: UnsafeMutablePointer<Float>,
                               _ logits: UnsafePointer<Float>, _ targets: UnsafePointer<Int32>,
                               N: Int, V: Int, context: KernelContext) {
        context.pool.run((N + rowsPerTask - 1) / rowsPerTask) { task in
            for n in task * rowsPerTask..<min(N, (task + 1) * rowsPerTask) {
                let p = probs + n * V
                // Read the target's logit first: `probs` may alias `logits`.
                let targetLogit = logits[n * V + Int(targets[n])]
                if UnsafePointer(p) != logits + n * V { p.update(from: logits + n * V, count: V) }
                let (m, sum) = Softmax.forward(p, V)
                // -log p[target] from the logits, which stays finite when the probability underflows.
                losses[n] = (m + Math.log(sum)) - targetLogit
            }
        }
    }

    /// dlogits (N, V) = (probs - onehot(target)) · dloss, where dloss is the gradient of the
    /// total objective with respect to each row's loss (1/N for a mean). Overwrites `dlogits`,
    /// which may alias `probs`.
    public static func backward(_ dlogits: UnsafeMutablePointer<Float>, _ probs: UnsafePointer<Float>,
                                _ targets: UnsafePointer<Int32>, dloss: Float, N: Int, V: Int,
                                context: KernelContext) {
        context.pool.run((N + rowsPerTask - 1) / rowsPerTask) { task in
            for n in task * rowsPerTask..<min(N, (task + 1) * rowsPerTask) {
                let p = probs + n * V, d = dlogits + n * V
                for i in 0..<V { d[i] = p[i] * dloss }
                d[Int(targets[n])] -= dloss
            }
        }
    }
}
