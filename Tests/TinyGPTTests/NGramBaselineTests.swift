// Tests of the n-gram baselines: each conditional distribution sums to one, the model agrees
// with a naive dictionary implementation of the same formula, the losses behave as they must
// on a deterministic sequence and on uniform random data, and a run's baselines read its
// dataset in place with the same result as arrays.

import XCTest
@testable import TinyGPT

final class NGramBaselineTests: XCTestCase {
    private func randomIds(_ count: Int, vocabSize: Int, seed: UInt64) -> [Int32] {
        var rng = RandomGenerator(seed: seed)
        return (0..<count).map { _ in Int32(rng.nextInt(below: vocabSize)) }
    }

    /// A sequence with structure: mostly a fixed successor, sometimes a random id.
    private func markovIds(_ count: Int, vocabSize: Int, seed: UInt64) -> [Int32] {
        var rng = RandomGenerator(seed: seed)
        var ids: [Int32] = [0]
        while ids.count < count {
            let previous = Int(ids[ids.count - 1])
            ids.append(rng.nextFloat() < 0.7 ? Int32((previous * 3 + 1) % vocabSize) : Int32(rng.nextInt(below: vocabSize)))
        }
        return ids
    }

    func testEveryConditionalDistributionSumsToOne() {
        let V = 7
        let train = markovIds(400, vocabSize: V, seed: 1)
        let model = NGramModel(order: 3, train: train, vocabSize: V)
        // Seen and unseen contexts of every length, including none.
        let contexts: [[Int32]] = [[], [0], [6], [0, 1], [1, 4], [6, 6], [5, 0], [3, 3, 2]]
        for context in contexts {
            for order in 1...3 {
                let total = (0..<V).reduce(0.0) { $0 + model.probability(of: Int32($1), after: context[...], upTo: order) }
                XCTAssertEqual(total, 1, accuracy: 1e-12, "context \(context), order \(order)")
            }
        }
    }

    func testMatchesANaiveImplementationOfTheSameFormula() {
        let V = 5
        let train = markovIds(600, vocabSize: V, seed: 2)
        let model = NGramModel(order: 3, train: train, vocabSize: V)
        var grams: [[Int32]: Int] = [:]
        for n in 1...3 {
            for i in 0...(train.count - n) { grams[Array(train[i..<i + n]), default: 0] += 1 }
        }
        func naive(_ w: Int32, _ context: [Int32]) -> Double {
            var p = Double((grams[[w]] ?? 0) + 1) / Double(train.count + V)
            for n in 2...3 where context.count >= n - 1 {
                let h = Array(context.suffix(n - 1))
                let followers = (0..<V).map { grams[h + [Int32($0)]] ?? 0 }
                let total = Double(followers.reduce(0, +))
                guard total > 0 else { continue }
                let distinct = Double(followers.filter { $0 > 0 }.count)
                p = max(Double(followers[Int(w)]) - 0.75, 0) / total + 0.75 * distinct / total * p
            }
            return p
        }
        for a in 0..<V {
            for b in 0..<V {
                for w in 0..<V {
                    let context: [Int32] = [Int32(a), Int32(b)]
                    XCTAssertEqual(model.probability(of: Int32(w), after: context[...]), naive(Int32(w), context), accuracy: 1e-12)
                }
            }
        }
    }

    func testDeterministicSequenceIsNearlyFreeForBigramAndTrigram() throws {
        let pattern: [Int32] = [0, 1, 2]
        let train = (0..<3000).map { pattern[$0 % 3] }
        let validation = (0..<300).map { pattern[$0 % 3] }
        let results = try NGramBaseline.evaluate(train: train, validation: validation, vocabSize: 3)
        XCTAssertEqual(results.map(\.name), ["unigram", "bigram", "trigram"])
        XCTAssertEqual(results[0].loss, log(3), accuracy: 1e-3)
        // Only the first validation character lacks a context.
        XCTAssertLessThan(results[1].loss, 0.01)
        XCTAssertLessThan(results[2].loss, 0.01)
        XCTAssertLessThan(results[1].loss, results[0].loss / 50)
    }

