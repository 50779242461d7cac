// Incremental inference with a key/value cache: each new character costs one position's
// work (matrix-vector products and attention over the cached keys and values) instead of
// recomputing the whole context, as nanoGPT's generate() does.
//
// When the cache is full (contextLength positions), the newest half of the characters is
// kept and re-encoded at positions 0..<T/2, and generation goes on. Up to the first full
// window the logits are the full forward pass's (to rounding); after it, each character sees
// between T/2 and T characters of context instead of always T.
//
// A block here is the model's own (`Block.forward`, Model/Block.swift); this file supplies only
// the kernels for its steps (`CachedSteps`).
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
    fileprivate let panels: FloatBuffer
    fileprivate let blockWeights: [(qkv: PanelMatrix, attnProj: PanelMatrix, fc: PanelMatrix, mlpProj: PanelMatrix)]
    private let head: PanelMatrix
    fileprivate let keys: [FloatBuffer]    // per layer Kᵀ (C, T): scores run along positions
    fileprivate let values: [FloatBuffer]  // per layer (T, C)
    fileprivate let qkv, y, fc, fcGelu, branch: FloatBuffer
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
        func reserve(outputs: Int, inputs: Int) -> PanelMatrix {
            defer { size += PanelMatrix(offset: 0, inputs: inputs, outputs: outputs).floatCount }
            return PanelMatrix(offset: size, inputs: inputs, outputs: outputs)
        }
        func reserve(_ w: LinearOffsets) -> PanelMatrix { reserve(outputs: w.outputs, inputs: w.inputs) }
        blockWeights = layout.blocks.map { b in (reserve(b.qkv), reserve(b.attnProj), reserve(b.fc), reserve(b.mlpProj)) }
        head = reserve(outputs: c.vocabSize, inputs: C)  // the tied head: wte (V, C)
        panels = FloatBuffer(count: size)
        let p = model.parameters.pointer
        for (b, w) in zip(layout.blocks, blockWeights) {
            w.qkv.fill(panels.pointer, from: p + b.qkv.weight)
            w.attnProj.fill(panels.pointer, from: p + b.attnProj.weight)
            w.fc.fill(panels.pointer, from: p + b.fc.weight)
            w.mlpProj.fill(panels.pointer, from: p + b.mlpProj.weight)
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
        let c = model.config, C = c.modelWidth, T = c.contextLength
        let layout = model.layout, p = UnsafePointer(model.parameters.pointer)
        let first = length, n = tokens.count, P = model.context.pool.threadCount
        let w = UnsafePointer(panels.pointer)
        let scratch = threadScratch.pointer
        precondition(n >= 1 && first + n <= T)
        tokens.withUnsafeBufferPointer { ids in
            model.context.pool.runTogether { thread, barrier in
                let x = scratch + thread * (2 * T * C + T)
                for r in 0..<n {
                    Embedding.forwardRow(x + r * C, ids[r], position: first + r, p + layout.tokenEmbedding,
                                         p + layout.positionEmbedding, C: C)
                }
                var steps = CachedSteps(cache: self, thread: thread, threads: P, barrier: barrier, first: first, n: n,
                                        x: x)
                for l in 0..<c.layerCount {
                    steps.layer = l
                    Block.forward(&steps, layout.blocks[l], residual: c.residual)
                }
                let last = (n - 1) * C, h = x + T * C
                _ = LayerNorm.forwardRow(h, x + last, p + layout.finalNorm.weight, p + layout.finalNorm.bias, C: C)
                head.multiply(w, h, into: logits.pointer, rows: 1, bias: nil, panels: head.share(thread, of: P))
            }
        }
        length += n
    }

    /// The cached pass's block steps, as one thread of the parallel region runs them on the n
    /// new positions. Products: the thread's fixed share of each weight's panels, then a barrier
    /// before anything reads the whole result. Attention: heads thread, thread+P, …, writing
    /// each position's key and value into the cache first. LayerNorm and residual adds: every
    /// thread on its own copy of x.
    fileprivate struct CachedSteps: BlockSteps {
        let cache: KVCache
        let thread: Int, threads: Int
        let barrier: Barrier
        /// The first new position, and how many there are.
        let first: Int, n: Int
        /// This thread's x (n, C), its LayerNorm h (n, C) and its attention scores s (T).
        let x: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, s: UnsafeMutablePointer<Float>
        let params: UnsafePointer<Float>, panels: UnsafePointer<Float>
        let C: Int, T: Int, NH: Int, gelu: GELUForm
        var layer = 0

        init(cache: KVCache, thread: Int, threads: Int, barrier: Barrier, first: Int, n: Int, x: UnsafeMutablePointer<Float>) {
            let c = cache.model.config
            (self.cache, self.thread, self.threads, self.barrier, self.first, self.n) = (cache, thread, threads, barrier, first, n)
            (C, T, NH, gelu) = (c.modelWidth, c.contextLength, c.headCount, c.gelu)
            (self.x, h, s) = (x, x + T * C, x + 2 * T * C)
            params = UnsafePointer(cache.model.parameters.pointer)
            panels = UnsafePointer(cache.panels.pointer)
        }

        func layerNorm(_ norm: Block.Norm, _ w: NormOffsets) {
            let p = params
            for r in 0..<n { _ = LayerNorm.forwardRow(h + r * C, x + r * C, p + w.weight, p + w.bias, C: C) }
        }

        func linear(_ step: Block.Layer, _ w: LinearOffsets, then epilogue: Block.Epilogue) {
            let m = cache.blockWeights[layer]
            let matrix: PanelMatrix, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
            switch step {
            case .qkv: (matrix, input, output) = (m.qkv, UnsafePointer(h), cache.qkv.pointer)
            case .attnProj: (matrix, input, output) = (m.attnProj, UnsafePointer(cache.y.pointer), cache.branch.pointer)
            case .fc: (matrix, input, output) = (m.fc, UnsafePointer(h), cache.fc.pointer)
            case .mlpProj: (matrix, input, output) = (m.mlpProj, UnsafePointer(cache.fcGelu.pointer), cache.branch.pointer)
            }
            let mine = matrix.share(thread, of: threads)
            matrix.multiply(panels, input, into: output, rows: n, bias: params + w.bias,
                            panels: mine)
            switch epilogue {
            case .none:
                barrier.wait()
            case .gelu:
                // Each thread applies GELU to the columns it computed.
                let columns = matrix.columns(mine), OC = w.outputs, a = cache.fcGelu.pointer
                for r in 0..<n { GELU.forward(a + r * OC, output + r * OC, range: columns, form: gelu) }
                barrier.wait()
            case .residual:
                barrier.wait()
                Residual.forward(x, x, output, range: 0..<n * C)
            case .replace:
                barrier.wait()
                x.update(from: output, count: n * C)
            }
        }

        func attention() {
            let hs = C / NH, scale = 1 / Float(hs).squareRoot()
            let K = cache.keys[layer].pointer, V = cache.values[layer].pointer
            let qkv = cache.qkv.pointer, y = cache.y.pointer
            for head in stride(from: thread, to: NH, by: threads) {
                for r in 0..<n {
                    let pos = first + r, row = qkv + r * 3 * C
                    let q = row + head * hs, k = row + C + head * hs, v = row + 2 * C + head * hs
                    for i in 0..<hs { K[(head * hs + i) * T + pos] = k[i] }
                    (V + pos * C + head * hs).update(from: v, count: hs)
                    // s[t] = q · k_t over positions 0...pos, then softmax, then y = Σ s[t] v_t.
                    FastMath.weightedSum(s, q, wStride: 1, K + head * hs * T, xStride: T, count: hs, n: pos + 1)
                    _ = Softmax.forward(s, pos + 1, scale: scale)
                    FastMath.weightedSum(y + r * C + head * hs, s, wStride: 1, V + head * hs, xStride: C,
                                         count: pos + 1, n: hs)
                }
            }
            barrier.wait()
        }
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

    /// Thread `thread`'s fixed share of the panels: [count·t/P, count·(t+1)/P).
    func share(_ thread: Int, of threads: Int) -> Range<Int> {
        panelCount * thread / threads..<panelCount * (thread + 1) / threads
    }

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
