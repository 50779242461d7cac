// Simple measures of a generated text that show degeneration at low temperature: how many
// of its characters are distinct, and how long its longest repeated stretch is.
// Characters are Unicode scalars, as everywhere in TinyGPT.

/// Statistics of one sampled continuation.
public enum TextStatistics {
    /// Distinct characters divided by characters (0 for empty text). "abab" → 0.5.
    public static func distinctCharacterRatio(_ text: String) -> Double {
        let scalars = Array(text.unicodeScalars)
        guard !scalars.isEmpty else { return 0 }
        return Double(Set(scalars).count) / Double(scalars.count)
    }

    /// Length of the longest substring that occurs at least twice, occurrences allowed to
    /// overlap: "abcXabc" → 3, "aaaa" → 3, "abcd" → 0.
    /// Dynamic programming over pairs of end positions, O(n²) time and O(n) memory: the
    /// longest common suffix of text[..<i] and text[..<j] for i < j is one more than that of
    /// text[..<i-1] and text[..<j-1] when text[i-1] == text[j-1], else 0.
    public static func longestRepeatedSubstringLength(_ text: String) -> Int {
        let s = text.unicodeScalars.map(\.value)
        let n = s.count
        guard n >= 2 else { return 0 }
        // previous[j] holds the common-suffix length for the pair (i - 1, j).
        var previous = [Int](repeating: 0, count: n + 1)
        var current = [Int](repeating: 0, count: n + 1)
        var best = 0
        for i in 1...n {
            if i + 1 <= n {
                for j in (i + 1)...n {
                    if s[i - 1] == s[j - 1] {
                        let length = previous[j - 1] + 1
                        current[j] = length
                        if length > best { best = length }
                    } else {
                        current[j] = 0
                    }
                }
            }
            swap(&previous, &current)
        }
        return best
    }
}
