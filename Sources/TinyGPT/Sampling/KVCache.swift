// Incremental inference with a key/value cache: each new character costs one position's
// work (matrix-vector products and attention over the cached keys and values) instead of
// recomputing the whole context, as nanoGPT's generate() does.
//
// When the cache is full (contextLength positions), the newest half of the characters is
// kept and re-encoded at positions 0..<T/2, and generation goes on. Up to the first full
// window the logits are the full forward pass's (to rounding); after it, each character sees
// between T/2 and T characters of context instead of always T.
//
// One new position is memory-bound: it streams every weight once. The cache keeps its own
// copy of each weight matrix in panels of 64 output columns, each panel contiguous, so a
// product reads memory in order with eight accumulators in registers. Several positions at
// once (a prompt, a re-encoded window) go through each panel row by row while it sits in
// cache, so the weights are streamed once for all of them.
//
// A call runs as one parallel region: every thread takes a fixed share of each product's
// panels and of the heads, and the threads meet at a barrier between dependent phases (five
// per layer). The small per-position work (embedding, LayerNorm, residual adds) is repeated
// by every thread on its own copy of x, which costs less than another barrier. Which thread
// computes a column never changes how it is computed, and a position's numbers do not depend
// on how many positions were fed with it, so results are the same for any thread count.

/// A GPT's weights, seen one position at a time, with a cache of past keys and values.
public final class KVCache {
    public let model: GPT
    private var length = 0
    private var history: [Int32] = []
    private let panels: FloatBuffer
    private let blockWeights: [(qkv: PanelMatrix, attnProj: PanelMatrix, fc: PanelMatrix, mlpProj: PanelMatrix)]
    private let head: PanelMatrix
    private let keys: [FloatBuffer]    // per layer Kᵀ (C, T): scores run along positions
    private let values: [FloatBuffer]  // per layer (T, C)
    private let qkv, y, fc, fcGelu, branch: FloatBuffer
    /// Per thread: x (T, C), its LayerNorm (T, C), attention scores (T).
    private let threadScratch: FloatBuffer
    /// The logits (V) for the character after the last one fed.
    public let logits: FloatBuffer

    public init(model: GPT) {
        self.model = model
        let c = model.config, C = c.modelWidth, T = c.contextLength
        keys = (0..<c.layerCount).map { _ in FloatBuffer(count: T * C) }
        values = (0..<c.layerCount).map { _ in FloatBuffer(count: T * C) }
        qkv = FloatBuffer(count: T * 3 * C); y = FloatBuffer(count: T * C); fc = FloatBuffer(count: T * 4 * C)
        fcGelu = FloatBuffer(count: T * 4 * C); branch = FloatBuffer(count: T * C)
        threadScratch = FloatBuffer(count: model.context.pool.threadCount * (2 * T * C + T))
        logits = FloatBuffer(count: c.vocabSize)
        let layout = model.layout
        var size = 0
        func reserve(_ rows: Int, _ cols: Int) -> PanelMatrix {
            defer { size += PanelMatrix(offset: 0, inputs: cols, outputs: rows).floatCount }
            return PanelMatrix(offset: size, inputs: cols, outputs: rows)
        }
        blockWeights = layout.blocks.map { _ in (reserve(3 * C, C), reserve(C, C), reserve(4 * C, C), reserve(C, 4 * C)) }
        head = reserve(c.vocabSize, C)
        panels = FloatBuffer(count: size)
        let p = model.parameters.pointer
        for (b, w) in zip(layout.blocks, blockWeights) {
            w.qkv.fill(panels.pointer, from: p + b.qkvWeight)
            w.attnProj.fill(panels.pointer, from: p + b.attnProjWeight)
            w.fc.fill(panels.pointer, from: p + b.fcWeight)
            w.mlpProj.fill(panels.pointer, from: p + b.mlpProjWeight)
        }
        head.fill(panels.pointer, from: p + layout.tokenEmbedding)
    }

    /// Forgets everything fed so far.
    public func reset() {
        length = 0
        history.removeAll(keepingCapacity: true)
    }

