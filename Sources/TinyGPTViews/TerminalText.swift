// Plain-text layout for the terminal: how many columns a string takes (Chinese characters
// take two), padding to a column width, and little bar glyphs for probabilities.
// Widths follow UAX #11 (East Asian Width): W and F characters are two columns wide;
// the ranges below cover the W/F blocks of EastAsianWidth.txt that text corpora use.

import TinyGPT

/// Column-aware padding and bars for terminal tables.
public enum TerminalText {
    /// Columns a terminal uses for `text`: 2 for East Asian wide and fullwidth characters,
    /// 0 for combining marks, zero-width characters and controls, 1 for everything else.
    public static func displayWidth(_ text: String) -> Int {
        var width = 0
        for scalar in text.unicodeScalars { width += displayWidth(scalar) }
        return width
    }

    /// `displayWidth` of one scalar.
    public static func displayWidth(_ scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x20 || (0x7F..<0xA0).contains(v) { return 0 }
        if v < 0x300 { return 1 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if v == 0x200B || (0xFE00...0xFE0F).contains(v) { return 0 }
        return isWide(v) ? 2 : 1
    }

    /// True for East Asian Wide (W) or Fullwidth (F) code points.
    static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115F,                 // Hangul Jamo initial consonants
             0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0, 0x23F3,
             0x25FD...0x25FE, 0x2614...0x2615, 0x2648...0x2653, 0x267F, 0x2693, 0x26A1,
             0x26AA...0x26AB, 0x26BD...0x26BE, 0x26C4...0x26C5, 0x26CE, 0x26D4, 0x26EA,
             0x26F2...0x26F3, 0x26F5, 0x26FA, 0x26FD, 0x2705, 0x270A...0x270B, 0x2728,
             0x274C, 0x274E, 0x2753...0x2755, 0x2757, 0x2795...0x2797, 0x27B0, 0x27BF,
             0x2B1B...0x2B1C, 0x2B50, 0x2B55,  // emoji with default emoji presentation
             0x2E80...0x303E,                 // CJK radicals, Kangxi, CJK symbols and punctuation
             0x3041...0x33FF,                 // kana, bopomofo, Hangul compatibility, CJK compatibility
             0x3400...0x4DBF,                 // CJK extension A
             0x4E00...0x9FFF,                 // CJK unified ideographs
             0xA000...0xA4CF,                 // Yi
             0xA960...0xA97F,                 // Hangul Jamo extended A
             0xAC00...0xD7A3,                 // Hangul syllables
             0xF900...0xFAFF,                 // CJK compatibility ideographs
             0xFE10...0xFE19, 0xFE30...0xFE6F,  // vertical forms, CJK compatibility forms, small forms
             0xFF00...0xFF60, 0xFFE0...0xFFE6,  // fullwidth forms
             0x1_6FE0...0x1_B2FF,             // Tangut, Khitan, kana supplement and extensions
             0x1_F300...0x1_F64F, 0x1_F680...0x1_F6FF, 0x1_F900...0x1_F9FF, 0x1_FA70...0x1_FAFF,
             0x2_0000...0x2_FFFD, 0x3_0000...0x3_FFFD:  // CJK extensions B and beyond
            return true
        default:
            return false
        }
    }

    // MARK: - Padding

    /// `text` padded with spaces to `width` columns (left-aligned unless `alignRight`), or
    /// cut to fit with "…" when it is wider.
    public static func pad(_ text: String, to width: Int, alignRight: Bool = false) -> String {
        let fitted = truncate(text, to: width)
        let gap = String(repeating: " ", count: max(0, width - displayWidth(fitted)))
        return alignRight ? gap + fitted : fitted + gap
    }

    /// `text` cut to at most `width` columns, ending in "…" when something was cut.
    public static func truncate(_ text: String, to width: Int) -> String {
        guard displayWidth(text) > width else { return text }
        guard width > 0 else { return "" }
        var out = ""
        var used = 0
        for character in text {
            let w = displayWidth(String(character))
            if used + w > width - 1 { break }
            out.append(character)
            used += w
        }
        return out + "…"
    }

    // MARK: - Bars

    /// A horizontal bar `fraction` (clamped to 0...1) of `width` columns long, drawn with
    /// full blocks and a final eighth block, padded with spaces to exactly `width` columns.
    public static func bar(_ fraction: Double, width: Int) -> String {
        let eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        let clamped = fraction.isFinite ? min(1, max(0, fraction)) : 0
        let total = Int((clamped * Double(width * 8)).rounded())
        var out = String(repeating: "█", count: total / 8)
        out += eighths[total % 8]
        let used = total / 8 + (total % 8 > 0 ? 1 : 0)
        return out + String(repeating: " ", count: max(0, width - used))
    }
}
