// Incremental inference with a key/value cache: each new character costs one position's
// work (matrix-vector products and attention over the cached keys and values) instead of
// recomputing the whole context, as nanoGPT's generate() does.
//
// When the cache is full (contextLength positions), the newest quarter of the characters is
// kept and re-encoded at positions 0..<T/4, and generation goes on. Up to the first full
// window the logits are the full forward pass's (to rounding); after it, each character sees
// between T/4 and T characters of context instead of always T, and costs T/(3T/4 + 1)
// positions in the long run (1.31 for T = 64; keeping T/2 cost 1.94). Measured on a trained
// baby model (Docs/PERFORMANCE.md, 2026-12-04 evening), keeping T/4 instead of T/2 raised the
// mean validation loss of the characters so predicted by 0.003 nats (1.8746 against 1.8718).
//
// A block here is the model's own (`Block.forward`, Model/Block.swift); this file supplies only
// the kernels for its steps (`CachedSteps`).
//
// The cache keeps its own copy of each weight matrix in panels of 64 output columns
// (`PanelMatrix`, Ops/PanelMatrix.swift): one new position streams each panel once through a
// matrix-vector product; several positions at once (a prompt, a step of several streams, a
// re-encoded window) go through the GEMM micro-kernel panel by panel, so the weights are read
// once for all of them.
//
// A call runs as one parallel region. With at least two streams per thread, the threads split
// the streams: each runs its own streams' rows through the whole model with no barrier at all.
// Otherwise (one stream, a prompt, a few streams) every thread takes a fixed share of each
// product's panels and of the heads, and the threads meet at a barrier between dependent phases
// (four per layer, five when the heads cannot be dealt out in whole panels: see `CachedSteps`);
// the small per-position work (embedding, LayerNorm, residual adds) is then repeated by every
// thread on its own copy of x, which costs less than another barrier. Which thread computes a
// column never changes how it is computed, and a position's numbers do not depend on how many
// positions were fed with it, so results are the same for any thread count and either split.
//
// Several streams (`streams:`) decode together: each has its own keys, values and history, and
// one step feeds every stream its next character as one row each, one small matrix product per
// weight for all of them. Streams that started together wrap their windows at the same step,
// and their windows are re-encoded together too (rows stream by stream). A row's numbers are
// computed exactly as alone (same sums, same order), so each stream's logits are bit-identical
// to a single-stream cache fed the same characters. A prompt is fed once to stream 0 and copied
// to the others (`copyStreamZeroToAll`).

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
    /// How many passes through the layers (parallel regions) that took.
    private(set) var passes = 0
    /// Rows one call can carry: T (a prompt), and at least every stream's step; a batched
    /// re-encode takes as many streams' windows as fit (up to 512 rows, or T).
    private let rowCapacity: Int
    /// Per thread: x (rows, C), its LayerNorm (rows, C), two rows of attention scores (2, T).
    private let threadScratch: FloatBuffer
    private static func scratchPerThread(rows R: Int, C: Int, T: Int) -> Int { 2 * R * C + 2 * T }
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
        let c = model.config, C = c.modelWidth, T = c.contextLength
        let R = max(T, streams, min(streams * Self.kept(contextLength: T), 512))
        rowCapacity = R
        keys = (0..<c.layerCount * streams).map { _ in FloatBuffer(count: T * C) }
        values = (0..<c.layerCount * streams).map { _ in FloatBuffer(count: T * C) }
        qkv = FloatBuffer(count: R * 3 * C); y = FloatBuffer(count: R * C); fc = FloatBuffer(count: R * 4 * C)
        fcGelu = FloatBuffer(count: R * 4 * C); branch = FloatBuffer(count: R * C)
        threadScratch = FloatBuffer(count: model.context.pool.threadCount * Self.scratchPerThread(rows: R, C: C, T: T))
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
                advance(ids.baseAddress!, rows: RowPlace(stream: stream, streams: 1, position: first, positions: ids.count))
            }
            lengths[stream] = histories[stream].count
        }
    }

    /// How many of a window's newest characters are kept, and re-encoded, when it passes T
    /// characters: T/4 (at least one).
    public static func kept(contextLength T: Int) -> Int { max(1, T / 4) }

    /// Appends to a stream's window, cropping it to its newest `kept` when it passes T (and then
    /// forgetting its cache); true when some positions are left to encode.
    private func appendWrapping<S: Sequence>(_ tokens: S, stream: Int) -> Bool where S.Element == Int32 {
        let T = model.config.contextLength, kept = Self.kept(contextLength: T)
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
    /// weights; afterwards `logits(stream:)` predicts each stream's next character. Streams whose
    /// windows wrap at the same step with windows of the same length (streams that started
    /// together always do) are re-encoded together, as many at once as the buffers hold; any
    /// other stream on its own.
    public func feed(streams tokens: [Int32]) {
        precondition(tokens.count == streams, "one character per stream")
        var together = true
        for s in 0..<streams {
            if !appendWrapping(CollectionOfOne(tokens[s]), stream: s) { continue }
            if lengths[s] != lengths[0] || histories[s].count != lengths[s] + 1 { together = false }
        }
        if together {
            tokens.withUnsafeBufferPointer { ids in
                advance(ids.baseAddress!, rows: RowPlace(stream: 0, streams: streams, position: lengths[0], positions: 1))
            }
            for s in 0..<streams { lengths[s] += 1 }
        } else {
            reencodeWrapped()
            for s in 0..<streams where lengths[s] < histories[s].count { feed(EmptyCollection(), stream: s) }
        }
        logits.pointer.update(from: streamLogits.pointer, count: model.config.vocabSize)
    }

    /// Re-encodes, several streams per call, each run of consecutive streams whose windows have
    /// just wrapped (nothing cached, windows of one length).
    private func reencodeWrapped() {
        var s = 0
        while s < streams {
            let count = histories[s].count
            guard lengths[s] == 0, count > 0 else { s += 1; continue }
            var end = s + 1
            while end < streams, lengths[end] == 0, histories[end].count == count, (end + 1 - s) * count <= rowCapacity {
                end += 1
            }
            if end - s > 1 {
                let ids = histories[s..<end].flatMap { $0 }
                ids.withUnsafeBufferPointer { ids in
                    advance(ids.baseAddress!, rows: RowPlace(stream: s, streams: end - s, position: 0, positions: count))
                }
                for t in s..<end { lengths[t] = count }
            }
            s = end
        }
    }

    /// Stream s's logits (V) for the character after the last one it was fed.
    public func logits(stream s: Int) -> UnsafePointer<Float> {
        precondition(s >= 0 && s < streams)
        return UnsafePointer(streamLogits.pointer + s * model.config.vocabSize)
    }

    /// Positions through every layer, their keys and values into the cache, and logits:
    /// x = wte[token] + wpe[pos], blocks, ln_f, head. Row r holds `ids[r]`, in the stream and at
    /// the position `rows` gives it. Only each stream's last row makes logits (into that
    /// stream's row): the head runs on one row per stream, all streams in one product.
    private func advance(_ ids: UnsafePointer<Int32>, rows: RowPlace) {
        let c = model.config, C = c.modelWidth, T = c.contextLength, R = rowCapacity, V = c.vocabSize
        let layout = model.layout, p = UnsafePointer(model.parameters.pointer)
        let P = model.context.pool.threadCount
        let w = UnsafePointer(panels.pointer)
        let scratch = threadScratch.pointer, out = streamLogits.pointer, perThread = Self.scratchPerThread(rows: R, C: C, T: T)
        let n = rows.count, groups = rows.streams, stream = rows.stream
        precondition(n >= 1 && n <= R && rows.position + rows.positions <= T && stream + groups <= streams)
        encodedPositions += n
        passes += 1
        // With at least two streams per thread, thread t runs its own streams' rows through
        // every product, head and layer alone: no barrier at all, each thread reading all the
        // weights (a 4-stream share per thread still keeps its FMA units busy). Otherwise the
        // threads share each product's panels and the heads, and meet at barriers.
        let byStream = P > 1 && groups >= 2 * P
        model.context.pool.runTogether { thread, barrier in
            let x = scratch + thread * perThread
            let mine = byStream ? rows.part(thread, of: P) : rows
            let (t, threads, meet) = byStream ? (0, 1, Self.alone) : (thread, P, barrier)
            let firstRow = (mine.stream - stream) * rows.positions
            for r in 0..<mine.count {
                Embedding.forwardRow(x + r * C, ids[firstRow + r], position: mine.position(r), p + layout.tokenEmbedding,
                                     p + layout.positionEmbedding, C: C)
            }
            var steps = CachedSteps(cache: self, thread: t, threads: threads, barrier: meet, rows: mine, firstRow: firstRow, x: x)
            for l in 0..<c.layerCount {
                steps.layer = l
                Block.forward(&steps, layout.blocks[l], residual: c.residual)
            }
            let h = x + R * C, normW = p + layout.finalNorm.weight, normB = p + layout.finalNorm.bias
            for g in 0..<mine.streams {
                _ = LayerNorm.forwardRow(h + g * C, x + ((g + 1) * rows.positions - 1) * C, normW, normB, C: C)
            }
            head.multiply(w, h, into: out + mine.stream * V, rows: mine.streams, bias: nil, panels: head.share(t, of: threads))
        }
    }

    /// The barrier of a thread that runs its rows alone: it never waits.
    private static let alone = Barrier(threadCount: 1)

    /// Where the rows of one call belong: `streams` consecutive streams from `stream`, each with
    /// `positions` consecutive positions from `position`, stream by stream. So row r is stream
    /// `stream + r / positions` at position `position + r % positions`: a prompt is one stream
    /// and many positions, a step many streams and one position, a batched re-encode both.
    fileprivate struct RowPlace {
        let stream: Int, streams: Int, position: Int, positions: Int
        var count: Int { streams * positions }
        @inline(__always) func stream(_ r: Int) -> Int { stream + r / positions }
        @inline(__always) func position(_ r: Int) -> Int { position + r % positions }
        /// Thread t's streams when P threads split these streams between them.
        func part(_ t: Int, of P: Int) -> RowPlace {
            let first = streams * t / P, end = streams * (t + 1) / P
            return RowPlace(stream: stream + first, streams: end - first, position: position, positions: positions)
        }
    }

    /// The cached pass's block steps, as one thread of the parallel region runs them on the n
    /// new positions. Products: the thread's fixed share of each weight's panels, then a barrier
    /// before anything reads the whole result. Attention: each thread its share of the heads,
    /// writing each position's key and value into the cache first. LayerNorm and residual adds:
    /// every thread on its own copy of x.
    ///
    /// When every thread's heads fill whole panels of each third of c_attn (the heads divide
    /// evenly among the threads and C/P is a multiple of the panel width: baby, small and
    /// ten-minutes on 1 or 2 threads), thread t takes the contiguous heads t·NH/P ..< (t+1)·NH/P
    /// and exactly the panels of their q, k and v, so it goes from c_attn straight to its
    /// attention with no barrier between. Otherwise heads t, t+P, … after a barrier.
    fileprivate struct CachedSteps: BlockSteps {
        let cache: KVCache
        let thread: Int, threads: Int
        let barrier: Barrier
        /// Where each row belongs, and how many rows there are.
        let rows: RowPlace, n: Int
        /// The cache's activation rows (q, k, v; y; fc and its GELU; a branch's output) from
        /// these rows' first, `firstRow`, on.
        let qkv: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, fc: UnsafeMutablePointer<Float>,
            fcGelu: UnsafeMutablePointer<Float>, branch: UnsafeMutablePointer<Float>
        /// This thread's x (n, C), its LayerNorm h (n, C) and its two rows of attention scores s (2, T).
        let x: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, s: UnsafeMutablePointer<Float>
        let params: UnsafePointer<Float>, panels: UnsafePointer<Float>
        let C: Int, T: Int, NH: Int, gelu: GELUForm
        /// Whether each thread's heads are whole panels of q, k and v (see above).
        let headsInWholePanels: Bool
        var layer = 0

        init(cache: KVCache, thread: Int, threads: Int, barrier: Barrier, rows: RowPlace, firstRow: Int,
             x: UnsafeMutablePointer<Float>) {
            let c = cache.model.config, R = cache.rowCapacity
            (self.cache, self.thread, self.threads, self.barrier, self.rows, n) = (cache, thread, threads, barrier, rows, rows.count)
            (C, T, NH, gelu) = (c.modelWidth, c.contextLength, c.headCount, c.gelu)
            (qkv, y, branch) = (cache.qkv.pointer + firstRow * 3 * C, cache.y.pointer + firstRow * C, cache.branch.pointer + firstRow * C)
            (fc, fcGelu) = (cache.fc.pointer + firstRow * 4 * C, cache.fcGelu.pointer + firstRow * 4 * C)
            headsInWholePanels = NH % threads == 0 && (C / threads) % PanelMatrix.width == 0 && C % threads == 0
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
            case .qkv: (matrix, input, output) = (m.qkv, UnsafePointer(h), qkv)
            case .attnProj: (matrix, input, output) = (m.attnProj, UnsafePointer(y), branch)
            case .fc: (matrix, input, output) = (m.fc, UnsafePointer(h), fc)
            case .mlpProj: (matrix, input, output) = (m.mlpProj, UnsafePointer(fcGelu), branch)
            }
            if step == .qkv && headsInWholePanels {
                // The panels of this thread's heads in each of q, k and v; its attention reads
                // only these columns, so no barrier (the one after attention keeps the phases apart).
                precondition(epilogue == .none, "c_attn has no epilogue")
                let perThird = C / PanelMatrix.width, mine = perThird / threads
                for third in 0..<3 {
                    let first = third * perThird + thread * mine
                    matrix.multiply(panels, input, into: output, rows: n, bias: params + w.bias, panels: first..<first + mine)
                }
                return
            }
            let mine = matrix.share(thread, of: threads)
            matrix.multiply(panels, input, into: output, rows: n, bias: params + w.bias,
                            panels: mine)
            switch epilogue {
            case .none:
                barrier.wait()
            case .gelu:
                // Each thread applies GELU to the columns it computed.
                let columns = matrix.columns(mine), OC = w.outputs, a = fcGelu
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
            // Each (head, row) job writes its key and value into the cache, then its scores and
            // their softmax into one of two score buffers, in turn; the weighted values of two
            // jobs (or two 32-lane quarters of one) run together, so eight chains are in flight.
            var pending: Attention.WeightedValues?
            var slot = 0
            let heads = headsInWholePanels ? stride(from: thread * NH / threads, to: (thread + 1) * NH / threads, by: 1)
                                           : stride(from: thread, to: NH, by: threads)
            for head in heads {
                for r in 0..<n {
                    let kv = layer * cache.streams + rows.stream(r)
                    let K = cache.keys[kv].pointer, V = cache.values[kv].pointer
                    let pos = rows.position(r), row = qkv + r * 3 * C
                    let q = row + head * hs, k = row + C + head * hs, v = row + 2 * C + head * hs
                    for i in 0..<hs { K[(head * hs + i) * T + pos] = k[i] }
                    (V + pos * C + head * hs).update(from: v, count: hs)
                    // s[t] = q · k_t over positions 0...pos, then softmax, then y = Σ s[t] v_t.
                    let scores = s + slot * T
                    slot ^= 1
                    Attention.cachedScores(scores, q, K + head * hs * T, hs: hs, T: T, n: pos + 1)
                    _ = Softmax.forward(scores, pos + 1, scale: scale, capacity: T)
                    guard hs % 32 == 0 else {
                        FastMath.weightedSum(y + r * C + head * hs, scores, wStride: 1, V + head * hs, xStride: C,
                                             count: pos + 1, n: hs)
                        continue
                    }
                    for i in stride(from: 0, to: hs, by: 32) {
                        let job = Attention.WeightedValues(y: y + r * C + head * hs + i, s: scores, v: V + head * hs + i, n: pos + 1)
                        if let other = pending {
                            Attention.cachedWeightedValues(other, job, stride: C)
                            pending = nil
                        } else {
                            pending = job
                        }
                    }
                }
            }
            if let last = pending {
                FastMath.weightedSum(last.y, last.s, wStride: 1, last.v, xStride: C, count: last.n, n: 32)
            }
            barrier.wait()
        }
    }
}
