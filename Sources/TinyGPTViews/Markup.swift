// Text that goes into SVG and HTML: XML escaping, visible stand-ins for whitespace and
// control characters, number formatting, and the font lists every report uses.
// Which characters XML allows: `XMLCharacters` (library, IO/JSONText.swift).

import Foundation
import TinyGPT

/// Helpers shared by every report that writes SVG or (XHTML-compatible) HTML.
public enum Markup {
    /// Sans-serif fonts, with CJK fonts listed so that Chinese renders on Linux, macOS and Windows
    /// (`--sans` in Pages/theme.css).
    public static let sansFonts = Theme.value("--sans")
    /// Monospaced fonts for generated text, again with CJK fallbacks (`--mono` in theme.css).
    public static let monoFonts = Theme.value("--mono")

    // MARK: - Escaping

    /// True when XML 1.0 allows `scalar` in a document (tab, newline, carriage return,
    /// and everything from U+0020 except surrogates, U+FFFE and U+FFFF).
    public static func isAllowedInXML(_ scalar: Unicode.Scalar) -> Bool {
        XMLCharacters.allows(scalar)
    }

    /// `text` escaped for XML character data and attribute values: `& < > " '` become
    /// entity references, a carriage return becomes `&#13;` (so parsers keep it), and
    /// characters XML 1.0 forbids become U+FFFD. Newlines and tabs are kept as they are.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\r": out += "&#13;"
            default:
                out.unicodeScalars.append(isAllowedInXML(scalar) ? scalar : "\u{FFFD}")
            }
        }
        return out
    }

    // MARK: - Visible characters

    /// A one-character stand-in that a reader can see for whitespace and control characters:
    /// newline → "⏎", space → "␣", tab → "⇥", other C0 controls → their Control Pictures
    /// (U+2400 block), DEL → "␡", C1 controls and non-characters → "�", the line and paragraph
    /// separators U+2028 and U+2029 → "␤" and "¶", other spaces (no-break, ideographic …) → "⍽",
    /// and characters that take no room (zero-width space and joiners, the byte-order mark,
    /// soft hyphen: Unicode's format characters) → "◌", the placeholder Unicode itself uses.
    /// Everything else is returned unchanged. Not escaped: pass the result through `escape`.
    public static func visible(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            out += visibleSymbol(scalar)
        }
        return out
    }

    /// `visible` for a single scalar.
    public static func visibleSymbol(_ scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0x0A: return "⏎"
        case 0x20: return "␣"
        case 0x09: return "⇥"
        case 0x00..<0x20:
            return String(Character(Unicode.Scalar(0x2400 + scalar.value) ?? "\u{FFFD}"))
        case 0x7F: return "␡"
        case 0x80..<0xA0, 0xFFFE, 0xFFFF: return "\u{FFFD}"
        case 0x2028: return "␤"
        case 0x2029: return "¶"
        default:
            switch scalar.properties.generalCategory {
            case .spaceSeparator: return "⍽"
            case .format: return "◌"
            default: return String(Character(scalar))
            }
        }
    }

    /// `text` with whitespace other than spaces and newlines, and control characters, made
    /// visible, for running text in a `white-space: pre-wrap` block (newlines stay line breaks).
    public static func visibleKeepingLines(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar == "\n" || scalar == " " { out.unicodeScalars.append(scalar) } else { out += visibleSymbol(scalar) }
        }
        return out
    }

    // MARK: - Numbers

    /// `value` with exactly `digits` decimals ("0.41"); "nan", "inf" or "-inf" when not finite.
    public static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
        let text = String(format: "%.\(max(0, digits))f", value)
        // "-0.00" reads as a bug in a table; print it as "0.00".
        let isNegativeZero = text.hasPrefix("-") && text.dropFirst().allSatisfy { $0 == "0" || $0 == "." }
        return isNegativeZero ? String(text.dropFirst()) : text
    }

    /// A coordinate for an SVG attribute: at most two decimals, trailing zeros dropped.
    public static func coordinate(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        var text = fixed(value, 2)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
