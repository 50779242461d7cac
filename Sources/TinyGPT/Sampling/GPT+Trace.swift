// A trace of one forward pass over a prompt: the numbers the inspector page shows.
// Everything is read from the model's own activations after `GPT.forward` (no second
// forward), then recomputed step by step where the page explains a step:
//
//   attention of head h (Vaswani et al. 2017, §3.2.1):  s_tj = q_t·k_j,  a_tj = softmax_j≤t(s_tj / √d_head),
//                                                        out_t = Σ_j a_tj v_j
//   residual stream (GPT-2 pre-norm blocks):             x⁰ = wte + wpe,  x^(l+½) = x^l + attn,  x^(l+1) = x^(l+½) + mlp
//   logit lens (nostalgebraist 2020):                    logits^l = ln_f(x^l) · wteᵀ
//
// Legend: T prompt length, C channels, NH heads, hs head width, V vocabulary, L layers.

/// One attention head over the prompt: each row t is query position t, each column j a key.
public struct HeadTrace: Sendable {
    /// Raw scores q_t·k_j (T, T), row-major; zero above the diagonal (masked).
    public var scores: [Float]
    /// 1/√hs, the scale applied to the scores before the softmax.
    public var scale: Float
    /// The model's attention weights softmax_j≤t(s_tj·scale) (T, T); zero above the diagonal.
    public var weights: [Float]
    /// ‖a_tj v_j‖ (T, T): how much of position j's value vector row t takes.
    public var valueSizes: [Float]
}

/// The logit lens at one position: the most likely next characters if the model stopped here.
public struct LensCandidate: Equatable, Sendable {
    public var id: Int
    public var probability: Double
}

/// The residual stream at one point: after the embedding (block nil) or after a block.
public struct StreamStage: Sendable {
    /// nil for the embedding, else the block's index.
    public var block: Int?
    /// ‖x_t‖ per position (T).
    public var streamSizes: [Float]
    /// ‖attention branch‖ and ‖MLP branch‖ per position that this block added (T); empty for the embedding.
    public var attentionSizes: [Float]
    public var mlpSizes: [Float]
    /// Top candidates of ln_f(x_t)·wteᵀ at T = 1 per position (T lists).
    public var lens: [[LensCandidate]]
    /// The lens's logits (V) at the last position.
    public var lastLogits: [Float]
}

/// Everything the inspector shows about one prompt.
public struct ForwardTrace: Sendable {
    public var config: GPTConfig
    public var tokens: [Int32]
    /// The model's logits (V) for the character after the prompt.
    public var logits: [Float]
    /// heads[layer][head].
    public var heads: [[HeadTrace]]
    /// The embedding, then one stage per block (L + 1).
    public var stages: [StreamStage]
    /// A summary of what each head looks at: summaries[layer][head].
    public var summaries: [[HeadSummary]]
}

