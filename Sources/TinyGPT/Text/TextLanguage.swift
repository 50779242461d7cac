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
        var han = 0, letters = 0
        for s in scalars where s.properties.isAlphabetic {
            letters += 1
            if isHan(s) { han += 1 }
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
