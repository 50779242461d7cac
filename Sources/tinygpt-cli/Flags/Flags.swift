// A small, strict command-line flag parser: each subcommand declares its flags and
// positional arguments once (`CommandSpec`), and the same declaration drives parsing,
// validation and `--help`. Syntax follows the GNU long-option convention (`--name value`,
// `--name=value`, `--` ends the options); the "did you mean" hint uses the optimal string
// alignment (restricted Damerau-Levenshtein) distance.

import TinyGPT

// MARK: - Declarations

/// One `--name` a command accepts. Build it with the static constructors, e.g.
/// `.int("--steps", "N", in: 1...1_000_000, help: "optimizer steps", default: "2000")`.
public struct FlagSpec: Sendable {
    /// What a flag's value must be.
    public enum ValueKind: Sendable, Equatable {
        /// A switch: present or absent, takes no value (`--greedy`).
        case boolean
        /// A whole number within the range.
        case int(ClosedRange<Int>)
        /// A whole number from 0 to `UInt64.max` (seeds).
        case uint64
        /// A finite number within the range; also fits a `Float`.
        case float(FloatRange)
        /// Comma-separated finite numbers, each within the range (`0,0.5,1`).
        case floatList(FloatRange)
        /// Any non-empty text.
        case string
        /// One of a fixed set of words.
        case choice([String])
    }

    /// Spelled with two leading dashes: "--steps".
    public var name: String
    /// Placeholder for the value in help and messages ("N"); nil for a boolean switch.
    public var valueName: String?
    /// One sentence for `--help`.
    public var help: String
    public var kind: ValueKind
    /// Shown in `--help` as "(default: …)" when set.
    public var defaultValue: String?

    public init(name: String, valueName: String?, kind: ValueKind, help: String, defaultValue: String? = nil) {
        precondition(name.hasPrefix("--") && name.count > 2 && !name.contains("="),
                     "flag name \(name) must start with -- and hold no '='")
        precondition((kind == .boolean) == (valueName == nil), "flag \(name): a value name is required exactly when the flag takes a value")
        self.name = name
        self.valueName = valueName
        self.kind = kind
        self.help = help
        self.defaultValue = defaultValue
    }

    public static func boolean(_ name: String, help: String) -> FlagSpec {
        FlagSpec(name: name, valueName: nil, kind: .boolean, help: help)
    }
    public static func int(_ name: String, _ valueName: String, in range: ClosedRange<Int>, help: String, default defaultValue: String? = nil) -> FlagSpec {
        FlagSpec(name: name, valueName: valueName, kind: .int(range), help: help, defaultValue: defaultValue)
    }
    public static func uint64(_ name: String, _ valueName: String, help: String, default defaultValue: String? = nil) -> FlagSpec {
        FlagSpec(name: name, valueName: valueName, kind: .uint64, help: help, defaultValue: defaultValue)
    }
    public static func float(_ name: String, _ valueName: String, in range: FloatRange, help: String, default defaultValue: String? = nil) -> FlagSpec {
        FlagSpec(name: name, valueName: valueName, kind: .float(range), help: help, defaultValue: defaultValue)
    }
    public static func floatList(_ name: String, _ valueName: String, in range: FloatRange, help: String, default defaultValue: String? = nil) -> FlagSpec {
        FlagSpec(name: name, valueName: valueName, kind: .floatList(range), help: help, defaultValue: defaultValue)
    }
    public static func string(_ name: String, _ valueName: String, help: String, default defaultValue: String? = nil) -> FlagSpec {
        FlagSpec(name: name, valueName: valueName, kind: .string, help: help, defaultValue: defaultValue)
    }
    public static func choice(_ name: String, _ valueName: String, _ choices: [String], help: String, default defaultValue: String? = nil) -> FlagSpec {
        precondition(!choices.isEmpty, "flag \(name): a choice needs at least one option")
        return FlagSpec(name: name, valueName: valueName, kind: .choice(choices), help: help, defaultValue: defaultValue)
    }
}

/// One positional argument of a command ("CHECKPOINT").
public struct PositionalSpec: Sendable {
    /// Placeholder in usage and messages, conventionally upper case.
    public var name: String
    public var help: String
    public var isRequired: Bool
    /// The last positional may take any number of values (at least one when required).
    public var repeats: Bool

