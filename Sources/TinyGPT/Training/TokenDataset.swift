// A tokenised corpus split into training and validation parts (the last fraction held out,
// as nanoGPT's prepare.py splits), and the random windows a batch is made of.

/// Token ids with a train/validation split.
public struct TokenDataset: Sendable {
    public let tokens: TokenIds
    /// Ids 0..<trainCount are for training, the rest for validation.
    public let trainCount: Int

    /// Splits `tokens`, holding out the last `validationFraction`. Throws when either part is
    /// too short to hold one window of `contextLength + 1` tokens.
    public init(tokens: TokenIds, validationFraction: Double, contextLength: Int, name: String) throws {
        let validation = Int((Double(tokens.count) * validationFraction).rounded())
        let train = tokens.count - validation
        let needed = contextLength + 1
        if train < needed || validation < needed {
            let minimum = Int((Double(needed) / min(validationFraction, 1 - validationFraction)).rounded(.up))
            throw TinyGPTError.runtime(
                "\(name) has \(tokens.count) characters, too short for a context of \(contextLength) (each split needs \(needed)); use a longer text (at least \(minimum) characters) or a smaller `contextLength`")
        }
        self.tokens = tokens
        self.trainCount = train
    }

    public var validationCount: Int { tokens.count - trainCount }

    /// Fills inputs and targets (B, T) with B random windows from the chosen split.
    public func sampleBatch(inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>,
                            B: Int, T: Int, validation: Bool, rng: inout RandomGenerator) {
        let start = validation ? trainCount : 0
        let count = validation ? validationCount : trainCount
        for b in 0..<B {
            let offset = start + rng.nextInt(below: count - T)
            tokens.copy(offset..<offset + T, to: inputs + b * T)
            tokens.copy(offset + 1..<offset + 1 + T, to: targets + b * T)
        }
    }
}
