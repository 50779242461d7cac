// Counting baselines for the validation loss: unigram, bigram and trigram character models
// fitted on the training ids only, scored as mean cross-entropy (nats per character) on the
// validation ids, the same unit as the GPT's loss. A GPT that cannot beat the bigram has
// learned little beyond character pairs.
//
// Smoothing (nothing is tuned on validation data):
// - unigram: add-one (Laplace), p(w) = (c(w) + 1) / (N + V), so every character has mass;
// - order n ≥ 2: interpolated absolute discounting (Ney, Essen & Kneser, 1994) with the
//   fixed discount D = 0.75 that Chen & Goodman (1998) found near-optimal,
//     p(w | h) = max(c(h w) − D, 0) / c(h) + D · N₁₊(h •) / c(h) · p(w | h′),
//   where h′ drops the oldest character of h and N₁₊(h •) counts distinct followers of h.
//   A context never seen in training falls back to p(w | h′). Each level sums to one.
// Counts live in hash tables keyed by n-grams packed into Int64 (id₀·V^(n−1) + … + idₙ₋₁),
// filled in one streaming pass over the ids, so memory grows with the number of distinct
// n-grams (a few thousand for English text) and never with V² or V³ or the corpus length.

/// Counting n-gram language models as baselines for the GPT's validation loss.
public enum NGramBaseline {
    /// The validation loss of one baseline.
    public struct Result: Equatable, Sendable {
        /// "unigram", "bigram", "trigram" (or "5-gram" for higher orders).
        public var name: String
        public var order: Int
        /// Mean cross-entropy on the validation ids, in nats per character.
        public var loss: Double
    }

    /// Training ids the baselines of a run count at most (the last ones of the training split),
    /// and validation ids they score at most (the first ones): on a 200 MB corpus, counting
    /// everything would cost more than the training run.
    public static let maxTrainingIds = 10_000_000
    public static let maxValidationIds = 1_000_000

    /// Fits models of order 1...maxOrder on `train` and scores each on `validation`.
    /// The first characters of `validation` are scored with the context available.
    public static func evaluate(train: [Int32], validation: [Int32], vocabSize: Int, maxOrder: Int = 3) throws -> [Result] {
        try fitAndScore(train: train, validation: validation, vocabSize: vocabSize, maxOrder: maxOrder)
    }

    /// The baselines of a training run on `data`: fitted on its training split and scored on
    /// its validation split (at most `maxTrainingIds` and `maxValidationIds` of them), reading
    /// the ids in place.
    public static func evaluate(_ data: TokenDataset, vocabSize: Int, maxOrder: Int = 3) throws -> [Result] {
        let trainStart = max(0, data.trainCount - maxTrainingIds)
        let validationEnd = min(data.tokens.count, data.trainCount + maxValidationIds)
        return try fitAndScore(train: data.tokens[trainStart..<data.trainCount],
                            validation: data.tokens[data.trainCount..<validationEnd],
                            vocabSize: vocabSize, maxOrder: maxOrder)
    }

    static func fitAndScore<Ids: RandomAccessCollection>(train: Ids, validation: Ids, vocabSize: Int, maxOrder: Int) throws -> [Result]
        where Ids.Element == Int32, Ids.Index == Int {
        guard !train.isEmpty, !validation.isEmpty else {
            throw TinyGPTError.runtime("the corpus is too short for the n-gram baselines: they need both training and validation characters")
        }
        let model = NGramModel(order: maxOrder, ids: train, vocabSize: vocabSize)
        let losses = model.crossEntropies(of: validation)
        return losses.enumerated().map { index, loss in
            Result(name: name(order: index + 1), order: index + 1, loss: loss)
        }
    }

    public static func name(order: Int) -> String {
        switch order {
        case 1: return "unigram"
        case 2: return "bigram"
        case 3: return "trigram"
        default: return "\(order)-gram"
        }
    }
}

/// An interpolated absolute-discounting n-gram model over token ids (see the file header).
public struct NGramModel: Sendable {
    public static let discount = 0.75

    public let order: Int
    public let vocabSize: Int
    /// Training count of each id.
    let unigramCounts: [Int]
    let trainCount: Int
    /// tables[n - 2] holds the counts of order n.
    let tables: [NGramTable]

    /// Counts every n-gram of order 1...order in `train`.
    public init(order: Int, train: [Int32], vocabSize: Int) {
        self.init(order: order, ids: train, vocabSize: vocabSize)
    }