extension GPT {
    /// Runs the model on `tokens` (1 ≤ count ≤ contextLength) and returns the trace.
    /// `newline` and `space` are the ids of "\n" and " " if the vocabulary has them (for the
    /// start-of-line and start-of-word patterns); `lensCount` candidates are kept per position and stage.
    public func trace(tokens: [Int32], newline: Int32?, space: Int32?, lensCount: Int = 5) -> ForwardTrace {
        let T = tokens.count
        precondition(T >= 1 && T <= config.contextLength, "the prompt must have 1...contextLength characters")
        tokens.withUnsafeBufferPointer { forward(tokens: $0.baseAddress!, B: 1, T: T) }
        let C = config.modelWidth, NH = config.headCount, hs = config.headWidth, V = config.vocabSize
        let logits = Array(UnsafeBufferPointer(start: self.logits(row: T - 1), count: V))

        var heads: [[HeadTrace]] = []
        var stages: [StreamStage] = []
        var summaries: [[HeadSummary]] = []
        let first = streams(layer: 0)
        stages.append(stage(block: nil, stream: first.embedded, before: nil, middle: nil, T: T, lensCount: lensCount))
        let scale = 1 / Float(hs).squareRoot()
        for l in 0..<config.layerCount {
            let s = streams(layer: l)
            let att = attention(layer: l)
            var layerHeads: [HeadTrace] = []
            for h in 0..<NH {
                var scores = [Float](repeating: 0, count: T * T)
                var sizes = [Float](repeating: 0, count: T * T)
                let weights = Array(att[(h * T * T)..<((h + 1) * T * T)])
                for t in 0..<T {
                    let q = s.qkv + t * 3 * C + h * hs
                    for j in 0...t {
                        let k = s.qkv + j * 3 * C + C + h * hs
                        let v = s.qkv + j * 3 * C + 2 * C + h * hs
                        var dot = 0.0, vv = 0.0
                        for i in 0..<hs {
                            dot += Double(q[i]) * Double(k[i])
                            vv += Double(v[i]) * Double(v[i])
                        }
                        scores[t * T + j] = Float(dot)
                        sizes[t * T + j] = Float(Double(weights[t * T + j]) * vv.squareRoot())
                    }
                }
                layerHeads.append(HeadTrace(scores: scores, scale: scale, weights: weights, valueSizes: sizes))
            }
            heads.append(layerHeads)
            summaries.append(layerHeads.map { HeadSummary(weights: $0.weights, tokens: tokens, newline: newline, space: space) })
            let before = l == 0 ? s.embedded : streams(layer: l - 1).afterBlock
            stages.append(stage(block: l, stream: s.afterBlock, before: before, middle: s.afterAttention, T: T,
                                lensCount: lensCount))
        }
        return ForwardTrace(config: config, tokens: tokens, logits: logits, heads: heads, stages: stages,
                            summaries: summaries)
    }

    /// The logit lens ln_f(x)·wteᵀ (T, V) of a stream x (T, C), with the model's own kernels, so
    /// that after the last block it gives the model's logits bit for bit.
    public func logitLens(_ x: UnsafePointer<Float>, T: Int) -> [Float] {
        let C = config.modelWidth, V = config.vocabSize
        let params = UnsafePointer(parameters.pointer)
        let normed = FloatBuffer(count: T * C), mean = FloatBuffer(count: T), rstd = FloatBuffer(count: T)
        LayerNorm.forward(normed.pointer, mean.pointer, rstd.pointer, x, params + layout.finalNorm.weight,
                          params + layout.finalNorm.bias, N: T, C: C, context: context)
        var out = [Float](repeating: 0, count: T * V)
        out.withUnsafeMutableBufferPointer {
            Linear.forward($0.baseAddress!, normed.pointer, params + layout.tokenEmbedding, nil, N: T, C: C, OC: V,
                           context: context)
        }
        return out
    }

    private func stage(block: Int?, stream x: UnsafePointer<Float>, before: UnsafePointer<Float>?,
                       middle: UnsafePointer<Float>?, T: Int, lensCount: Int) -> StreamStage {
        let C = config.modelWidth, V = config.vocabSize
        func size(_ a: UnsafePointer<Float>, minus b: UnsafePointer<Float>?) -> Float {
            var sum = 0.0
            for i in 0..<C {
                let d = Double(a[i]) - (b.map { Double($0[i]) } ?? 0)
                sum += d * d
            }
            return Float(sum.squareRoot())
        }
        let streamSizes = (0..<T).map { size(x + $0 * C, minus: nil) }
        var attentionSizes: [Float] = [], mlpSizes: [Float] = []
        if let before, let middle {
            attentionSizes = (0..<T).map { size(middle + $0 * C, minus: before + $0 * C) }
            mlpSizes = (0..<T).map { size(x + $0 * C, minus: middle + $0 * C) }
        }
        let lensLogits = logitLens(x, T: T)
        let lens: [[LensCandidate]] = lensLogits.withUnsafeBufferPointer { all in
            (0..<T).map { t in
                let p = Softmax.probabilities(all.baseAddress! + t * V, count: V, temperature: 1)
                let order = p.indices.sorted { p[$0] != p[$1] ? p[$0] > p[$1] : $0 < $1 }
                return order.prefix(lensCount).map { LensCandidate(id: $0, probability: p[$0]) }
            }
        }
        return StreamStage(block: block, streamSizes: streamSizes, attentionSizes: attentionSizes, mlpSizes: mlpSizes,
                           lens: lens, lastLogits: Array(lensLogits[((T - 1) * V)...]))
    }
}
