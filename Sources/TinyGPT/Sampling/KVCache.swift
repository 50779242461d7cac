// Incremental inference with a key/value cache: each new character costs one position's
// work (matrix-vector products and attention over the cached keys and values) instead of
// recomputing the whole context, as nanoGPT's generate() does.
//
// When the cache is full (contextLength positions), the newest half of the characters is
// kept and re-encoded at positions 0..<T/2 in one batched forward pass, and generation goes on. Up to the first full
// window the logits are exactly the full forward pass's; after it, each character sees
// between T/2 and T characters of context instead of always T.

/// A GPT's weights, seen one position at a time, with a cache of past keys and values.
/// It keeps its own transposed copy of every weight matrix (taken at init), so that each
/// matrix-vector product streams the weights once with no horizontal sums.
public final class KVCache {
    public let model: GPT
    private var length = 0
    private let transposed: FloatBuffer
    private let blockWeights: [(qkv: Int, attnProj: Int, fc: Int, mlpProj: Int)]
    private let headWeights: Int
    private var history: [Int32] = []
    private let keys: [FloatBuffer]    // per layer Kᵀ (C, T): scores run along positions
    private let values: [FloatBuffer]  // per layer (T, C)
    private let x, h, qkv, y, fc, fcGelu, branch, scores, mean, rstd: FloatBuffer
    /// The logits (V) for the character after the last one fed.
    public let logits: FloatBuffer

    public init(model: GPT) {
        self.model = model
        let c = model.config, C = c.modelWidth, T = c.contextLength
        keys = (0..<c.layerCount).map { _ in FloatBuffer(count: T * C) }
        values = (0..<c.layerCount).map { _ in FloatBuffer(count: T * C) }
        x = FloatBuffer(count: C); h = FloatBuffer(count: C); qkv = FloatBuffer(count: 3 * C)
        y = FloatBuffer(count: C); fc = FloatBuffer(count: 4 * C); fcGelu = FloatBuffer(count: 4 * C)
        branch = FloatBuffer(count: C); scores = FloatBuffer(count: T)
        mean = FloatBuffer(count: 1); rstd = FloatBuffer(count: 1)
        logits = FloatBuffer(count: c.vocabSize)
        // Wᵀ (in, out) for every weight matrix, in one buffer.
        let layout = model.layout
        var size = 0
        func reserve(_ count: Int) -> Int { defer { size += count }; return size }
        blockWeights = layout.blocks.map { _ in
            (reserve(3 * C * C), reserve(C * C), reserve(4 * C * C), reserve(4 * C * C))
        }
        headWeights = reserve(c.vocabSize * C)
        transposed = FloatBuffer(count: size)
        let p = model.parameters.pointer, t = transposed.pointer
        func transpose(_ source: Int, rows: Int, cols: Int, into target: Int) {
            for r in 0..<rows { for k in 0..<cols { t[target + k * rows + r] = p[source + r * cols + k] } }
        }
        for (b, w) in zip(layout.blocks, blockWeights) {
            transpose(b.qkvWeight, rows: 3 * C, cols: C, into: w.qkv)
            transpose(b.attnProjWeight, rows: C, cols: C, into: w.attnProj)
            transpose(b.fcWeight, rows: 4 * C, cols: C, into: w.fc)
            transpose(b.mlpProjWeight, rows: C, cols: 4 * C, into: w.mlpProj)
        }
        transpose(layout.tokenEmbedding, rows: c.vocabSize, cols: C, into: headWeights)
    }

    /// out (OC) = W · inp + bias, with W given transposed as (C, OC). Large products are split
    /// by output columns (at multiples of 32) over the pool's threads; each output is summed
    /// in the same order either way.
    @inline(__always)
    private func matVec(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weightT: Int,
                        _ bias: UnsafePointer<Float>?, C: Int, OC: Int) {
        let w = UnsafePointer(transposed.pointer + weightT)
        let parts = C * OC >= 32_768 ? min(model.context.pool.threadCount, (OC + 31) / 32) : 1
        let width = ((OC + parts - 1) / parts + 31) / 32 * 32
        model.context.pool.run(parts) { part in
            let o0 = part * width, o1 = min(OC, o0 + width)
            guard o0 < o1 else { return }
            FastMath.weightedSum(out + o0, inp, wStride: 1, w + o0, xStride: OC, count: C, n: o1 - o0)
            if let bias { for o in o0..<o1 { out[o] += bias[o] } }
        }
    }

    /// Forgets everything fed so far.
    public func reset() {
        length = 0
        history.removeAll(keepingCapacity: true)
    }