    public init(_ name: String, help: String, required: Bool = true, repeats: Bool = false) {
        self.name = name
        self.help = help
        self.isRequired = required
        self.repeats = repeats
    }
}

/// Everything a subcommand accepts; parses its arguments and writes its `--help`.
public struct CommandSpec: Sendable {
    /// The executable's name, first word of every usage line.
    public var program: String
    /// The subcommand ("train").
    public var name: String
    /// One line, shown in the command list and at the top of `--help`.
    public var summary: String
    public var positionals: [PositionalSpec]
    public var flags: [FlagSpec]
    /// Whole command lines shown under "Examples:" in `--help`.
    public var examples: [String]

    public init(program: String = "tinygpt", name: String, summary: String, positionals: [PositionalSpec] = [],
                flags: [FlagSpec], examples: [String] = []) {
        var seen = Set<String>()
        for flag in flags {
            precondition(seen.insert(flag.name).inserted, "\(program) \(name): flag \(flag.name) declared twice")
            precondition(flag.name != "--help", "\(program) \(name): --help is built in")
        }
        for (i, p) in positionals.enumerated() {
            precondition(!p.repeats || i == positionals.count - 1, "\(program) \(name): only the last positional may repeat")
            precondition(!p.isRequired || positionals[..<i].allSatisfy(\.isRequired),
                         "\(program) \(name): a required positional cannot follow an optional one")
        }
        self.program = program
        self.name = name
        self.summary = summary
        self.positionals = positionals
        self.flags = flags
        self.examples = examples
    }

    /// "tinygpt train", as the user types it.
    public var invocation: String { "\(program) \(name)" }

    func flag(named name: String) -> FlagSpec? { flags.first { $0.name == name } }
}

// MARK: - Parse results

/// What `CommandSpec.parse` found: either a request for help, or validated values.
public enum FlagParseResult: Sendable {
    /// `-h` or `--help` appeared: print `helpText` and exit 0.
    case helpRequested
    case parsed(ParsedFlags)
}

/// Validated values of one command line. Ask by the declared flag name ("--steps"); asking for
/// an undeclared flag, or with the wrong type, is a programming error.
public struct ParsedFlags: Sendable {
    enum Value: Sendable, Equatable {
        case present
        case int(Int)
        case uint64(UInt64)
        case number(Double)
        case numbers([Double])
        case text(String)
    }

    public let spec: CommandSpec
    /// Positional arguments in order.
    public let positionals: [String]
    let values: [String: Value]

    /// True when the flag appeared on the command line.
    public func contains(_ name: String) -> Bool {
        declaredKind(name)
        return values[name] != nil
    }

    /// A boolean switch: true when given.
    public func bool(_ name: String) -> Bool {
        precondition(declaredKind(name) == .boolean, "\(name) is not a boolean switch")
        return values[name] != nil
    }

    public func int(_ name: String) -> Int? {
        guard case .int = declaredKind(name) else { preconditionFailure("\(name) is not an int flag") }
        guard case .int(let v)? = values[name] else { return nil }
        return v
    }

    public func uint64(_ name: String) -> UInt64? {
        precondition(declaredKind(name) == .uint64, "\(name) is not a uint64 flag")
        guard case .uint64(let v)? = values[name] else { return nil }
        return v
    }

    /// A `.float` flag at full precision.
    public func double(_ name: String) -> Double? {
        guard case .float = declaredKind(name) else { preconditionFailure("\(name) is not a float flag") }
        guard case .number(let v)? = values[name] else { return nil }
        return v
    }

    public func float(_ name: String) -> Float? {
        double(name).map(Float.init)
    }

    public func floatList(_ name: String) -> [Float]? {
        guard case .floatList = declaredKind(name) else { preconditionFailure("\(name) is not a float-list flag") }
        guard case .numbers(let v)? = values[name] else { return nil }
        return v.map(Float.init)
    }

    /// A `.string` or `.choice` flag.
    public func string(_ name: String) -> String? {
        switch declaredKind(name) {
        case .string, .choice: break
        default: preconditionFailure("\(name) is not a string or choice flag")
        }
        guard case .text(let v)? = values[name] else { return nil }
        return v
    }

