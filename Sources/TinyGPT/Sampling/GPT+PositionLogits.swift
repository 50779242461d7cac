// The model's next-character logits at every position of a prompt, for pages that let a
// learner click a character and see what the model predicts after it.

extension GPT {
    /// The logits (T × V) of `tokens` (1 ≤ T ≤ contextLength): row t scores the character that
    /// comes after position t. One inference forward pass (no dropout).
    public func positionLogits(_ tokens: [Int32]) -> [Float] {
        let T = tokens.count, V = config.vocabSize
        precondition(T >= 1 && T <= config.contextLength, "1 to contextLength tokens")
        tokens.withUnsafeBufferPointer { forward(tokens: $0.baseAddress!, B: 1, T: T) }
        var out: [Float] = []
        out.reserveCapacity(T * V)
        for t in 0..<T { out += UnsafeBufferPointer(start: logits(row: t), count: V) }
        return out
    }
}