    /// Feeds characters in order; afterwards `logits` predicts the next one.
    /// The window they leave is worked out first; if it wrapped, it is re-encoded from position 0.
    public func feed<S: Sequence>(_ tokens: S) where S.Element == Int32 {
        let T = model.config.contextLength, kept = max(1, T / 2)
        for token in tokens {
            history.append(token)
            if history.count > T {
                history.removeFirst(history.count - kept)
                length = 0
            }
        }
        if length < history.count { advance(history[length...]) }
    }

    /// Feeds one character.
    public func feed(_ token: Int32) { feed(CollectionOfOne(token)) }

    /// Positions length ..< length+n (holding `tokens`) through every layer, their keys and
    /// values into the cache, and the last one's logits: x = wte[token] + wpe[pos], blocks, ln_f, head.
    private func advance(_ tokens: ArraySlice<Int32>) {
        let c = model.config, C = c.modelWidth, NH = c.headCount, hs = C / NH, T = c.contextLength
        let layout = model.layout, p = UnsafePointer(model.parameters.pointer)
        let first = length, n = tokens.count, P = model.context.pool.threadCount
        let scale = 1 / Float(hs).squareRoot(), w = UnsafePointer(panels.pointer)
        let qkv = qkv.pointer, y = y.pointer, fc = fc.pointer, fcGelu = fcGelu.pointer, branch = branch.pointer
        let scratch = threadScratch.pointer
        precondition(n >= 1 && first + n <= T)
        tokens.withUnsafeBufferPointer { ids in
            model.context.pool.runTogether { thread, barrier in
                let x = scratch + thread * (2 * T * C + T), h = x + T * C, s = h + T * C
                // Fixed shares: panels [n·t/P, n·(t+1)/P) of each product, and heads t, t+P, ….
                func share(_ m: PanelMatrix) -> Range<Int> { m.panelCount * thread / P..<m.panelCount * (thread + 1) / P }
                for r in 0..<n {
                    let e = p + layout.tokenEmbedding + Int(ids[r]) * C, wpe = p + layout.positionEmbedding + (first + r) * C
                    for i in 0..<C { x[r * C + i] = e[i] + wpe[i] }
                }
                for l in 0..<c.layerCount {
                    let b = layout.blocks[l], m = blockWeights[l]
                    let K = keys[l].pointer, V = values[l].pointer
                    for r in 0..<n { _ = LayerNorm.forwardRow(h + r * C, x + r * C, p + b.ln1Weight, p + b.ln1Bias, C: C) }
                    m.qkv.multiply(w, h, into: qkv, rows: n, bias: p + b.qkvBias, panels: share(m.qkv))
                    barrier.wait()
                    for head in stride(from: thread, to: NH, by: P) {
                        for r in 0..<n {
                            let pos = first + r, row = qkv + r * 3 * C
                            let q = row + head * hs, k = row + C + head * hs, v = row + 2 * C + head * hs
                            for i in 0..<hs { K[(head * hs + i) * T + pos] = k[i] }
                            (V + pos * C + head * hs).update(from: v, count: hs)
                            // s[t] = q · k_t over positions 0...pos, then softmax, then y = Σ s[t] v_t.
                            FastMath.weightedSum(s, q, wStride: 1, K + head * hs * T, xStride: T, count: hs, n: pos + 1)
                            _ = FastMath.softmax(s, pos + 1, scale: scale)
                            FastMath.weightedSum(y + r * C + head * hs, s, wStride: 1, V + head * hs, xStride: C,
                                                 count: pos + 1, n: hs)
                        }
                    }
                    barrier.wait()
                    m.attnProj.multiply(w, y, into: branch, rows: n, bias: p + b.attnProjBias, panels: share(m.attnProj))
                    barrier.wait()
                    for i in 0..<n * C { x[i] += branch[i] }
                    for r in 0..<n { _ = LayerNorm.forwardRow(h + r * C, x + r * C, p + b.ln2Weight, p + b.ln2Bias, C: C) }
                    let mine = share(m.fc), columns = m.fc.columns(mine)
                    m.fc.multiply(w, h, into: fc, rows: n, bias: p + b.fcBias, panels: mine)
                    for r in 0..<n { GELU.forward(fcGelu + r * 4 * C, fc + r * 4 * C, range: columns, form: c.gelu) }
                    barrier.wait()
                    m.mlpProj.multiply(w, fcGelu, into: branch, rows: n, bias: p + b.mlpProjBias, panels: share(m.mlpProj))
                    barrier.wait()
                    for i in 0..<n * C { x[i] += branch[i] }
                }
                let last = (n - 1) * C
                _ = LayerNorm.forwardRow(h, x + last, p + layout.finalNormWeight, p + layout.finalNormBias, C: C)
                head.multiply(w, h, into: logits.pointer, rows: 1, bias: nil, panels: share(head))
            }
        }
        length += n
    }
}