    // MARK: Values or declared defaults

    /// The value given, or else the flag's declared default, so a default is written once: in
    /// the declaration, where help shows it. A flag without a default is a programming error.
    public func intOrDefault(_ name: String) -> Int {
        guard case .int(let v) = valueOrDefault(name) else { preconditionFailure("\(name) is not an int flag") }
        return v
    }

    public func uint64OrDefault(_ name: String) -> UInt64 {
        guard case .uint64(let v) = valueOrDefault(name) else { preconditionFailure("\(name) is not a uint64 flag") }
        return v
    }

    public func floatOrDefault(_ name: String) -> Float {
        guard case .number(let v) = valueOrDefault(name) else { preconditionFailure("\(name) is not a float flag") }
        return Float(v)
    }

    public func floatListOrDefault(_ name: String) -> [Float] {
        guard case .numbers(let v) = valueOrDefault(name) else { preconditionFailure("\(name) is not a float-list flag") }
        return v.map(Float.init)
    }

    /// A `.string` or `.choice` flag.
    public func stringOrDefault(_ name: String) -> String {
        guard case .text(let v) = valueOrDefault(name) else { preconditionFailure("\(name) is not a string or choice flag") }
        return v
    }

    private func valueOrDefault(_ name: String) -> Value {
        if let given = values[name] { return given }
        guard let flag = spec.flag(named: name), let raw = flag.defaultValue,
              let value = try? CommandSpec.convert(raw, for: flag) else {
            preconditionFailure("'\(spec.invocation)' declares no flag \(name) with a default it accepts")
        }
        return value
    }

    /// The positional argument at `index`, or nil when fewer were given.
    public func positional(_ index: Int) -> String? {
        index < positionals.count ? positionals[index] : nil
    }

    @discardableResult
    private func declaredKind(_ name: String) -> FlagSpec.ValueKind {
        guard let flag = spec.flag(named: name) else {
            preconditionFailure("'\(spec.invocation)' declares no flag \(name)")
        }
        return flag.kind
    }
}

// MARK: - Parsing

extension CommandSpec {
    /// Parses the arguments after the subcommand's name. Throws `TinyGPTError.usage` with one
    /// line for anything unknown, missing, malformed, out of range or repeated.
    public func parse<Arguments: Collection<String>>(_ arguments: Arguments) throws -> FlagParseResult {
        let args = Array(arguments)
        let optionsEnd = args.firstIndex(of: "--") ?? args.count
        if args[..<optionsEnd].contains(where: { $0 == "-h" || $0 == "--help" }) { return .helpRequested }

        var values: [String: ParsedFlags.Value] = [:]
        var positionals: [String] = []
        var i = 0
        while i < args.count {
            let arg = args[i]
            i += 1
            if arg == "--" {
                positionals.append(contentsOf: args[i...])
                break
            }
            guard looksLikeFlag(arg) else {
                positionals.append(arg)
                continue
            }
            let name: String
            var inlineValue: String?
            if let eq = arg.firstIndex(of: "=") {
                name = String(arg[..<eq])
                inlineValue = String(arg[arg.index(after: eq)...])
            } else {
                name = arg
            }
            guard let flag = flag(named: name) else { throw unknownFlagError(name) }
            if values[flag.name] != nil {
                throw TinyGPTError.usage("\(flag.name) is given more than once; give it once")
            }
            guard let valueName = flag.valueName else {
                if inlineValue != nil {
                    throw TinyGPTError.usage("\(flag.name) is a switch and takes no value; write just \(flag.name)")
                }
                values[flag.name] = .present
                continue
            }
            let raw: String
            if let inlineValue {
                raw = inlineValue
            } else if i < args.count, !looksLikeFlagInValuePosition(args[i]) {
                raw = args[i]
                i += 1
            } else {
                throw TinyGPTError.usage("\(flag.name) needs a value (\(valueName)); write \(flag.name) \(valueName) or \(flag.name)=\(valueName)")
            }
            guard !raw.isEmpty else {
                throw TinyGPTError.usage("\(flag.name) got an empty value; give \(valueName) (see \(invocation) --help)")
            }
            values[flag.name] = try Self.convert(raw, for: flag)
        }
        try checkPositionals(positionals)
        return .parsed(ParsedFlags(spec: self, positionals: positionals, values: values))
    }

