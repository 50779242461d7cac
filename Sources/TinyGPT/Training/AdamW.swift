// AdamW (Loshchilov & Hutter 2019) with PyTorch's update order, and global-norm gradient
// clipping (torch.nn.utils.clip_grad_norm_). One loop over the one parameter buffer, split
// into fixed chunks; sums are reduced in chunk order, so results do not depend on threads.

/// Optimizer state: the first and second moments of every parameter.
public final class AdamW {
    public let m: FloatBuffer
    public let v: FloatBuffer
    /// The buffer cut into chunks that never cross a tensor, each knowing whether it decays.
    private let chunks: [(offset: Int, count: Int, decays: Bool)]
    static let chunk = 16384

    /// An optimizer for `layout` that never touches the parameters in `frozen` (sorted,
    /// separate ranges): no moment, no decay, no update. With nothing frozen the chunks are
    /// the tensors cut in pieces, as always.
    public init(layout: ParameterLayout, frozen: [Range<Int>] = []) {
        m = FloatBuffer(count: layout.totalCount)
        v = FloatBuffer(count: layout.totalCount)
        var chunks: [(offset: Int, count: Int, decays: Bool)] = []
        for tensor in layout.tensors {
            // The tensor's span minus the frozen ranges, each piece cut into chunks.
            var pieces: [Range<Int>] = []
            var start = tensor.offset
            let end = tensor.offset + tensor.count
            for range in frozen where range.upperBound > start && range.lowerBound < end {
                if range.lowerBound > start { pieces.append(start..<range.lowerBound) }
                start = min(end, range.upperBound)
            }
            if start < end { pieces.append(start..<end) }
            for piece in pieces {
                var offset = piece.lowerBound
                while offset < piece.upperBound {
                    let n = min(Self.chunk, piece.upperBound - offset)
                    chunks.append((offset, n, tensor.decays))
                    offset += n
                }
            }
        }
        self.chunks = chunks
    }

    /// The L2 norm of all gradients (computed in Double per chunk, summed in chunk order).
    public static func globalNorm(_ grads: UnsafePointer<Float>, count: Int, context: KernelContext) -> Float {
        let tasks = (count + chunk - 1) / chunk
        let partial = context.partials.floats(tasks)
        context.pool.run(tasks) { task in
            var acc = Vec()
            var i = task * chunk
            let end = min(count, i + chunk)
            while i + 8 <= end {
                let g = UnsafeRawPointer(grads + i).loadUnaligned(as: Vec.self)
                acc = acc.addingProduct(g, g)
                i += 8
            }
            var sum = acc.sum()
            while i < end { sum += grads[i] * grads[i]; i += 1 }
            partial[task] = sum
        }
        var total: Double = 0
        for t in 0..<tasks { total += Double(partial[t]) }
        return Float(total.squareRoot())
    }

    /// One AdamW step at 1-based step number `t`: p ← p·(1 - lr·wd) for decaying tensors, then
    /// p ← p - lr · m̂ / (√v̂ + eps), with m̂, v̂ the bias-corrected moments of `gradScale · grads`.
    public func update(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                       gradScale: Float, learningRate lr: Float, step t: Int, settings: TrainingConfig,
                       context: KernelContext) {
        let b1 = settings.beta1, b2 = settings.beta2, eps = settings.epsilon
        let correction1 = 1 - Float(Math.pow(Double(b1), Double(t)))
        let correction2 = 1 - Float(Math.pow(Double(b2), Double(t)))
        let mp = m.pointer, vp = v.pointer
        let decayFactor = 1 - lr * settings.weightDecay
        chunks.withUnsafeBufferPointer { chunks in
            context.pool.run(chunks.count) { task in
                let chunk = chunks[task]
                let decay: Float = chunk.decays ? decayFactor : 1
                let vb1 = Vec(repeating: b1), vb2 = Vec(repeating: b2)
                let va1 = Vec(repeating: 1 - b1), va2 = Vec(repeating: 1 - b2)
                let vScale = Vec(repeating: gradScale), vDecay = Vec(repeating: decay)
                let vc1 = Vec(repeating: 1 / correction1), vc2 = Vec(repeating: 1 / correction2)
                let vlr = Vec(repeating: lr), veps = Vec(repeating: eps)
                var i = chunk.offset
                let end = chunk.offset + chunk.count
                while i + 8 <= end {
                    let g = UnsafeRawPointer(gradients + i).loadUnaligned(as: Vec.self) * vScale
                    let mRaw = UnsafeMutableRawPointer(mp + i), vRaw = UnsafeMutableRawPointer(vp + i)
                    let pRaw = UnsafeMutableRawPointer(parameters + i)
                    let m = vb1 * mRaw.loadUnaligned(as: Vec.self) + va1 * g
                    let v = vb2 * vRaw.loadUnaligned(as: Vec.self) + va2 * (g * g)
                    mRaw.storeBytes(of: m, as: Vec.self)
                    vRaw.storeBytes(of: v, as: Vec.self)
                    let update = (m * vc1) / ((v * vc2).squareRoot() + veps)
                    pRaw.storeBytes(of: pRaw.loadUnaligned(as: Vec.self) * vDecay - vlr * update, as: Vec.self)
                    i += 8
                }
                while i < end {
                    let g = gradients[i] * gradScale
                    mp[i] = b1 * mp[i] + (1 - b1) * g
                    vp[i] = b2 * vp[i] + (1 - b2) * (g * g)
                    let update = (mp[i] * (1 / correction1)) / ((vp[i] * (1 / correction2)).squareRoot() + eps)
                    parameters[i] = parameters[i] * decay - lr * update
                    i += 1
                }
            }
        }
    }
}
