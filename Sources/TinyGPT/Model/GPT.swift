// The GPT: token + position embedding, N pre-norm blocks, final LayerNorm, tied LM head,
// softmax cross-entropy (GPT-2; nanoGPT's model.py; llm.c's train_gpt2.c).
//
//   x = drop(wte[tok] + wpe[t])
//   for each block:  x = x + drop(attn(ln_1(x))),  x = x + drop(mlp(ln_2(x)))   (Model/Block.swift)
//   logits = ln_f(x) · wteᵀ,   loss = mean cross-entropy(logits, targets)
//
// The forward pass runs each block through `Block.forward` with this file's batched steps
// (`BatchSteps`); the cached sampler runs the same `Block.forward` with its own.
//
// The backward pass is the forward read in reverse, one op's backward at a time. The outputs
// of GELU and of the blocks' LayerNorms are not kept per layer but recomputed in backward:
// cheap next to the matmuls, and 6C floats per position and layer fewer to hold.
// Legend: B batch, T time, C channels, NH heads, V vocabulary, L layers, N = B·T.

/// A GPT with its parameters and gradients, and activation memory for one batch shape.
public final class GPT {
    public let config: GPTConfig
    public let layout: ParameterLayout
    /// All parameters, in `layout` order.
    public let parameters: FloatBuffer
    /// Gradients of the loss, same layout; accumulated by `backward`, cleared by `zeroGradients`.
    public let gradients: FloatBuffer
    public let context: KernelContext
    private var acts: Activations?
    /// When set, `backward` shows it each gradient of the residual stream as it is finished
    /// (for the inspector's backward flow, Sampling/LearningStep.swift); nil in training.
    var backwardProbe: ((BackwardPoint, UnsafePointer<Float>) -> Void)?

    /// A freshly initialised model, as GPT-2: weights N(0, 0.02), residual projections
    /// N(0, 0.02/√(2L)), biases 0, LayerNorm gains 1. Draws in layout order from `seed`.
    public convenience init(config: GPTConfig, seed: UInt64, context: KernelContext = KernelContext()) {
        self.init(config: config, context: context)
        var rng = RandomGenerator(seed: seed)
        let residualStd = 0.02 / Float(2 * config.layerCount).squareRoot()
        for tensor in layout.tensors {
            let p = parameters.pointer + tensor.offset
            if tensor.name.hasSuffix("ln_1.weight") || tensor.name.hasSuffix("ln_2.weight") || tensor.name.hasSuffix("ln_f.weight") {
                p.update(repeating: 1, count: tensor.count)
            } else if tensor.shape.count == 2 {
                let std = tensor.name.hasSuffix("c_proj.weight") ? residualStd : 0.02
                for i in 0..<tensor.count { p[i] = rng.nextNormal() * std }
            }
        }
    }