    /// Feeds characters in order; afterwards `logits` predicts the next one.
    ///
    /// The window these characters leave is worked out first. If it starts afresh (an empty
    /// cache, or a wrap), the whole window goes through the model's batched forward pass at
    /// once, which streams each weight matrix once for all positions; otherwise the new
    /// characters are stepped one position at a time.
    public func feed<S: Sequence>(_ tokens: S) where S.Element == Int32 {
        let T = model.config.contextLength, kept = max(1, T / 2)
        let old = history.count
        var wrapped = false
        for token in tokens {
            history.append(token)
            if history.count > T {
                history.removeFirst(history.count - kept)
                wrapped = true
            }
        }
        if wrapped || length == 0 {
            if !history.isEmpty { encode(history) }
        } else {
            for token in history[old...] { step(token) }
        }
    }

    /// Feeds one character.
    public func feed(_ token: Int32) { feed(CollectionOfOne(token)) }

    /// Fills the cache from scratch with `window` (at most T characters) in one forward pass.
    private func encode(_ window: [Int32]) {
        let C = model.config.modelWidth, T = model.config.contextLength, n = window.count
        window.withUnsafeBufferPointer { model.forward(tokens: $0.baseAddress!, B: 1, T: n) }
        for l in 0..<model.config.layerCount {
            let qkv = model.queryKeyValues(layer: l).baseAddress!, K = keys[l].pointer, V = values[l].pointer
            for t in 0..<n {
                let row = qkv + t * 3 * C
                for i in 0..<C { K[i * T + t] = row[C + i] }
                (V + t * C).update(from: row + 2 * C, count: C)
            }
        }
        logits.pointer.update(from: model.logits(row: n - 1), count: model.config.vocabSize)
        length = n
    }

    /// One position through every layer: x = wte[token] + wpe[pos], blocks, ln_f, logits.
    private func step(_ token: Int32) {
        let c = model.config, C = c.modelWidth, NH = c.headCount, hs = C / NH, T = c.contextLength
        let layout = model.layout, p = UnsafePointer(model.parameters.pointer), ctx = model.context
        let pos = length
        let e = p + layout.tokenEmbedding + Int(token) * C, w = p + layout.positionEmbedding + pos * C
        for i in 0..<C { x.pointer[i] = e[i] + w[i] }
        let scale = 1 / Float(hs).squareRoot()
        for l in 0..<c.layerCount {
            let b = layout.blocks[l], tw = blockWeights[l]
            LayerNorm.forward(h.pointer, mean.pointer, rstd.pointer, x.pointer, p + b.ln1Weight, p + b.ln1Bias,
                              N: 1, C: C, context: ctx)
            matVec(qkv.pointer, h.pointer, tw.qkv, p + b.qkvBias, C: C, OC: 3 * C)
            let K = keys[l].pointer, V = values[l].pointer
            for i in 0..<C { K[i * T + pos] = qkv.pointer[C + i] }
            (V + pos * C).update(from: qkv.pointer + 2 * C, count: C)
            for head in 0..<NH {
                let s = scores.pointer
                // s[t] = q · k_t over the cached positions, then softmax, then out = Σ s[t] v_t.
                FastMath.weightedSum(s, qkv.pointer + head * hs, wStride: 1, K + head * hs * T, xStride: T,
                                     count: hs, n: pos + 1)
                for t in 0...pos { s[t] *= scale }
                let m = FastMath.max(s, pos + 1)
                let inv = 1 / FastMath.expShifted(s, pos + 1, shift: m)
                for t in 0...pos { s[t] *= inv }
                FastMath.weightedSum(y.pointer + head * hs, s, wStride: 1, V + head * hs, xStride: C,
                                     count: pos + 1, n: hs)
            }
            matVec(branch.pointer, y.pointer, tw.attnProj, p + b.attnProjBias, C: C, OC: C)
            for i in 0..<C { x.pointer[i] += branch.pointer[i] }
            LayerNorm.forward(h.pointer, mean.pointer, rstd.pointer, x.pointer, p + b.ln2Weight, p + b.ln2Bias,
                              N: 1, C: C, context: ctx)
            matVec(fc.pointer, h.pointer, tw.fc, p + b.fcBias, C: C, OC: 4 * C)
            GELU.forward(fcGelu.pointer, fc.pointer, count: 4 * C, form: c.gelu, context: ctx)
            matVec(branch.pointer, fcGelu.pointer, tw.mlpProj, p + b.mlpProjBias, C: 4 * C, OC: C)
            for i in 0..<C { x.pointer[i] += branch.pointer[i] }
        }
        LayerNorm.forward(h.pointer, mean.pointer, rstd.pointer, x.pointer, p + layout.finalNormWeight,
                          p + layout.finalNormBias, N: 1, C: C, context: ctx)
        matVec(logits.pointer, h.pointer, headWeights, nil, C: C, OC: c.vocabSize)
        length += 1
    }
}
