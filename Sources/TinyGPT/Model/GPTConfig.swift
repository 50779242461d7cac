// The model's architecture: everything needed to lay out its parameters.
// Training settings (batch, learning rate, dropout, ...) live in `TrainingConfig`.
// Field names follow nanoGPT's GPTConfig (block_size, n_layer, n_head, n_embd).

/// The shape of a GPT: vocabulary, context, depth and width.
public struct GPTConfig: Equatable, Sendable {
    /// Number of distinct characters (token ids are 0..<vocabSize).
    public var vocabSize: Int
    /// Longest sequence the model sees at once (nanoGPT's block_size); T ≤ contextLength.
    public var contextLength: Int
    /// Number of transformer blocks (n_layer).
    public var layerCount: Int
    /// Attention heads per block (n_head); must divide `modelWidth`.
    public var headCount: Int
    /// Embedding width C (n_embd).
    public var modelWidth: Int
    /// The MLP's nonlinearity.
    public var gelu: GELUForm
    /// Whether each block adds its two branches to the stream (x = x + branch, GPT-2's skip
    /// connections) or replaces the stream with them (x = branch): the residual ablation.
    public var residual: Bool

    public init(vocabSize: Int, contextLength: Int = 64, layerCount: Int = 4, headCount: Int = 4,
                modelWidth: Int = 128, gelu: GELUForm = .tanh, residual: Bool = true) {
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.layerCount = layerCount
        self.headCount = headCount
        self.modelWidth = modelWidth
        self.gelu = gelu
        self.residual = residual
    }

    /// Width of one attention head (hs).
    public var headWidth: Int { modelWidth / headCount }

    /// Upper bounds that keep every buffer size far from overflow and allocation failure.
    public static let maxVocabSize = 1 << 21       // every Unicode scalar fits
    public static let maxContextLength = 1 << 16
    public static let maxLayerCount = 1 << 10
    public static let maxHeadCount = 1 << 12
    public static let maxModelWidth = 1 << 14

    /// Throws a usage error naming the first field that is out of range.
    public func validate() throws {
        func check(_ ok: Bool, _ message: @autoclosure () -> String) throws {
            if !ok { throw TinyGPTError.usage(message()) }
        }
        try check(vocabSize >= 1 && vocabSize <= Self.maxVocabSize,
                  "vocabulary size \(vocabSize) is out of range (1...\(Self.maxVocabSize))")
        try check(contextLength >= 1 && contextLength <= Self.maxContextLength,
                  "`contextLength` must be between 1 and \(Self.maxContextLength), got \(contextLength)")
        try check(layerCount >= 1 && layerCount <= Self.maxLayerCount,
                  "`layerCount` must be between 1 and \(Self.maxLayerCount), got \(layerCount)")
        try check(headCount >= 1, "`headCount` must be at least 1, got \(headCount)")
        try check(modelWidth >= 1 && modelWidth <= Self.maxModelWidth,
                  "`modelWidth` must be between 1 and \(Self.maxModelWidth), got \(modelWidth)")
        try check(modelWidth % headCount == 0,
                  "`modelWidth` \(modelWidth) is not divisible by `headCount` \(headCount); pick a width that is a multiple of the head count")
    }
}