    /// `-x`, `--x`, `--x=y`; not a lone `-` and not a negative number.
    private func looksLikeFlag(_ arg: String) -> Bool {
        arg.hasPrefix("-") && arg.count > 1 && Double(arg) == nil
    }

    /// After a flag that needs a value, another `--flag` (or `-h`) means the value was forgotten;
    /// a value that really starts with `--` can be given as `--flag=--value`.
    private func looksLikeFlagInValuePosition(_ arg: String) -> Bool {
        arg.hasPrefix("--") || arg == "-h"
    }

    private func unknownFlagError(_ typed: String) -> TinyGPTError {
        let shown = FlagText.flagName(typed)
        let candidates = flags.map(\.name) + ["--help"]
        if let suggestion = FlagText.nearest(to: typed, among: candidates) {
            return .usage("unknown flag \(shown) for '\(invocation)'; did you mean \(suggestion)? (see \(invocation) --help)")
        }
        return .usage("unknown flag \(shown) for '\(invocation)' (see \(invocation) --help)")
    }

    private func checkPositionals(_ given: [String]) throws {
        let required = positionals.filter(\.isRequired)
        if given.count < required.count {
            let missing = required[given.count]
            throw TinyGPTError.usage("'\(invocation)' needs \(missing.name) (usage: \(usageLine))")
        }
        let repeats = positionals.last?.repeats ?? false
        if !repeats && given.count > positionals.count {
            let extra = FlagText.quoted(given[positionals.count])
            if positionals.isEmpty {
                throw TinyGPTError.usage("unexpected argument \(extra): '\(invocation)' takes only flags (see \(invocation) --help)")
            }
            let names = positionals.map(\.name).joined(separator: " ")
            throw TinyGPTError.usage("unexpected argument \(extra): '\(invocation)' takes at most \(positionals.count) \(positionals.count == 1 ? "argument" : "arguments") (\(names)) (see \(invocation) --help)")
        }
    }

    // MARK: Values

    static func convert(_ raw: String, for flag: FlagSpec) throws -> ParsedFlags.Value {
        let name = flag.name
        switch flag.kind {
        case .boolean:
            preconditionFailure("a boolean switch has no value")
        case .int(let range):
            let bound = range.upperBound == .max ? "at least \(range.lowerBound)"
                : range.lowerBound == .min ? "at most \(range.upperBound)"
                : "between \(range.lowerBound) and \(range.upperBound)"
            guard isWholeNumber(raw) else {
                throw TinyGPTError.usage("\(name) expects a whole number \(bound), got \(FlagText.quoted(raw))")
            }
            guard let value = Int(raw), range.contains(value) else {
                throw TinyGPTError.usage("\(name) must be \(bound), got \(FlagText.quoted(raw))")
            }
            return .int(value)
        case .uint64:
            guard isWholeNumber(raw) else {
                throw TinyGPTError.usage("\(name) expects a whole number from 0 to \(UInt64.max), got \(FlagText.quoted(raw))")
            }
            guard let value = UInt64(raw) else {
                throw TinyGPTError.usage("\(name) must be between 0 and \(UInt64.max), got \(FlagText.quoted(raw))")
            }
            return .uint64(value)
        case .float(let range):
            return .number(try number(raw, range: range, flag: name, item: nil))
        case .floatList(let range):
            let items = raw.split(separator: ",", omittingEmptySubsequences: false)
            var numbers: [Double] = []
            for (index, item) in items.enumerated() {
                let trimmed = FlagText.trimmed(String(item))
                let position = "item \(index + 1) of \(name)"
                guard !trimmed.isEmpty else {
                    throw TinyGPTError.usage("\(position) is empty; give numbers separated by commas, e.g. \(name) 0.5,1,1.5")
                }
                numbers.append(try number(trimmed, range: range, flag: name, item: position))
            }
            return .numbers(numbers)
        case .string:
            return .text(raw)
        case .choice(let choices):
            guard choices.contains(raw) else {
                let list = choices.joined(separator: ", ")
                if let near = FlagText.nearest(to: raw, among: choices) {
                    throw TinyGPTError.usage("\(name) must be one of \(list); got \(FlagText.quoted(raw)), did you mean \(near)?")
                }
                throw TinyGPTError.usage("\(name) must be one of \(list); got \(FlagText.quoted(raw))")
            }
            return .text(raw)
        }
    }

