// What an attention head looks at over one prompt, measured from its attention weights:
// the share of each query's attention that lands on a position of a given kind, averaged
// over the queries where that kind exists. Named patterns follow the head-analysis
// literature (previous-token and induction heads: Olsson et al. 2022, "In-context Learning
// and Induction Heads"; the first position as an attention sink: Xiao et al. 2023).

/// A kind of position a head may attend to.
public enum HeadPattern: String, CaseIterable, Sendable {
    /// The character just before the query (t − 1).
    case previousCharacter
    /// The query's own position (t).
    case itself
    /// Earlier copies of the query's character.
    case sameCharacterEarlier
    /// The characters right after earlier copies of the query's character (an induction head).
    case afterSameCharacter
    /// The last three characters (t − 2 ... t) together: a head that reads the local context.
    case recentCharacters
    /// The last space or newline before the query (where its word began).
    case lastSpace
    /// The first character of the query's word (after the last space or newline before it).
    case startOfWord
    /// The first character of the query's line (after the last newline before it).
    case startOfLine
    /// The prompt's first position.
    case firstPosition
    /// Every earlier position about equally (1 − total variation from the uniform row; queries
    /// with at least five keys).
    case spreadEvenly
    /// None of the above holds a clear majority.
    case mixed
}

/// The measured shares of one head and the pattern that fits best.
public struct HeadSummary: Equatable, Sendable {
    /// Each pattern's average share (0...1); a pattern absent from the prompt (no repeated
    /// character, no newline) has no entry.
    public var shares: [HeadPattern: Double]
    /// The pattern that fits: the largest share among the single kinds of position when it
    /// reaches `threshold`; else the larger of the last three characters and spread evenly,
    /// when it reaches `threshold`; else `.mixed`.
    public var pattern: HeadPattern
    /// The share behind `pattern` (the largest share when mixed).
    public var share: Double

    public static let threshold = 0.4

    /// - Parameters:
    ///   - weights: (T, T) attention rows, row = query, zero above the diagonal.
    ///   - tokens: the prompt's ids (T).
    ///   - newline: the id of "\n", if the vocabulary has one; `space` likewise for " ".
    public init(weights: [Float], tokens: [Int32], newline: Int32?, space: Int32? = nil) {
        let T = tokens.count
        precondition(weights.count == T * T, "one (T, T) matrix")
        var sums: [HeadPattern: (total: Double, count: Int)] = [:]
        func add(_ pattern: HeadPattern, _ value: Double) {
            let old = sums[pattern] ?? (0, 0)
            sums[pattern] = (old.total + value, old.count + 1)
        }
        var lineStart = 0, wordStart = 0
        for t in 0..<T {
            if t > 0, let newline, tokens[t - 1] == newline { lineStart = t }
            if t > 0, tokens[t - 1] == newline || tokens[t - 1] == space { wordStart = t }
            // Query 0 has only itself to look at: it tells nothing about the head.
            guard t > 0 else { continue }
            let row = weights[(t * T)..<(t * T + t + 1)].map(Double.init)
            add(.previousCharacter, row[t - 1])
            add(.itself, row[t])
            // Position 0 is also t − 1 for t = 1, and the line start on the first line.
            if t > 1 { add(.firstPosition, row[0]) }
            if lineStart > 0 && lineStart < t - 1 { add(.startOfLine, row[lineStart]) }
            if wordStart > 0 && wordStart < t - 1 { add(.startOfWord, row[wordStart]) }
            if wordStart > 1 && wordStart - 1 < t - 1 { add(.lastSpace, row[wordStart - 1]) }
            if t > 2 { add(.recentCharacters, row[t - 2] + row[t - 1] + row[t]) }
            let copies = (0..<t).filter { tokens[$0] == tokens[t] }
            if !copies.isEmpty { add(.sameCharacterEarlier, copies.reduce(0) { $0 + row[$1] }) }
            let after = copies.map { $0 + 1 }.filter { $0 < t }
            if !after.isEmpty { add(.afterSameCharacter, after.reduce(0) { $0 + row[$1] }) }
            // Rows of a few keys are close to even whatever the head does: from five keys on.
            if t >= 4 {
                let uniform = 1 / Double(t + 1)
                add(.spreadEvenly, 1 - row.reduce(0) { $0 + abs($1 - uniform) } / 2)
            }
        }
        shares = sums.mapValues { $0.total / Double($0.count) }
        // Ties go to the pattern listed first in HeadPattern.
        let single: [HeadPattern] = [.previousCharacter, .itself, .sameCharacterEarlier, .afterSameCharacter,
                                     .lastSpace, .startOfWord, .startOfLine, .firstPosition]
        var best: (pattern: HeadPattern, share: Double) = (.mixed, 0)
        for p in single { if let s = shares[p], s > best.share { best = (p, s) } }
        if best.share < Self.threshold {
            let recent = shares[.recentCharacters] ?? 0, even = shares[.spreadEvenly] ?? 0
            best = recent > even ? (.recentCharacters, recent) : (.spreadEvenly, even)
        }
        if best.share < Self.threshold {
            best.pattern = .mixed
            best.share = shares.values.max() ?? 0
        }
        (pattern, share) = best
    }
}