    init<Ids: Collection>(order: Int, ids train: Ids, vocabSize: Int) where Ids.Element == Int32 {
        precondition(order >= 1 && vocabSize >= 1)
        precondition(Double(vocabSize) * Math.pow(Double(vocabSize), Double(order - 1)) < 9e18,
                     "vocabulary^order must fit in Int64")
        precondition(train.allSatisfy { $0 >= 0 && Int($0) < vocabSize }, "token ids must lie in 0..<vocabSize")
        self.order = order
        self.vocabSize = vocabSize
        var counts = [Int](repeating: 0, count: vocabSize)
        for id in train { counts[Int(id)] += 1 }
        unigramCounts = counts
        trainCount = train.count
        tables = order < 2 ? [] : (2...order).map { NGramTable(order: $0, ids: train, vocabSize: vocabSize) }
    }

    /// p(next | context) under the model of order `order` (or lower when `upTo` is given),
    /// using at most the last order − 1 ids of `context`.
    public func probability(of next: Int32, after context: ArraySlice<Int32>, upTo maxOrder: Int? = nil) -> Double {
        var result = 0.0
        levels(of: next, context: context, maxOrder: min(order, maxOrder ?? order)) { _, p in result = p }
        return result
    }

    /// Mean −log p of each id of `ids` given the ids before it, for every order 1...order.
    public func crossEntropies(_ ids: [Int32]) -> [Double] {
        crossEntropies(of: ids)
    }

    func crossEntropies<Ids: RandomAccessCollection>(of ids: Ids) -> [Double] where Ids.Element == Int32, Ids.Index == Int {
        precondition(!ids.isEmpty)
        precondition(ids.allSatisfy { $0 >= 0 && Int($0) < vocabSize }, "token ids must lie in 0..<vocabSize")
        var sums = [Double](repeating: 0, count: order)
        for i in ids.indices {
            let context = ids[max(ids.startIndex, i - order + 1)..<i]
            levels(of: ids[i], context: context, maxOrder: order) { n, p in sums[n - 1] -= Math.log(p) }
        }
        return sums.map { $0 / Double(ids.count) }
    }

    /// Calls `visit(n, p_n)` for n = 1...maxOrder, each p_n interpolated with p_{n−1}.
    private func levels<Context: BidirectionalCollection>(of next: Int32, context: Context, maxOrder: Int,
                                                          _ visit: (Int, Double) -> Void) where Context.Element == Int32 {
        let V = Int64(vocabSize)
        var p = Double(unigramCounts[Int(next)] + 1) / Double(trainCount + vocabSize)
        visit(1, p)
        guard maxOrder >= 2 else { return }
        for n in 2...maxOrder {
            // The last n − 1 ids of the context, when there are that many.
            if context.count >= n - 1 {
                var contextKey: Int64 = 0
                for id in context.suffix(n - 1) { contextKey = contextKey * V + Int64(id) }
                let table = tables[n - 2]
                if let c = table.contexts[contextKey] {
                    let total = Double(c.total)
                    let distinct = Double(c.followers)
                    let count = Double(table.counts[contextKey * V + Int64(next)] ?? 0)
                    let d = NGramModel.discount
                    p = max(count - d, 0) / total + d * distinct / total * p
                }
            }
            visit(n, p)
        }
    }
}

/// Counts of all n-grams of one order, and of their (n−1)-gram contexts, keyed by packed ids.
struct NGramTable: Sendable {
    /// What a context h was seen with: c(h), the n-grams starting with it, and N₁₊(h •), the
    /// distinct characters following it.
    struct ContextCounts: Sendable {
        var total: Int32 = 0
        var followers: Int32 = 0

        /// Counts a follower seen `count` times after the context.
        mutating func add(followerSeen count: Int32) {
            total += count
            followers += 1
        }
    }

    let order: Int
    /// c(h w) of every packed n-gram seen.
    let counts: [Int64: Int32]
    /// The counts of every packed context seen (an n-gram key divided by V).
    let contexts: [Int64: ContextCounts]

    init<Ids: Collection>(order: Int, ids: Ids, vocabSize: Int) where Ids.Element == Int32 {
        precondition(ids.count < Int(Int32.max), "the corpus must have fewer than 2^31 characters")
        self.order = order
        let V = Int64(vocabSize)
        // The key of the n ids ending at the current one: the previous key without its
        // oldest id (modulo V^(n−1)), shifted by one place, plus the current id.
        var modulus: Int64 = 1
        for _ in 1..<order { modulus *= V }
        var counts: [Int64: Int32] = [:]
        var key: Int64 = 0
        var seen = 0
        for id in ids {
            key = key % modulus * V + Int64(id)
            seen += 1
            if seen >= order { counts[key, default: 0] += 1 }
        }
        var contexts: [Int64: ContextCounts] = [:]
        for (key, count) in counts { contexts[key / V, default: ContextCounts()].add(followerSeen: count) }
        self.counts = counts
        self.contexts = contexts
    }
}
