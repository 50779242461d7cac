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

/// Where a LayerNorm's gain and bias sit, (C) each.
public struct NormOffsets: Sendable {
    public var weight, bias: Int
}

/// Where a linear layer's weight (outputs, inputs) and bias (outputs) sit, and their sizes.
public struct LinearOffsets: Sendable {
    public var weight, bias: Int
    public var outputs, inputs: Int
}

/// Where one block's tensors sit.
public struct BlockOffsets: Sendable {
    public var ln1: NormOffsets        // ln_1
    public var qkv: LinearOffsets      // attn.c_attn (3C, C)
    public var attnProj: LinearOffsets // attn.c_proj (C, C)
    public var ln2: NormOffsets        // ln_2
    public var fc: LinearOffsets       // mlp.c_fc (4C, C)
    public var mlpProj: LinearOffsets  // mlp.c_proj (C, 4C)
}

/// The table of all parameter tensors, in storage order.
public struct ParameterLayout: Sendable {
    public let tensors: [ParameterTensor]
    public let totalCount: Int
    public let tokenEmbedding: Int     // wte (V, C)
    public let positionEmbedding: Int  // wpe (T, C)
    public let blocks: [BlockOffsets]
    public let finalNorm: NormOffsets  // ln_f

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
        func norm(_ name: String) -> NormOffsets {
            NormOffsets(weight: add(name + ".weight", [C], decays: false), bias: add(name + ".bias", [C], decays: false))
        }
        func linear(_ name: String, outputs: Int, inputs: Int) -> LinearOffsets {
            LinearOffsets(weight: add(name + ".weight", [outputs, inputs], decays: true),
                          bias: add(name + ".bias", [outputs], decays: false), outputs: outputs, inputs: inputs)
        }
        var blocks: [BlockOffsets] = []
        for l in 0..<config.layerCount {
            let p = "transformer.h.\(l)."
            blocks.append(BlockOffsets(
                ln1: norm(p + "ln_1"),
                qkv: linear(p + "attn.c_attn", outputs: 3 * C, inputs: C),
                attnProj: linear(p + "attn.c_proj", outputs: C, inputs: C),
                ln2: norm(p + "ln_2"),
                fc: linear(p + "mlp.c_fc", outputs: 4 * C, inputs: C),
                mlpProj: linear(p + "mlp.c_proj", outputs: C, inputs: 4 * C)))
        }
        self.blocks = blocks
        finalNorm = norm("transformer.ln_f")
        self.tensors = tensors
        self.totalCount = offset
    }

    public subscript(name: String) -> ParameterTensor? {
        tensors.first { $0.name == name }
    }
}
