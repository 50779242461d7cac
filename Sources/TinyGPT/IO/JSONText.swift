// The one JSON writer: keys in the order written, compact numbers, strings escaped per RFC 8259
// §7. Plain output (safetensors headers, sidecars, export) writes every scalar but quotes,
// backslashes and control characters as itself. `.scriptElement` output can also sit inside an
// HTML page's <script> element that is also XML (the views' pages): `<`, `>` and `&` become
// \u003c, \u003e, \u0026 (so no "</script>", "<!--" or "]]>" can appear), U+2028 and U+2029
// are escaped (older JavaScript ends a line there), and characters XML 1.0 forbids become
// U+FFFD.

/// Writes JSON text piece by piece; commas are placed by the writer.
public struct JSONText {
    /// Which characters a string escapes.
    public enum Escaping: Sendable {
        /// Quotes, backslashes and control characters only (UTF-8 everywhere else).
        case plain
        /// Also what a <script> element in an XHTML page needs (see the file comment).
        case scriptElement
    }

    public let escaping: Escaping
    public private(set) var text = ""
    private var needsComma = false

    public init(escaping: Escaping = .plain) {
        self.escaping = escaping
    }

    private mutating func separate() {
        if needsComma { text += "," }
        needsComma = true
    }

    public mutating func open() { separate(); text += "{"; needsComma = false }
    public mutating func close() { text += "}"; needsComma = true }
    /// An object key; `name` is escaped like any string.
    public mutating func key(_ name: String) {
        separate()
        Self.appendString(name, escaping: escaping, to: &text)
        text += ":"
        needsComma = false
    }
    public mutating func null() { separate(); text += "null" }
    /// Text that is already JSON (e.g. `true`).
    public mutating func raw(_ literal: String) { separate(); text += literal }
    public mutating func int(_ v: Int) { separate(); text += String(v) }
    public mutating func string(_ s: String) { separate(); Self.appendString(s, escaping: escaping, to: &text) }

    public mutating func array<E>(_ items: [E], _ body: (inout JSONText, E) -> Void) {
        separate()
        text += "["
        needsComma = false
        for item in items { body(&self, item) }
        text += "]"
        needsComma = true
    }

    public mutating func strings(_ items: [String]) { array(items) { $0.string($1) } }
    public mutating func ints(_ items: [Int]) { separate(); text += "[" + items.map(String.init).joined(separator: ",") + "]" }
    /// Each value rounded to `decimals` places (see `appendNumber`).
    public mutating func numbers(_ items: [Float], decimals: Int) {
        separate()
        text += "["
        for (i, v) in items.enumerated() {
            if i > 0 { text += "," }
            Self.appendNumber(v, decimals: decimals, to: &text)
        }
        text += "]"
    }
    public mutating func number(_ v: Float, decimals: Int) { separate(); Self.appendNumber(v, decimals: decimals, to: &text) }
    /// One value as the shortest decimal that reads back as the same Float ("0.7", not 0.699999988…).
    public mutating func exactOne(_ v: Float) { separate(); text += "\(v)" }
    /// Each value as the shortest decimal that reads back as the same Double (so as the same Float).
    public mutating func exact(_ items: [Float]) {
        separate()
        text += "[" + items.map { "\(Double($0))" }.joined(separator: ",") + "]"
    }

    // MARK: - Pieces

    /// `s` as a JSON string literal.
    public static func quote(_ s: String, escaping: Escaping = .plain) -> String {
        var out = ""
        appendString(s, escaping: escaping, to: &out)
        return out
    }

    /// `v` rounded to `decimals` places, without trailing zeros ("0.25", "-1.5", "0").
    /// Written digit by digit: String(format:) is too slow for a few hundred thousand numbers.
    public static func appendNumber(_ v: Float, decimals: Int, to out: inout String) {
        precondition(v.isFinite && decimals >= 0 && decimals <= 9)
        var scale = 1
        for _ in 0..<decimals { scale *= 10 }
        let r = (Double(v) * Double(scale)).rounded()
        guard r != 0 else { out += "0"; return }
        if r < 0 { out += "-" }
        let n = Int(abs(r))
        out += String(n / scale)
        var fraction = n % scale, digits = decimals
        guard fraction != 0 else { return }
        while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
        let f = String(fraction)
        out += "." + String(repeating: "0", count: digits - f.count) + f
    }

    public static func appendString(_ s: String, escaping: Escaping, to out: inout String) {
        let forScript = escaping == .scriptElement
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}" where !forScript: out += "\\b"
            case "\u{0C}" where !forScript: out += "\\f"
            case "<" where forScript, ">" where forScript, "&" where forScript,
                 "\u{7F}" where forScript, "\u{2028}" where forScript, "\u{2029}" where forScript:
                appendUnicodeEscape(scalar.value, to: &out)
            default:
                if scalar.value < 0x20 {
                    appendUnicodeEscape(scalar.value, to: &out)
                } else if forScript && !XMLCharacters.allows(scalar) {
                    out += "\\ufffd"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    /// `\uXXXX`, lower-case hex.
    private static func appendUnicodeEscape(_ value: UInt32, to out: inout String) {
        let hex = String(value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}

/// Which characters an XML 1.0 document may hold: the `Char` production of XML 1.0 (5th ed.),
/// §2.2.
public enum XMLCharacters {
    /// True for tab, newline, carriage return, and everything from U+0020 except surrogates,
    /// U+FFFE and U+FFFF.
    public static func allows(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: return true
        case 0x20...0xD7FF, 0xE000...0xFFFD, 0x1_0000...0x10_FFFF: return true
        default: return false
        }
    }
}