/// Where one weight matrix (OC, C) sits in the cache's panel storage: panel j holds output
/// columns 64j ..< 64j+64 as a (C, 64) row-major block, zero past OC.
private struct PanelMatrix {
    static let width = 64
    let offset: Int
    let inputs: Int    // C
    let outputs: Int   // OC

    var panelCount: Int { (outputs + Self.width - 1) / Self.width }
    var floatCount: Int { panelCount * inputs * Self.width }

    /// The output columns of a range of panels.
    func columns(_ panels: Range<Int>) -> Range<Int> {
        min(outputs, panels.lowerBound * Self.width)..<min(outputs, panels.upperBound * Self.width)
    }

    /// Copies the weight (OC, C), row-major, into this matrix's panels.
    func fill(_ storage: UnsafeMutablePointer<Float>, from weight: UnsafePointer<Float>) {
        let base = storage + offset
        base.update(repeating: 0, count: floatCount)
        for o in 0..<outputs {
            let panel = base + (o / Self.width) * inputs * Self.width, column = o % Self.width
            for k in 0..<inputs { panel[k * Self.width + column] = weight[o * inputs + k] }
        }
    }

    /// out (rows, OC) = inp (rows, C) · Wᵀ + bias, over the given panels' columns only: each
    /// output is the sum over k in order of inp[k]·W[o, k] (fused multiply-adds), then the bias.
    /// A panel is read once per row while it stays in cache.
    @inline(__always)
    func multiply(_ storage: UnsafePointer<Float>, _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                  rows: Int, bias: UnsafePointer<Float>?, panels: Range<Int>) {
        for j in panels {
            for r in 0..<rows {
                multiply(storage, input + r * inputs, into: output + r * outputs, bias: bias, panel: j)
            }
        }
    }

    /// One row, one panel: out[64j ..< 64j+64] (clipped to OC).
    @inline(__always)
    private func multiply(_ storage: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                          bias: UnsafePointer<Float>?, panel j: Int) {
        let w = UnsafeRawPointer(storage + offset + j * inputs * Self.width)
        var a0 = Vec(), a1 = Vec(), a2 = Vec(), a3 = Vec(), a4 = Vec(), a5 = Vec(), a6 = Vec(), a7 = Vec()
        for k in 0..<inputs {
            let x = Vec(repeating: inp[k]), row = w + k * Self.width * 4
            a0 = a0.addingProduct(x, row.loadUnaligned(fromByteOffset: 0, as: Vec.self))
            a1 = a1.addingProduct(x, row.loadUnaligned(fromByteOffset: 32, as: Vec.self))
            a2 = a2.addingProduct(x, row.loadUnaligned(fromByteOffset: 64, as: Vec.self))
            a3 = a3.addingProduct(x, row.loadUnaligned(fromByteOffset: 96, as: Vec.self))
            a4 = a4.addingProduct(x, row.loadUnaligned(fromByteOffset: 128, as: Vec.self))
            a5 = a5.addingProduct(x, row.loadUnaligned(fromByteOffset: 160, as: Vec.self))
            a6 = a6.addingProduct(x, row.loadUnaligned(fromByteOffset: 192, as: Vec.self))
            a7 = a7.addingProduct(x, row.loadUnaligned(fromByteOffset: 224, as: Vec.self))
        }
        var sums = (a0, a1, a2, a3, a4, a5, a6, a7)
        let o0 = j * Self.width, count = min(Self.width, outputs - o0)
        withUnsafeBytes(of: &sums) { raw in
            let v = raw.bindMemory(to: Float.self).baseAddress!
            if let bias {
                for i in 0..<count { out[o0 + i] = v[i] + bias[o0 + i] }
            } else {
                (out + o0).update(from: v, count: count)
            }
        }
    }
}
