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
// Counts live in sorted arrays of n-grams packed into Int64 (id₀·V^(n−1) + … + idₙ₋₁),
// found by binary search, so memory grows with the corpus and never with V² or V³.

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

    /// Fits models of order 1...maxOrder on `train` and scores each on `validation`.
    /// The first characters of `validation` are scored with the context available.
    public static func evaluate(train: [Int32], validation: [Int32], vocabSize: Int, maxOrder: Int = 3) throws -> [Result] {
        guard !train.isEmpty, !validation.isEmpty else {
            throw TinyGPTError.runtime("the corpus is too short for the n-gram baselines: they need both training and validation characters")
        }
        let model = NGramModel(order: maxOrder, train: train, vocabSize: vocabSize)
        let losses = model.crossEntropies(validation)
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
        precondition(order >= 1 && vocabSize >= 1)
        precondition(Double(vocabSize) * pow(Double(vocabSize), Double(order - 1)) < 9e18,
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
        precondition(!ids.isEmpty)
        precondition(ids.allSatisfy { $0 >= 0 && Int($0) < vocabSize }, "token ids must lie in 0..<vocabSize")
        var sums = [Double](repeating: 0, count: order)
        for i in ids.indices {
            let context = ids[max(0, i - order + 1)..<i]
            levels(of: ids[i], context: context, maxOrder: order) { n, p in sums[n - 1] -= log(p) }
        }
        return sums.map { $0 / Double(ids.count) }
    }

    /// Calls `visit(n, p_n)` for n = 1...maxOrder, each p_n interpolated with p_{n−1}.
    private func levels(of next: Int32, context: ArraySlice<Int32>, maxOrder: Int, _ visit: (Int, Double) -> Void) {
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
                if let c = table.contextIndex(contextKey) {
                    let total = Double(table.contextTotals[c])
                    let distinct = Double(table.contextFollowers[c])
                    let count = Double(table.count(of: contextKey * V + Int64(next)))
                    let d = NGramModel.discount
                    p = max(count - d, 0) / total + d * distinct / total * p
                }
            }
            visit(n, p)
        }
    }
}

/// Counts of all n-grams of one order, and of their (n−1)-gram contexts, as sorted arrays.
struct NGramTable: Sendable {
    let order: Int
    /// Distinct packed n-grams, ascending, and how often each occurs.
    let keys: [Int64]
    let counts: [Int32]
    /// Distinct packed contexts (an n-gram key divided by V), ascending; how many n-grams
    /// start with each (c(h)), and how many distinct characters follow each (N₁₊(h •)).
    let contextKeys: [Int64]
    let contextTotals: [Int32]
    let contextFollowers: [Int32]

    init(order: Int, ids: [Int32], vocabSize: Int) {
        precondition(ids.count < Int(Int32.max), "the corpus must have fewer than 2^31 characters")
        self.order = order
        let V = Int64(vocabSize)
        let n = ids.count - order + 1
        var packed = [Int64](repeating: 0, count: max(0, n))
        for i in 0..<max(0, n) {
            var key: Int64 = 0
            for j in 0..<order { key = key * V + Int64(ids[i + j]) }
            packed[i] = key
        }
        packed.sort()

        var keys: [Int64] = [], counts: [Int32] = []
        var contextKeys: [Int64] = [], totals: [Int32] = [], followers: [Int32] = []
        var i = 0
        while i < packed.count {
            var j = i + 1
            while j < packed.count && packed[j] == packed[i] { j += 1 }
            keys.append(packed[i])
            counts.append(Int32(j - i))
            let context = packed[i] / V
            if contextKeys.last == context {
                totals[totals.count - 1] += Int32(j - i)
                followers[followers.count - 1] += 1
            } else {
                contextKeys.append(context)
                totals.append(Int32(j - i))
                followers.append(1)
            }
            i = j
        }
        self.keys = keys
        self.counts = counts
        self.contextKeys = contextKeys
        contextTotals = totals
        contextFollowers = followers
    }

    /// Index of `key` in `contextKeys`, or nil when the context never occurred.
    func contextIndex(_ key: Int64) -> Int? { Self.search(contextKeys, key) }

    /// Training count of the packed n-gram `key` (0 when unseen).
    func count(of key: Int64) -> Int {
        Self.search(keys, key).map { Int(counts[$0]) } ?? 0
    }

    /// Binary search in an ascending array.
    static func search(_ array: [Int64], _ key: Int64) -> Int? {
        var low = 0, high = array.count
        while low < high {
            let mid = (low + high) / 2
            if array[mid] < key { low = mid + 1 } else { high = mid }
        }
        return low < array.count && array[low] == key ? low : nil
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
