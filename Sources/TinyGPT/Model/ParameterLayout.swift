// Where each parameter tensor lives inside the one contiguous parameter buffer.
// Names and shapes are nanoGPT's state-dict keys (weights stored [out, in], as PyTorch's
// nn.Linear), so checkpoint I/O and safetensors export walk the same table. The LM head is
// tied to `transformer.wte.weight` and has no entry of its own.

/// One named view into the parameter buffer.
public struct ParameterTensor: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    /// Offset in floats from the start of the buffer.
    public var offset: Int
    /// Whether AdamW applies weight decay (matrices yes; biases, LayerNorm gains and biases no).
    public var decays: Bool
    public var count: Int { shape.reduce(1, *) }
}

/// Offsets of one block's tensors, for the forward and backward passes.
public struct BlockOffsets: Sendable {
    public var ln1Weight, ln1Bias: Int           // (C)
    public var qkvWeight, qkvBias: Int           // (3C, C), (3C)
    public var attnProjWeight, attnProjBias: Int // (C, C), (C)
    public var ln2Weight, ln2Bias: Int           // (C)
    public var fcWeight, fcBias: Int             // (4C, C), (4C)
    public var mlpProjWeight, mlpProjBias: Int   // (C, 4C), (C)
}

/// The table of all parameter tensors, in storage order.
public struct ParameterLayout: Sendable {
    public let tensors: [ParameterTensor]
    public let totalCount: Int
    public let tokenEmbedding: Int     // wte (V, C)
    public let positionEmbedding: Int  // wpe (T, C)
    public let blocks: [BlockOffsets]
    public let finalNormWeight: Int    // ln_f (C)
    public let finalNormBias: Int

    public init(_ config: GPTConfig) {
        let V = config.vocabSize, T = config.contextLength, C = config.modelWidth
        var tensors: [ParameterTensor] = []
        var offset = 0
        @discardableResult
        func add(_ name: String, _ shape: [Int], decays: Bool) -> Int {
            let start = offset
            tensors.append(ParameterTensor(name: name, shape: shape, offset: start, decays: decays))
            offset += shape.reduce(1, *)
            return start
        }
        tokenEmbedding = add("transformer.wte.weight", [V, C], decays: true)
        positionEmbedding = add("transformer.wpe.weight", [T, C], decays: true)
        var blocks: [BlockOffsets] = []
        for l in 0..<config.layerCount {
            let p = "transformer.h.\(l)."
            blocks.append(BlockOffsets(
                ln1Weight: add(p + "ln_1.weight", [C], decays: false),
                ln1Bias: add(p + "ln_1.bias", [C], decays: false),
                qkvWeight: add(p + "attn.c_attn.weight", [3 * C, C], decays: true),
                qkvBias: add(p + "attn.c_attn.bias", [3 * C], decays: false),
                attnProjWeight: add(p + "attn.c_proj.weight", [C, C], decays: true),
                attnProjBias: add(p + "attn.c_proj.bias", [C], decays: false),
                ln2Weight: add(p + "ln_2.weight", [C], decays: false),
                ln2Bias: add(p + "ln_2.bias", [C], decays: false),
                fcWeight: add(p + "mlp.c_fc.weight", [4 * C, C], decays: true),
                fcBias: add(p + "mlp.c_fc.bias", [4 * C], decays: false),
                mlpProjWeight: add(p + "mlp.c_proj.weight", [C, 4 * C], decays: true),
                mlpProjBias: add(p + "mlp.c_proj.bias", [C], decays: false)))
        }
        self.blocks = blocks
        finalNormWeight = add("transformer.ln_f.weight", [C], decays: false)
        finalNormBias = add("transformer.ln_f.bias", [C], decays: false)
        self.tensors = tensors
        self.totalCount = offset
    }

    public subscript(name: String) -> ParameterTensor? {
        tensors.first { $0.name == name }
    }
}
