// Scoring a model on a whole text: the mean next-character cross-entropy over consecutive
// windows of the context length (each character predicted from the characters before it in
// its window), as bits per character and perplexity too; and the same text held out
// against n-gram counting models fitted on the rest of it.

/// A model's loss on a text.
public struct TextScore: Sendable {
    /// Mean cross-entropy in nats per character.
    public var loss: Double
    /// Characters scored.
    public var positions: Int
    public var bitsPerCharacter: Double { loss / Math.log(2.0) }
    public var perplexity: Double { Math.exp(loss) }
}

public enum Evaluation {
    /// Scores `tokens` with `model` in windows of `model.config.contextLength`, `batchSize`
    /// windows per forward pass. Throws when the text has fewer than two characters.
    /// `progress` is called after each pass with the characters scored so far and in all.
    public static func score(model: GPT, tokens: [Int32], batchSize: Int = 8,
                             progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> TextScore {
        guard tokens.count >= 2 else {
            throw TinyGPTError.runtime("the text is too short to score: it needs at least two characters")
        }
        let T = min(model.config.contextLength, tokens.count - 1)
        // Full windows, then one window ending at the last character for the remainder.
        var starts = Array(stride(from: 0, through: tokens.count - 1 - T, by: T))
        let covered = starts.count * T
        let remainder = tokens.count - 1 - covered
        if remainder > 0 { starts.append(tokens.count - 1 - T) }
        var inputs = [Int32](repeating: 0, count: batchSize * T)
        var targets = [Int32](repeating: 0, count: batchSize * T)
        var total = 0.0
        var counted = 0
        var rng = RandomGenerator(seed: 0)
        for batchStart in stride(from: 0, to: starts.count, by: batchSize) {
            let used = min(batchSize, starts.count - batchStart)
            for b in 0..<batchSize {
                let start = starts[batchStart + min(b, used - 1)]
                for t in 0..<T {
                    inputs[b * T + t] = tokens[start + t]
                    targets[b * T + t] = tokens[start + t + 1]
                }
            }
            inputs.withUnsafeBufferPointer { i in
                targets.withUnsafeBufferPointer { g in
                    _ = model.forward(tokens: i.baseAddress!, targets: g.baseAddress!, B: batchSize, T: T, rng: &rng)
                }
            }
            let losses = model.positionLosses
            for b in 0..<used {
                let window = batchStart + b
                // The remainder window scores only the characters no full window reached.
                let first = (remainder > 0 && window == starts.count - 1) ? T - remainder : 0
                for t in first..<T { total += Double(losses[b * T + t]) }
                counted += T - first
            }
            progress?(counted, tokens.count - 1)
        }
        return TextScore(loss: total / Double(counted), positions: counted)
    }

    /// The last 10% of `tokens` (at least two characters) scored by `model` and by the n-gram
    /// baselines fitted on the first 90%: like for like. Nil when the text is too short to split.
    public static func compareWithBaselines(model: GPT, tokens: [Int32],
                                            progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> BaselineComparison? {
        let split = tokens.count - max(2, tokens.count / 10)
        guard split >= 2 else { return nil }
        let train = Array(tokens[..<split]), held = Array(tokens[split...])
        let score = try Evaluation.score(model: model, tokens: held, progress: progress)
        let baselines = try NGramBaseline.evaluate(train: train, validation: held, vocabSize: model.config.vocabSize)
        return BaselineComparison(heldOutCount: held.count, model: score, baselines: baselines)
    }
}

/// A model and the n-gram baselines on the same held-out text.
public struct BaselineComparison: Sendable {
    /// Characters held out (the last 10%).
    public var heldOutCount: Int
    public var model: TextScore
    public var baselines: [NGramBaseline.Result]
}
