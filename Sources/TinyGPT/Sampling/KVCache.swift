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
// cache, so the weights are streamed once for all of them; two rows at a time share each load.
//
// A call runs as one parallel region: every thread takes a fixed share of each product's
// panels and of the heads, and the threads meet at a barrier between dependent phases (five
// per layer). The small per-position work (embedding, LayerNorm, residual adds) is repeated
// by every thread on its own copy of x, which costs less than another barrier. Which thread
// computes a column never changes how it is computed, and a position's numbers do not depend
// on how many positions were fed with it, so results are the same for any thread count.
//
// Several streams (`streams:`) decode together: each has its own keys, values and history, and
// one step feeds every stream its next character as one row each, so the weights are streamed
// once for all of them. A row's numbers are computed exactly as alone (same sums, same order),
// so each stream's logits are bit-identical to a single-stream cache fed the same characters.
// A prompt is fed once to stream 0 and copied to the others (`copyStreamZeroToAll`).

/// A GPT's weights, seen one position at a time, with a cache of past keys and values.
public final class KVCache {
    public let model: GPT
    /// How many streams this cache holds; the single-stream calls act on stream 0.
    public let streams: Int
    /// Per stream: how many positions are cached, and the characters of its window.
    private var lengths: [Int]
    private var histories: [[Int32]]
    fileprivate let panels: FloatBuffer
    fileprivate let blockWeights: [(qkv: PanelMatrix, attnProj: PanelMatrix, fc: PanelMatrix, mlpProj: PanelMatrix)]
    private let head: PanelMatrix
    fileprivate let keys: [FloatBuffer]    // per layer and stream (layer·streams + stream) Kᵀ (C, T)
    fileprivate let values: [FloatBuffer]  // per layer and stream (T, C)
    fileprivate let qkv, y, fc, fcGelu, branch: FloatBuffer
    /// How many positions have been run through the layers since the cache was made (the
    /// prompt once, then one per stream and step); what shows that a prompt is encoded once.
    public private(set) var encodedPositions = 0
    /// Rows one call can carry: max(T, streams).
    private let rowCapacity: Int
    /// Per thread: x (rows, C), its LayerNorm (rows, C), attention scores (T).
    private let threadScratch: FloatBuffer
    /// The logits (V) for the character after the last one fed to stream 0.
    public let logits: FloatBuffer
    /// Every stream's logits (streams, V), row s for stream s.
    private let streamLogits: FloatBuffer

