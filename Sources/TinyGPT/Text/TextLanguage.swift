// Which language a text mostly is, as far as pages need to know: a page about a model trained
// on mostly-Chinese text opens in Chinese. Han characters (the Unified Ideographs blocks and
// their extensions) are counted against all letters (Unicode's Alphabetic property, which
// Han characters also have); digits, punctuation and spaces do not count either way.

/// The language a page opens in.
public enum TextLanguage: String, Sendable, Codable, CaseIterable {
    case english = "en"
    case chinese = "zh"

    /// Chinese when more than half of the letters of the text are Han characters.
    public static func guess<S: Sequence>(scalars: S) -> TextLanguage where S.Element == Unicode.Scalar {
        var counts: [Unicode.Scalar: Int] = [:]
        for s in scalars { counts[s, default: 0] += 1 }
        return guess(scalars: Array(counts.keys), counts: Array(counts.values))
    }

    /// The same, from how often each character occurs (`scalars[i]` `counts[i]` times): a
    /// long text is counted once by id, and each distinct character's properties read once.
    public static func guess(scalars: [Unicode.Scalar], counts: [Int]) -> TextLanguage {
        var han = 0, letters = 0
        for (s, n) in zip(scalars, counts) where n > 0 && s.properties.isAlphabetic {
            letters += n
            if isHan(s) { han += n }
        }
        return letters > 0 && 2 * han > letters ? .chinese : .english
    }

    public static func guess(_ text: String) -> TextLanguage { guess(scalars: text.unicodeScalars) }

    /// A Han ideograph: CJK Unified Ideographs, Extension A, the compatibility block, and the
    /// supplementary ideographic planes (extensions B onwards).
    public static func isHan(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0xF900...0xFAFF, 0x2_0000...0x3_FFFF: return true
        default: return false
        }
    }
}