    /// A model with the given parameters (in layout order).
    public convenience init(config: GPTConfig, parameters values: [Float], context: KernelContext = KernelContext()) {
        self.init(config: config, context: context)
        precondition(values.count == layout.totalCount, "parameter count does not match the config")
        values.withUnsafeBufferPointer { parameters.pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    private init(config: GPTConfig, context: KernelContext) {
        self.config = config
        self.layout = ParameterLayout(config)
        self.parameters = FloatBuffer(count: layout.totalCount)
        self.gradients = FloatBuffer(count: layout.totalCount)
        self.context = context
    }

    public var parameterCount: Int { layout.totalCount }

    /// Clears the gradients, in parallel chunks (the small shape's are 43 MB: about 5 ms on one core).
    public func zeroGradients() {
        let g = gradients.pointer, count = gradients.count, chunk = 1 << 16
        context.pool.run((count + chunk - 1) / chunk) { task in
            (g + task * chunk).update(repeating: 0, count: min(chunk, count - task * chunk))
        }
    }

    /// Runs the model on tokens (B, T), T ≤ contextLength. With targets (B, T), returns the mean
    /// cross-entropy loss and keeps what `backward` needs; without, returns 0 and leaves logits
    /// readable through `logits(row:)`. `dropout` > 0 draws its masks from `rng`.
    @discardableResult
    public func forward(tokens: UnsafePointer<Int32>, targets: UnsafePointer<Int32>?, B: Int, T: Int,
                        dropout: Float = 0, rng: inout RandomGenerator) -> Float {
        precondition(B >= 1 && T >= 1 && T <= config.contextLength, "batch shape out of range")
        let a = activations(B: B, T: T, dropout: dropout > 0)
        let C = config.modelWidth, NH = config.headCount, V = config.vocabSize, N = B * T
        let params = UnsafePointer(parameters.pointer)
        a.tokens.update(from: tokens, count: N)
        a.hasTargets = targets != nil
        a.backwardDone = false
        if let targets { a.targets.update(from: targets, count: N) }
        a.dropout = dropout

        Embedding.forward(a.encoded, tokens, params + layout.tokenEmbedding, params + layout.positionEmbedding,
                          B: B, T: T, C: C, context: context)
        if dropout > 0 { Dropout.forward(a.encoded, a.embeddingMask!, a.encoded, count: N * C, p: dropout, rng: &rng) }
        var steps = BatchSteps(a: a, params: params, context: context, B: B, T: T, C: C, NH: NH, gelu: config.gelu,
                               dropout: dropout, rng: rng, layer: a.layers[0], x: UnsafePointer(a.encoded))
        for l in 0..<config.layerCount {
            steps.layer = a.layers[l]
            Block.forward(&steps, layout.blocks[l], residual: config.residual)
        }
        rng = steps.rng
        let x = steps.x
        LayerNorm.forward(a.lnf, a.lnfMean, a.lnfRstd, x, params + layout.finalNorm.weight,
                          params + layout.finalNorm.bias, N: N, C: C, context: context)
        Linear.forward(a.logits, a.lnf, params + layout.tokenEmbedding, nil, N: N, C: C, OC: V, context: context)
        guard let targets else { return 0 }
        CrossEntropy.forward(a.losses, a.logits, a.logits, targets, N: N, V: V, context: context)
        var total: Float = 0
        for n in 0..<N { total += a.losses[n] }
        return total / Float(N)
    }

    /// Inference forward (no targets, no dropout): logits for every position.
    public func forward(tokens: UnsafePointer<Int32>, B: Int, T: Int) {
        var unused = RandomGenerator(seed: 0)
        forward(tokens: tokens, targets: nil, B: B, T: T, rng: &unused)
    }

    /// The logits (V) of row `n` (= b·T + t) after a forward pass without targets.
    public func logits(row n: Int) -> UnsafePointer<Float> {
        guard let a = acts, !a.hasTargets else { preconditionFailure("run forward without targets first") }
        precondition(n >= 0 && n < a.B * a.T)
        return UnsafePointer(a.logits + n * config.vocabSize)
    }

    /// The probabilities (V) the model gave row `n` after a forward pass with targets, before
    /// `backward` (which turns them into gradients in place).
    func probabilities(row n: Int) -> UnsafePointer<Float> {
        guard let a = acts, a.hasTargets, !a.backwardDone else { preconditionFailure("run forward with targets first") }
        precondition(n >= 0 && n < a.B * a.T)
        return UnsafePointer(a.logits + n * config.vocabSize)
    }

    /// The loss of each position (B·T) after a forward pass with targets.
    public var positionLosses: UnsafeBufferPointer<Float> {
        guard let a = acts, a.hasTargets else { preconditionFailure("run forward with targets first") }
        return UnsafeBufferPointer(start: a.losses, count: a.B * a.T)
    }

    /// The attention probabilities (B, NH, T, T) of `layer` from the last forward pass.
    public func attention(layer: Int) -> UnsafeBufferPointer<Float> {
        guard let a = acts else { preconditionFailure("run forward first") }
        return UnsafeBufferPointer(start: a.layers[layer].att, count: a.B * config.headCount * a.T * a.T)
    }

    /// The residual stream (B, T, C) after block `layer` from the last forward pass; layer -1
    /// is the embeddings entering the first block.
    public func residualStream(after layer: Int) -> UnsafeBufferPointer<Float> {
        guard let a = acts else { preconditionFailure("run forward first") }
        precondition(layer >= -1 && layer < config.layerCount)
        let x = layer < 0 ? a.encoded : a.layers[layer].residual3
        return UnsafeBufferPointer(start: x, count: a.B * a.T * config.modelWidth)
    }

    /// What the inspector reads from the last forward pass (GPT+Trace.swift): the stream after
    /// the embedding (B, T, C), and per layer qkv (B, T, 3C) and the stream after the block's
    /// attention and after the whole block (B, T, C).
    func streams(layer: Int) -> (embedded: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
                                 afterAttention: UnsafePointer<Float>, afterBlock: UnsafePointer<Float>) {
        guard let a = acts else { preconditionFailure("run forward first") }
        let s = a.layers[layer]
        return (UnsafePointer(a.encoded), UnsafePointer(s.qkv), UnsafePointer(s.residual2), UnsafePointer(s.residual3))
    }

    /// Accumulates the gradient of the last forward pass's mean loss into `gradients`.
    public func backward() {
        guard let a = acts, a.hasTargets else { preconditionFailure("backward needs a forward pass with targets") }
        // The cross-entropy backward turns the saved probabilities into gradients in place.
        precondition(!a.backwardDone, "backward runs once per forward pass")
        a.backwardDone = true
        let B = a.B, T = a.T, C = config.modelWidth, NH = config.headCount, V = config.vocabSize, N = B * T
        let gelu = config.gelu, residual = config.residual
        let params = UnsafePointer(parameters.pointer)
        let grads = gradients.pointer
        let dropout = a.dropout

        // loss = mean(losses);  logits = ln_f(x) · wteᵀ
        CrossEntropy.backward(a.logits, a.logits, a.targets, dloss: 1 / Float(N), N: N, V: V, context: context)
        backwardProbe?(.logits, a.logits)
        Linear.backward(a.dln, grads + layout.tokenEmbedding, nil, a.logits, a.lnf, params + layout.tokenEmbedding,
                        N: N, C: C, OC: V, context: context)
        backwardProbe?(.normalized, a.dln)
        let dres = a.dresidual
        dres.update(repeating: 0, count: N * C)
        let last = config.layerCount - 1
        LayerNorm.backward(dres, grads + layout.finalNorm.weight, grads + layout.finalNorm.bias, a.dln,
                           a.layers[last].residual3, params + layout.finalNorm.weight, a.lnfMean, a.lnfRstd,
                           N: N, C: C, context: context)
        backwardProbe?(.stream(2 * config.layerCount), dres)
        for l in stride(from: last, through: 0, by: -1) {
            let w = layout.blocks[l], s = a.layers[l]
            let x = l == 0 ? UnsafePointer(a.encoded) : UnsafePointer(a.layers[l - 1].residual3)
            // x3 = x2 + drop(mlp.c_proj(gelu(mlp.c_fc(ln_2(x2)))))   (without residual: no "x2 +")
            var dbranch = UnsafePointer(dres)
            if dropout > 0 {
                Dropout.backward(a.branch, s.mlpMask!, dres, count: N * C)
                dbranch = UnsafePointer(a.branch)
            }
            // GELU's output is not kept per layer (it is 4C wide). As each block of dgelu is
            // finished, turn it into dfch in place and recompute that block of GELU's output,
            // which the weight gradient then reads.
            Linear.backward(a.dfch, grads + w.mlpProj.weight, grads + w.mlpProj.bias, dbranch, a.gelu,
                            params + w.mlpProj.weight, N: N, C: 4 * C, OC: C, context: context) { rows, columns in
                for n in rows {
                    let row = n * 4 * C
                    GELU.backward(a.dfch + row, s.fch + row, a.dfch + row, range: columns, form: gelu,
                                  recomputed: a.gelu + row)
                }
            }
            // Without the skip connection x2 reaches x3 only through the branch: drop the fan-out
            // term dx2 += dx3 (LayerNorm.backward below adds into dres).
            if !residual { dres.update(repeating: 0, count: N * C) }
            // Nor are LayerNorm outputs (the same numbers again from the saved input and weights).
            LayerNorm.forward(a.ln, s.ln2Mean, s.ln2Rstd, s.residual2, params + w.ln2.weight, params + w.ln2.bias,
                              N: N, C: C, context: context)
            Linear.backward(a.dln, grads + w.fc.weight, grads + w.fc.bias, a.dfch, a.ln, params + w.fc.weight,
                            N: N, C: C, OC: 4 * C, context: context)
            LayerNorm.backward(dres, grads + w.ln2.weight, grads + w.ln2.bias, a.dln, s.residual2,
                               params + w.ln2.weight, s.ln2Mean, s.ln2Rstd, N: N, C: C, context: context)
            backwardProbe?(.stream(2 * l + 1), dres)
            // x2 = x1 + drop(attn.c_proj(attention(attn.c_attn(ln_1(x1)))))
            dbranch = UnsafePointer(dres)
            if dropout > 0 {
                Dropout.backward(a.branch, s.attnMask!, dres, count: N * C)
                dbranch = UnsafePointer(a.branch)
            }
            Linear.backward(a.datty, grads + w.attnProj.weight, grads + w.attnProj.bias, dbranch, s.atty,
                            params + w.attnProj.weight, N: N, C: C, OC: C, context: context)
            if !residual { dres.update(repeating: 0, count: N * C) }
            Attention.backward(a.dqkv, a.datty, s.qkv, s.att, B: B, T: T, C: C, NH: NH, context: context)
            LayerNorm.forward(a.ln, s.ln1Mean, s.ln1Rstd, x, params + w.ln1.weight, params + w.ln1.bias,
                              N: N, C: C, context: context)
            Linear.backward(a.dln, grads + w.qkv.weight, grads + w.qkv.bias, a.dqkv, a.ln, params + w.qkv.weight,
                            N: N, C: C, OC: 3 * C, context: context)
            LayerNorm.backward(dres, grads + w.ln1.weight, grads + w.ln1.bias, a.dln, x,
                               params + w.ln1.weight, s.ln1Mean, s.ln1Rstd, N: N, C: C, context: context)
            backwardProbe?(.stream(2 * l), dres)
        }
        // x = drop(wte[tok] + wpe[t])
        var dencoded = UnsafePointer(dres)
        if dropout > 0 {
            Dropout.backward(a.branch, a.embeddingMask!, dres, count: N * C)
            dencoded = UnsafePointer(a.branch)
        }
        Embedding.backward(grads + layout.tokenEmbedding, grads + layout.positionEmbedding, dencoded, a.tokens,
                           B: B, T: T, C: C, context: context)
    }

    /// Frees the activation memory (what the last forward pass left in it is gone); the next
    /// forward pass allocates it again. Between training steps it is dead weight: the training
    /// monitor frees it at each evaluation once the gradient health has read it, so that what
    /// the evaluation goes on to do (sample the time-lapse, redraw the report, write
    /// checkpoints) does not stack on a step's memory.
    public func releaseActivations() { acts = nil }

    /// Whether the model holds activation memory (from a forward pass since the last release).
    public var holdsActivations: Bool { acts != nil }

    private func activations(B: Int, T: Int, dropout: Bool) -> Activations {
        if let a = acts, a.B == B, a.T == T, !dropout || a.embeddingMask != nil { return a }
        acts = nil  // free the old arena before allocating the new one
        let a = Activations(config: config, B: B, T: T, dropout: dropout)
        acts = a
        return a
    }

    /// Bytes of activation memory for one batch shape (what `forward` allocates).
    public static func activationBytes(config: GPTConfig, B: Int, T: Int, dropout: Bool) -> Int {
        Activations.floatCount(config: config, B: B, T: T, dropout: dropout, as: Int.self) * 4
    }

    /// Floats of activation memory for one batch shape, counted in `F`: Int to allocate, Double
    /// to estimate a shape whose sizes might not fit in an Int.
    static func activationFloatCount<F: SizeArithmetic>(config: GPTConfig, B: Int, T: Int, dropout: Bool,
                                                        as: F.Type) -> F {
        Activations.floatCount(config: config, B: B, T: T, dropout: dropout, as: F.self)
    }
}

/// Where `GPT.backward` is when it shows a gradient to `backwardProbe`.
enum BackwardPoint: Equatable {
    /// ∂L/∂logits (N, V) = (p − y)/N.
    case logits
    /// ∂L/∂ln_f(x) (N, C): the gradient entering the final LayerNorm from the head.
    case normalized
    /// ∂L/∂x (N, C) at residual-stream point s: 2l is block l's input (0 the embeddings),
    /// 2l + 1 the stream after block l's attention, 2L the stream after the last block.
    case stream(Int)
}

/// A number type the size tables can be counted in: Int to carve memory, Double to estimate a
/// shape whose sizes might overflow an Int.
protocol SizeArithmetic: Numeric, Comparable {
    init(_ value: Int)
}

extension Int: SizeArithmetic {}
extension Double: SizeArithmetic {}

/// The training pass's block steps: batched kernels over all N = B·T positions, each layer's
/// results kept for backward, GELU and the residual add run on each finished block of the
/// product that feeds them (GEMM epilogues).
private struct BatchSteps: BlockSteps {
    let a: Activations
    let params: UnsafePointer<Float>
    let context: KernelContext
    let B: Int, T: Int, C: Int, NH: Int
    let gelu: GELUForm
    let dropout: Float
    var rng: RandomGenerator
    /// The current layer's saved buffers.
    var layer: Activations.BlockBuffers
    /// The residual stream: the embeddings, then each block's output (residual2, residual3).
    var x: UnsafePointer<Float>

    var N: Int { B * T }

    func layerNorm(_ norm: Block.Norm, _ w: NormOffsets) {
        let (mean, rstd) = norm == .ln1 ? (layer.ln1Mean, layer.ln1Rstd) : (layer.ln2Mean, layer.ln2Rstd)
        LayerNorm.forward(a.ln, mean, rstd, x, params + w.weight, params + w.bias, N: N, C: C, context: context)
    }

    func attention() {
        Attention.forward(layer.atty, layer.att, layer.qkv, B: B, T: T, C: C, NH: NH, context: context)
    }

    mutating func linear(_ step: Block.LinearLayer, _ w: LinearOffsets, then epilogue: Block.AfterLinear) {
        let input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
        switch step {
        case .qkv: (input, output) = (UnsafePointer(a.ln), layer.qkv)
        case .attnProj: (input, output) = (UnsafePointer(layer.atty), a.branch)
        case .fc: (input, output) = (UnsafePointer(a.ln), layer.fch)
        case .mlpProj: (input, output) = (UnsafePointer(a.gelu), a.branch)
        }
        let weight = params + w.weight, bias = params + w.bias, OC = w.outputs
        switch epilogue {
        case .none:
            Linear.forward(output, input, weight, bias, N: N, C: w.inputs, OC: OC, context: context)
        case .gelu:
            let activation = a.gelu, form = gelu
            Linear.forward(output, input, weight, bias, N: N, C: w.inputs, OC: OC, context: context) { rows, columns in
                for n in rows { GELU.forward(activation + n * OC, output + n * OC, range: columns, form: form) }
            }
        case .residual, .replace:
            let next = step == .attnProj ? layer.residual2 : layer.residual3
            let mask = dropout > 0 ? (step == .attnProj ? layer.attnMask : layer.mlpMask) : nil
            if let mask { Dropout.drawMask(mask, count: N * C, p: dropout, rng: &rng) }
            let join = epilogue == .residual ? Self.residual(next, x, output, mask: mask, width: OC)
                                             : Self.replace(next, output, mask: mask, width: OC)
            Linear.forward(output, input, weight, bias, N: N, C: w.inputs, OC: OC, context: context,
                           epilogue: join)
            x = UnsafePointer(next)
        }
    }

    /// A GEMM epilogue for a block without its skip connection: out = drop(branch) on each
    /// finished block of the branch product (rows of `width` floats).
    private static func replace(_ out: UnsafeMutablePointer<Float>, _ branch: UnsafeMutablePointer<Float>,
                                mask: UnsafeMutablePointer<Float>?, width: Int) -> Gemm.Epilogue {
        { rows, columns in
            for n in rows {
                let row = n * width
                if let mask { Dropout.apply(branch + row, mask + row, branch + row, range: columns) }
                (out + row + columns.lowerBound).update(from: branch + row + columns.lowerBound, count: columns.count)
            }
        }
    }

    /// A GEMM epilogue for a residual connection: out = x + drop(branch) on each finished block
    /// of the branch product (rows of `width` floats), with dropout's mask if given.
    private static func residual(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                                 _ branch: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>?,
                                 width: Int) -> Gemm.Epilogue {
        { rows, columns in
            for n in rows {
                let row = n * width
                if let mask { Dropout.apply(branch + row, mask + row, branch + row, range: columns) }
                Residual.forward(out + row, x + row, branch + row, range: columns)
            }
        }
    }
}

/// Every buffer one forward/backward pass needs, carved from one allocation; the gradient
/// temporaries alias buffers that are dead while they are live (see `init`).
private final class Activations {
    struct BlockBuffers {
        var ln1Mean, ln1Rstd, qkv, att, atty, residual2: UnsafeMutablePointer<Float>
        var ln2Mean, ln2Rstd, fch, residual3: UnsafeMutablePointer<Float>
        var attnMask, mlpMask: UnsafeMutablePointer<Float>?
    }

    let B: Int, T: Int
    let arena: FloatBuffer
    let tokens: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>
    var hasTargets = false
    var backwardDone = false
    var dropout: Float = 0
    var encoded, branch, ln, gelu, lnf, lnfMean, lnfRstd, logits, losses: UnsafeMutablePointer<Float>
    var dresidual, dln, dqkv, datty, dfch: UnsafeMutablePointer<Float>
    var embeddingMask: UnsafeMutablePointer<Float>?
    var layers: [BlockBuffers] = []

    /// The sizes carved, in order: the activation layout table. `init` carves memory by it,
    /// `floatCount` adds it up, and MemoryEstimate reads it (in Double).
    private static func sizes<F: SizeArithmetic>(config: GPTConfig, B: Int, T: Int, dropout: Bool,
                                                 as: F.Type) -> (global: [F], layer: [F], ids: F) {
        let C = F(config.modelWidth), N = F(B) * F(T), V = F(config.vocabSize)
        let global = [N * C, N * C, max(N * 5 * C, N * V),    // encoded, branch, gelu + ln (and logits)
                      N * C, N, N, N,                           // lnf, lnfMean, lnfRstd, losses
                      N * 4 * C,                                // dfch (and datty, dqkv)
                      dropout ? N * C : 0]                      // embeddingMask
        let layer = [N, N, N * 3 * C, F(B) * F(config.headCount) * F(T) * F(T), N * C, N * C,
                     N, N, N * 4 * C, N * C,
                     dropout ? N * C : 0, dropout ? N * C : 0]
        return (global, layer, 2 * N)                            // tokens and targets (Int32)
    }

    static func floatCount<F: SizeArithmetic>(config: GPTConfig, B: Int, T: Int, dropout: Bool, as: F.Type) -> F {
        let (g, l, ids) = sizes(config: config, B: B, T: T, dropout: dropout, as: F.self)
        return g.reduce(0, +) + F(config.layerCount) * l.reduce(0, +) + ids
    }

    init(config: GPTConfig, B: Int, T: Int, dropout: Bool) {
        self.B = B
        self.T = T
        arena = FloatBuffer(count: Self.floatCount(config: config, B: B, T: T, dropout: dropout, as: Int.self))
        var next = arena.pointer
        func take(_ n: Int) -> UnsafeMutablePointer<Float> { defer { next += n }; return next }
        let (g, l, ids) = Self.sizes(config: config, B: B, T: T, dropout: dropout, as: Int.self)
        encoded = take(g[0]); branch = take(g[1]); gelu = take(g[2])
        lnf = take(g[3]); lnfMean = take(g[4]); lnfRstd = take(g[5]); losses = take(g[6])
        dfch = take(g[7])
        embeddingMask = dropout ? take(g[8]) : nil
        // Buffers that are never live at the same time share memory:
        // - a LayerNorm's output (ln, recomputed in backward) sits right after GELU's output:
        //   the fc product reads ln while its epilogue writes gelu, so the two must not overlap;
        // - the logits are written after the last block's forward and consumed by the first
        //   steps of backward, before any block recomputes its GELU output;
        // - dresidual starts once the LM head's backward has read lnf;
        // - dln runs from a Linear backward into the LayerNorm backward after it, branch (in
        //   backward, dropout's gradient) from a Dropout backward into the Linear after it;
        // - datty and dqkv (C + 3C wide) live only in a block's attention half, dfch only in its MLP half.
        ln = gelu + B * T * 4 * config.modelWidth
        logits = gelu
        dresidual = lnf
        dln = branch
        datty = dfch
        dqkv = dfch + B * T * config.modelWidth
        for _ in 0..<config.layerCount {
            layers.append(BlockBuffers(ln1Mean: take(l[0]), ln1Rstd: take(l[1]), qkv: take(l[2]), att: take(l[3]),
                                atty: take(l[4]), residual2: take(l[5]),
                                ln2Mean: take(l[6]), ln2Rstd: take(l[7]), fch: take(l[8]), residual3: take(l[9]),
                                attnMask: dropout ? take(l[10]) : nil, mlpMask: dropout ? take(l[11]) : nil))
        }
        // Token ids share the arena (Int32 and Float are both four bytes).
        let tokenIds = UnsafeMutableRawPointer(take(ids)).bindMemory(to: Int32.self, capacity: ids)
        tokens = tokenIds
        targets = tokenIds + B * T
    }
}
