// One transformer block, written once: GPT-2's pre-norm block (nanoGPT's Block).
//
//   x = x + drop(attn(ln_1(x)))      attn(h) = c_proj(attention(c_attn(h)))
//   x = x + drop(mlp(ln_2(x)))       mlp(h)  = c_proj(gelu(c_fc(h)))
//
// Two passes run blocks: the training pass over a whole batch (GPT.forward) and the cached
// pass over only the newest positions (Sampling/KVCache.swift). Each brings its own kernels and
// buffers as a `BlockSteps`; `Block.forward` is the one place that says which steps a block
// takes, in which order, on which weights. The backward pass (GPT.backward) walks the same
// steps in reverse. Dropout belongs to the residual step; the cached pass has none.
// Without skip connections (`GPTConfig.residual` false, the residual ablation) each branch
// replaces the stream instead: x = drop(attn(ln_1(x))), x = drop(mlp(ln_2(x))).

/// The steps a block is made of, as one pass computes them. They act on the block's values by
/// role: x the residual stream, h a LayerNorm's output, qkv c_attn's output (Q, K, V side by
/// side), y attention's output (heads side by side), a the MLP's hidden activation.
protocol BlockSteps {
    /// h = LayerNorm(x) with the weights at `w`.
    mutating func layerNorm(_ norm: Block.Norm, _ w: NormOffsets)
    /// The layer's output = its input · Wᵀ + b, then `epilogue` on that output.
    mutating func linear(_ layer: Block.LinearLayer, _ w: LinearOffsets, then epilogue: Block.AfterLinear)
    /// y = softmax(q·kᵀ / √hs, causal) · v, for every head, from qkv.
    mutating func attention()
}

enum Block {
    /// The block's two LayerNorms.
    enum Norm { case ln1, ln2 }

    /// The block's four linear layers, with what each reads and writes.
    enum LinearLayer {
        case qkv       // attn.c_attn: h → qkv      (C → 3C)
        case attnProj  // attn.c_proj: y → branch   (C → C)
        case fc        // mlp.c_fc:    h → c_fc(h)  (C → 4C)
        case mlpProj   // mlp.c_proj:  a → branch   (4C → C)
    }

    /// What follows a linear layer's product.
    enum AfterLinear {
        /// Nothing: the product is the step's result.
        case none
        /// a = gelu(product)
        case gelu
        /// x = x + drop(product)
        case residual
        /// x = drop(product): the block without its skip connection
        case replace
    }

    /// Runs one block on `steps` with the weights at `w`; `residual` is `GPTConfig.residual`.
    @inline(__always)
    static func forward<Steps: BlockSteps>(_ steps: inout Steps, _ w: BlockOffsets, residual: Bool) {
        let join: AfterLinear = residual ? .residual : .replace
        // x = x + drop(attn(ln_1(x)))      (x = drop(attn(ln_1(x))) without residual)
        steps.layerNorm(.ln1, w.ln1)                            // h = ln_1(x)
        steps.linear(.qkv, w.qkv, then: .none)                  // qkv = c_attn(h)
        steps.attention()                                       // y = attention(qkv)
        steps.linear(.attnProj, w.attnProj, then: join)         // x = x + drop(c_proj(y))
        // x = x + drop(mlp(ln_2(x)))       (x = drop(mlp(ln_2(x))) without residual)
        steps.layerNorm(.ln2, w.ln2)                            // h = ln_2(x)
        steps.linear(.fc, w.fc, then: .gelu)                    // a = gelu(c_fc(h))
        steps.linear(.mlpProj, w.mlpProj, then: join)           // x = x + drop(c_proj(a))
    }
}