    /// Parses one finite decimal number inside `range` that also fits a `Float` (hexadecimal
    /// floats, which `Double.init` accepts, are refused as surely a typo here).
    private static func number(_ raw: String, range: FloatRange, flag: String, item: String?) throws -> Double {
        let subject = item ?? flag
        guard let value = Double(raw), !raw.lowercased().contains("x") else {
            throw TinyGPTError.usage("\(subject) expects a number, got \(FlagText.quoted(raw))")
        }
        guard value.isFinite, Float(value).isFinite else {
            throw TinyGPTError.usage("\(subject) must be a finite number \(range.phrase), got \(FlagText.quoted(raw))")
        }
        guard range.contains(value) else {
            throw TinyGPTError.usage("\(subject) must be \(range.phrase), got \(FlagText.quoted(raw))")
        }
        return value
    }

    /// An optional sign followed by ASCII digits only.
    private static func isWholeNumber(_ raw: String) -> Bool {
        var digits = Substring(raw)
        if let first = digits.first, first == "-" || first == "+" { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }
}

// MARK: - Commands

extension CommandSpec {
    /// The command whose name is `name`, or a usage error that suggests the nearest one.
    public static func command(named name: String, in commands: [CommandSpec]) throws -> CommandSpec {
        if let found = commands.first(where: { $0.name == name }) { return found }
        let program = commands.first?.program ?? "tinygpt"
        let shown = FlagText.quoted(name)
        if let near = FlagText.nearest(to: name, among: commands.map(\.name)) {
            throw TinyGPTError.usage("unknown command \(shown); did you mean '\(program) \(near)'? (see \(program) --help)")
        }
        throw TinyGPTError.usage("unknown command \(shown) (see \(program) --help)")
    }
}

// MARK: - Helpers

/// Text helpers of the flag parser, kept in one namespace.
enum FlagText {
    /// User text made safe for a one-line message: quoted, control characters escaped, long text cut.
    static func quoted(_ text: String) -> String {
        let limit = 40
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit {
                out += "…"
                break
            }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}" {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
            count += 1
        }
        return "'\(out)'"
    }

    /// A flag name as typed, bare when it prints safely on one line ("--stpes"), else quoted.
    static func flagName(_ typed: String) -> String {
        let quotedName = quoted(typed)
        let isPlain = quotedName == "'\(typed)'" && !typed.contains(" ") && !typed.contains("'")
        return isPlain ? typed : quotedName
    }

    /// The candidate nearest to `typed`, if it is close enough to be a plausible typo: at most one
    /// edit per three characters (at least one edit), after ignoring leading dashes, case and
    /// `_` versus `-`; failing that, the only candidate that starts with what was typed.
    static func nearest(to typed: String, among candidates: [String]) -> String? {
        func normalized(_ s: String) -> [Character] {
            Array(s.drop { $0 == "-" }.lowercased().map { $0 == "_" ? "-" : $0 })
        }
        let target = normalized(typed)
        guard !target.isEmpty else { return nil }
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let c = normalized(candidate)
            let distance = editDistance(target, c)
            if distance <= max(1, c.count / 3), distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        if let best { return best.name }
        if target.count >= 3 {
            let prefixed = candidates.filter { normalized($0).starts(with: target) }
            if prefixed.count == 1 { return prefixed[0] }
        }
        return nil
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
    /// adjacent characters each cost 1.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        let width = b.count + 1
        var previous2 = [Int](repeating: 0, count: width)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: width)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var d = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d = min(d, previous2[j - 2] + 1)
                }
                current[j] = d
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }

    /// `text` without leading and trailing spaces and tabs.
    static func trimmed(_ text: String) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(text.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
