// The character tokenizer: one token per Unicode scalar, ids in sorted scalar order
// (what nanoGPT's `sorted(set(text))` gives for its shakespeare_char example).

/// Maps Unicode scalars to token ids and back. The vocabulary travels in every checkpoint.
public struct CharTokenizer: Equatable, Sendable {
    /// The vocabulary: scalar values in id order, strictly increasing.
    public let scalars: [UInt32]
    /// Fast path for the Basic Multilingual Plane: id + 1, or 0 for "not in the vocabulary".
    private let bmpTable: [Int32]
    private let otherIds: [UInt32: Int32]

    public var vocabSize: Int { scalars.count }

    /// Builds the vocabulary of every distinct scalar in `text`.
    public init(fitting text: [UInt32]) {
        var seen = [Bool](repeating: false, count: 0x11_0000)
        for s in text { seen[Int(s)] = true }
        self.init(present: seen)
    }

    /// The vocabulary of every scalar value v with `present[v]` (a table over all of Unicode).
    init(present: [Bool]) {
        var scalars: [UInt32] = []
        for (value, isPresent) in present.enumerated() where isPresent { scalars.append(UInt32(value)) }
        self.init(uncheckedScalars: scalars)
    }

    /// Restores a vocabulary (e.g. from a checkpoint). Throws unless it is strictly increasing
    /// valid scalar values.
    public init(vocabulary: [UInt32]) throws {
        try Self.validate(vocabulary: vocabulary)
        self.init(uncheckedScalars: vocabulary)
    }

    /// Throws unless `vocabulary` is a usable vocabulary (non-empty, strictly increasing valid
    /// scalar values), without building the lookup tables.
    public static func validate(vocabulary: [UInt32]) throws {
        guard !vocabulary.isEmpty else { throw TinyGPTError.runtime("the vocabulary is empty") }
        for (i, v) in vocabulary.enumerated() {
            if Unicode.Scalar(v) == nil {
                throw TinyGPTError.runtime("the vocabulary holds 0x\(String(v, radix: 16)), which is not a Unicode scalar")
            }
            if i > 0 && vocabulary[i - 1] >= v {
                throw TinyGPTError.runtime("the vocabulary is not in strictly increasing order at entry \(i)")
            }
        }
    }

    private init(uncheckedScalars scalars: [UInt32]) {
        self.scalars = scalars
        var table = [Int32](repeating: 0, count: 0x1_0000)
        var other: [UInt32: Int32] = [:]
        for (id, s) in scalars.enumerated() {
            if s < 0x1_0000 { table[Int(s)] = Int32(id + 1) } else { other[s] = Int32(id) }
        }
        bmpTable = table
        otherIds = other
    }

    public static func == (a: CharTokenizer, b: CharTokenizer) -> Bool { a.scalars == b.scalars }

    /// The id of `scalar`, or nil when the vocabulary lacks it.
    @inline(__always)
    public func id(of scalar: UInt32) -> Int32? {
        if scalar < 0x1_0000 {
            let v = bmpTable[Int(scalar)]
            return v == 0 ? nil : v - 1
        }
        return otherIds[scalar]
    }

    /// Encodes scalars, throwing a usage error that names the first character not in the vocabulary.
    public func encode(_ text: [UInt32]) throws -> [Int32] {
        var ids = [Int32]()
        ids.reserveCapacity(text.count)
        for (position, s) in text.enumerated() {
            guard let id = id(of: s) else {
                throw TinyGPTError.usage(
                    "the character \(Self.describe(s)) at position \(position) is not in the model's vocabulary of \(vocabSize) characters; remove it or train on text that contains it")
            }
            ids.append(id)
        }
        return ids
    }

    public func encode(_ text: String) throws -> [Int32] {
        try encode(TextFile.scalars(of: text))
    }

    /// Decodes ids back to a string.
    public func decode<S: Sequence>(_ ids: S) -> String where S.Element == Int32 {
        var out = String.UnicodeScalarView()
        for id in ids { out.append(Unicode.Scalar(scalars[Int(id)])!) }
        return String(out)
    }

    /// The character for one id, as a string.
    public func character(_ id: Int) -> String {
        String(Character(Unicode.Scalar(scalars[id])!))
    }

    /// A character written so that a terminal shows something visible: 'a', '中', U+000A (newline).
    public static func describe(_ scalar: UInt32) -> String {
        let digits = String(scalar, radix: 16, uppercase: true)
        let hex = "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        guard let s = Unicode.Scalar(scalar) else { return hex }
        switch scalar {
        case 0x0A: return "'\\n' (newline)"
        case 0x09: return "'\\t' (tab)"
        case 0x20: return "' ' (space)"
        case 0..<0x20, 0x7F: return hex
        case 0x2028: return "\(hex) (line separator)"
        case 0x2029: return "\(hex) (paragraph separator)"
        default:
            // A character that shows as nothing (zero-width, other spaces, a lone combining
            // mark, a control) is named by its code only, never printed raw.
            switch s.properties.generalCategory {
            case .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .control, .nonspacingMark,
                 .enclosingMark, .privateUse, .unassigned, .surrogate:
                return hex
            default:
                return "'\(Character(s))' (\(hex))"
            }
        }
    }
}