    func testUniformRandomDataCostsLogVAndContextDoesNotHelp() throws {
        let V = 50
        let train = randomIds(200_000, vocabSize: V, seed: 3)
        let validation = randomIds(20_000, vocabSize: V, seed: 4)
        let results = try NGramBaseline.evaluate(train: train, validation: validation, vocabSize: V)
        XCTAssertEqual(results[0].loss, log(Double(V)), accuracy: 0.01)
        // Fitted honestly on train only, context cannot beat log V on independent data.
        XCTAssertGreaterThan(results[1].loss, results[0].loss - 0.005)
        XCTAssertGreaterThan(results[2].loss, results[0].loss - 0.005)
    }

    func testTrigramSeesWhatTheBigramCannot() throws {
        // The next id is usually a function of the previous two, so the trigram sees what the bigram cannot.
        let V = 20
        var rng = RandomGenerator(seed: 5)
        var ids: [Int32] = [0, 1]
        while ids.count < 100_000 {
            let a = Int(ids[ids.count - 2]), b = Int(ids[ids.count - 1])
            ids.append(rng.nextFloat() < 0.8 ? Int32((a * 7 + b * 3 + 1) % V) : Int32(rng.nextInt(below: V)))
        }
        let results = try NGramBaseline.evaluate(train: Array(ids[..<90_000]), validation: Array(ids[90_000...]), vocabSize: V)
        // One character of context says nothing here (7a + 3b + 1 is uniform over a), two say a lot.
        XCTAssertEqual(results[1].loss, results[0].loss, accuracy: 0.05)
        XCTAssertLessThan(results[2].loss, results[1].loss - 1)
    }

    func testLargeVocabularyAndCorpusWithoutDenseTables() throws {
        // 6000 characters and a million training ids: V³ would be 2·10¹¹ cells.
        let V = 6000
        var rng = RandomGenerator(seed: 6)
        // Zipf-like: small ids are common, as in real text.
        let zipf = { (rng: inout RandomGenerator) -> Int32 in
            Int32(min(V - 1, Int(exp(Double(rng.nextFloat()) * log(Double(V)))) - 1))
        }
        let train = (0..<1_000_000).map { _ in zipf(&rng) }
        let validation = (0..<50_000).map { _ in zipf(&rng) }
        let start = Date()
        let results = try NGramBaseline.evaluate(train: train, validation: validation, vocabSize: V)
        XCTAssertLessThan(Date().timeIntervalSince(start), 20)
        XCTAssertTrue(results.allSatisfy { $0.loss.isFinite && $0.loss > 0 })
        XCTAssertLessThan(results[0].loss, log(Double(V)))
    }

    func testRunBaselinesReadTheDatasetSplitInPlace() throws {
        let V = 30
        let ids = markovIds(20_000, vocabSize: V, seed: 7)
        let data = try TokenDataset(tokens: TokenIds(ids), validationFraction: 0.1, contextLength: 16, name: "ids")
        let fromData = try NGramBaseline.evaluate(data, vocabSize: V)
        let fromArrays = try NGramBaseline.evaluate(train: Array(ids[..<data.trainCount]), validation: Array(ids[data.trainCount...]),
                                                    vocabSize: V)
        XCTAssertEqual(fromData, fromArrays, "the same counts give the same losses to the bit")
        XCTAssertLessThan(fromData[1].loss, fromData[0].loss - 0.3, "the bigram sees the Markov structure")
    }

    func testRejectsAnEmptySplit() {
        XCTAssertThrowsError(try NGramBaseline.evaluate(train: [], validation: [1], vocabSize: 2))
        XCTAssertThrowsError(try NGramBaseline.evaluate(train: [1], validation: [], vocabSize: 2))
    }
}