    public init(model: GPT, streams: Int = 1) {
        precondition(streams >= 1, "a cache holds at least one stream")
        self.model = model
        self.streams = streams
        lengths = Array(repeating: 0, count: streams)
        histories = Array(repeating: [], count: streams)
        let c = model.config, C = c.modelWidth, T = c.contextLength, R = max(T, streams)
        rowCapacity = R
        keys = (0..<c.layerCount * streams).map { _ in FloatBuffer(count: T * C) }
        values = (0..<c.layerCount * streams).map { _ in FloatBuffer(count: T * C) }
        qkv = FloatBuffer(count: R * 3 * C); y = FloatBuffer(count: R * C); fc = FloatBuffer(count: R * 4 * C)
        fcGelu = FloatBuffer(count: R * 4 * C); branch = FloatBuffer(count: R * C)
        threadScratch = FloatBuffer(count: model.context.pool.threadCount * (2 * R * C + T))
        logits = FloatBuffer(count: c.vocabSize)
        streamLogits = FloatBuffer(count: streams * c.vocabSize)
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

    /// Forgets everything fed so far, in every stream.
    public func reset() {
        for s in 0..<streams {
            lengths[s] = 0
            histories[s].removeAll(keepingCapacity: true)
        }
    }

    /// Feeds characters in order to stream 0; afterwards `logits` predicts the next one.
    /// The window they leave is worked out first; if it wrapped, it is re-encoded from position 0.
    public func feed<S: Sequence>(_ tokens: S) where S.Element == Int32 {
        feed(tokens, stream: 0)
        logits.pointer.update(from: streamLogits.pointer, count: model.config.vocabSize)
    }

    /// Feeds one character to stream 0.
    public func feed(_ token: Int32) { feed(CollectionOfOne(token)) }

    /// Feeds characters in order to one stream; afterwards `logits(stream:)` predicts its next one.
    private func feed<S: Sequence>(_ tokens: S, stream: Int) where S.Element == Int32 {
        if appendWrapping(tokens, stream: stream) {
            let first = lengths[stream]
            histories[stream][first...].withUnsafeBufferPointer { ids in
                advance(ids.baseAddress!, rows: ids.count, stream: stream, streamStep: 0, position: first, positionStep: 1)
            }
            lengths[stream] = histories[stream].count
        }
    }

    /// Appends to a stream's window, cropping it to its newest half when it passes T (and then
    /// forgetting its cache); true when some positions are left to encode.
    private func appendWrapping<S: Sequence>(_ tokens: S, stream: Int) -> Bool where S.Element == Int32 {
        let T = model.config.contextLength, kept = max(1, T / 2)
        for token in tokens {
            histories[stream].append(token)
            if histories[stream].count > T {
                histories[stream].removeFirst(histories[stream].count - kept)
                lengths[stream] = 0
            }
        }
        return lengths[stream] < histories[stream].count
    }

    /// Makes every stream a copy of stream 0: its window, its cached keys and values, its logits.
    /// A prompt fed once to stream 0 then serves every stream.
    public func copyStreamZeroToAll() {
        let c = model.config, C = c.modelWidth, V = c.vocabSize, n = lengths[0], T = c.contextLength
        for s in 1..<max(1, streams) {
            lengths[s] = n
            histories[s] = histories[0]
            for l in 0..<c.layerCount {
                let from = l * streams, to = l * streams + s
                // Kᵀ is (C, T): position t of row i sits at i·T + t.
                for i in 0..<C { (keys[to].pointer + i * T).update(from: keys[from].pointer + i * T, count: n) }
                values[to].pointer.update(from: values[from].pointer, count: n * C)
            }
            (streamLogits.pointer + s * V).update(from: streamLogits.pointer, count: V)
        }
    }

    /// Feeds each stream its next character (`tokens[s]` to stream s) in one pass over the
    /// weights; afterwards `logits(stream:)` predicts each stream's next character. A stream whose
    /// window wraps is re-encoded on its own.
    public func feed(streams tokens: [Int32]) {
        precondition(tokens.count == streams, "one character per stream")
        var together = true
        for s in 0..<streams {
            if !appendWrapping(CollectionOfOne(tokens[s]), stream: s) { continue }
            if lengths[s] != lengths[0] || histories[s].count != lengths[s] + 1 { together = false }
        }
        if together {
            tokens.withUnsafeBufferPointer { ids in
                advance(ids.baseAddress!, rows: streams, stream: 0, streamStep: 1, position: lengths[0], positionStep: 0)
            }
            for s in 0..<streams { lengths[s] += 1 }
        } else {
            for s in 0..<streams where lengths[s] < histories[s].count { feed(EmptyCollection(), stream: s) }
        }
        logits.pointer.update(from: streamLogits.pointer, count: model.config.vocabSize)
    }

    /// Stream s's logits (V) for the character after the last one it was fed.
    public func logits(stream s: Int) -> UnsafePointer<Float> {
        precondition(s >= 0 && s < streams)
        return UnsafePointer(streamLogits.pointer + s * model.config.vocabSize)
    }

    /// `rows` positions through every layer, their keys and values into the cache, and logits:
    /// x = wte[token] + wpe[pos], blocks, ln_f, head. Row r holds `ids[r]` of stream
    /// `stream + r·streamStep` at position `position + r·positionStep`. Rows of one stream
    /// (streamStep 0) are consecutive positions and only the last one's logits are made (into
    /// that stream's row); rows of different streams (streamStep 1) share one position and each
    /// gets its logits.
    private func advance(_ ids: UnsafePointer<Int32>, rows n: Int, stream: Int, streamStep: Int, position: Int,
                         positionStep: Int) {
        let c = model.config, C = c.modelWidth, T = c.contextLength, R = rowCapacity, V = c.vocabSize
        let layout = model.layout, p = UnsafePointer(model.parameters.pointer)
        let P = model.context.pool.threadCount
        let w = UnsafePointer(panels.pointer)
        let scratch = threadScratch.pointer, out = streamLogits.pointer
        precondition(n >= 1 && n <= R && position + (n - 1) * positionStep < T)
        precondition(stream + (n - 1) * streamStep < streams)
        let rows = RowPlace(stream: stream, streamStep: streamStep, position: position, positionStep: positionStep)
        encodedPositions += n
        model.context.pool.runTogether { thread, barrier in
            let x = scratch + thread * (2 * R * C + T)
            for r in 0..<n {
                Embedding.forwardRow(x + r * C, ids[r], position: rows.position(r), p + layout.tokenEmbedding,
                                     p + layout.positionEmbedding, C: C)
            }
            var steps = CachedSteps(cache: self, thread: thread, threads: P, barrier: barrier, rows: rows, n: n, x: x)
            for l in 0..<c.layerCount {
                steps.layer = l
                Block.forward(&steps, layout.blocks[l], residual: c.residual)
            }
            let h = x + R * C, normW = p + layout.finalNorm.weight, normB = p + layout.finalNorm.bias
            if streamStep == 0 {
                _ = LayerNorm.forwardRow(h, x + (n - 1) * C, normW, normB, C: C)
                head.multiply(w, h, into: out + stream * V, rows: 1, bias: nil, panels: head.share(thread, of: P))
            } else {
                for r in 0..<n { _ = LayerNorm.forwardRow(h + r * C, x + r * C, normW, normB, C: C) }
                head.multiply(w, h, into: out + stream * V, rows: n, bias: nil, panels: head.share(thread, of: P))
            }
        }
    }

    /// Where the rows of one call belong: row r is stream `stream + r·streamStep` at position
    /// `position + r·positionStep`.
    fileprivate struct RowPlace {
        let stream: Int, streamStep: Int, position: Int, positionStep: Int
        @inline(__always) func stream(_ r: Int) -> Int { stream + r * streamStep }
        @inline(__always) func position(_ r: Int) -> Int { position + r * positionStep }
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
        /// Where each row belongs, and how many rows there are.
        let rows: RowPlace, n: Int
        /// This thread's x (n, C), its LayerNorm h (n, C) and its attention scores s (T).
        let x: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, s: UnsafeMutablePointer<Float>
        let params: UnsafePointer<Float>, panels: UnsafePointer<Float>
        let C: Int, T: Int, NH: Int, gelu: GELUForm
        var layer = 0

        init(cache: KVCache, thread: Int, threads: Int, barrier: Barrier, rows: RowPlace, n: Int, x: UnsafeMutablePointer<Float>) {
            let c = cache.model.config, R = cache.rowCapacity
            (self.cache, self.thread, self.threads, self.barrier, self.rows, self.n) = (cache, thread, threads, barrier, rows, n)
            (C, T, NH, gelu) = (c.modelWidth, c.contextLength, c.headCount, c.gelu)
            (self.x, h, s) = (x, x + R * C, x + 2 * R * C)
            params = UnsafePointer(cache.model.parameters.pointer)
            panels = UnsafePointer(cache.panels.pointer)
        }

        func layerNorm(_ norm: Block.Norm, _ w: NormOffsets) {
            let p = params
            for r in 0..<n { _ = LayerNorm.forwardRow(h + r * C, x + r * C, p + w.weight, p + w.bias, C: C) }
        }

        func linear(_ step: Block.LinearLayer, _ w: LinearOffsets, then epilogue: Block.AfterLinear) {
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
            let qkv = cache.qkv.pointer, y = cache.y.pointer
            for head in stride(from: thread, to: NH, by: threads) {
                for r in 0..<n {
                    let kv = layer * cache.streams + rows.stream(r)
                    let K = cache.keys[kv].pointer, V = cache.values[kv].pointer
                    let pos = rows.position(r), row = qkv + r * 3 * C
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
            var r = 0
            while r + 1 < rows {
                multiplyTwo(storage, input + r * inputs, into: output + r * outputs, bias: bias, panel: j)
                r += 2
            }
            if r < rows { multiply(storage, input + r * inputs, into: output + r * outputs, bias: bias, panel: j) }
        }
    }

    /// Two consecutive rows, one panel: each weight vector loaded once feeds both rows. Each
    /// output's sum is the one-row kernel's (same terms, same order), so the bits are the same.
    @inline(__always)
    private func multiplyTwo(_ storage: UnsafePointer<Float>, _ inp: UnsafePointer<Float>,
                             into out: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, panel j: Int) {
        let w = UnsafeRawPointer(storage + offset + j * inputs * Self.width), inp1 = inp + inputs
        var a0 = Vec(), a1 = Vec(), a2 = Vec(), a3 = Vec(), a4 = Vec(), a5 = Vec(), a6 = Vec(), a7 = Vec()
        var b0 = Vec(), b1 = Vec(), b2 = Vec(), b3 = Vec(), b4 = Vec(), b5 = Vec(), b6 = Vec(), b7 = Vec()
        for k in 0..<inputs {
            let x = Vec(repeating: inp[k]), z = Vec(repeating: inp1[k]), row = w + k * Self.width * 4
            let w0 = row.loadUnaligned(fromByteOffset: 0, as: Vec.self), w1 = row.loadUnaligned(fromByteOffset: 32, as: Vec.self)
            let w2 = row.loadUnaligned(fromByteOffset: 64, as: Vec.self), w3 = row.loadUnaligned(fromByteOffset: 96, as: Vec.self)
            let w4 = row.loadUnaligned(fromByteOffset: 128, as: Vec.self), w5 = row.loadUnaligned(fromByteOffset: 160, as: Vec.self)
            let w6 = row.loadUnaligned(fromByteOffset: 192, as: Vec.self), w7 = row.loadUnaligned(fromByteOffset: 224, as: Vec.self)
            a0 = a0.addingProduct(x, w0); b0 = b0.addingProduct(z, w0)
            a1 = a1.addingProduct(x, w1); b1 = b1.addingProduct(z, w1)
            a2 = a2.addingProduct(x, w2); b2 = b2.addingProduct(z, w2)
            a3 = a3.addingProduct(x, w3); b3 = b3.addingProduct(z, w3)
            a4 = a4.addingProduct(x, w4); b4 = b4.addingProduct(z, w4)
            a5 = a5.addingProduct(x, w5); b5 = b5.addingProduct(z, w5)
            a6 = a6.addingProduct(x, w6); b6 = b6.addingProduct(z, w6)
            a7 = a7.addingProduct(x, w7); b7 = b7.addingProduct(z, w7)
        }
        store((a0, a1, a2, a3, a4, a5, a6, a7), into: out, bias: bias, panel: j)
        store((b0, b1, b2, b3, b4, b5, b6, b7), into: out + outputs, bias: bias, panel: j)
    }

    /// A panel's 64 sums into out[64j ..< 64j+64] (clipped to OC), plus the bias if any.
    @inline(__always)
    private func store(_ sums: (Vec, Vec, Vec, Vec, Vec, Vec, Vec, Vec), into out: UnsafeMutablePointer<Float>,
                       bias: UnsafePointer<Float>?, panel j: Int) {
        var sums = sums
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
        store((a0, a1, a2, a3, a4, a5, a6, a7), into: out, bias: bias, panel: j)
    }
}
