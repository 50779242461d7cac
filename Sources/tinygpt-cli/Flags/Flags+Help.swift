// Help text generated from the same declarations the parser reads, so `--help` cannot
// drift from what the parser accepts. Layout follows the usual GNU/POSIX style: a usage
// line, a summary, then two aligned columns (name, description) wrapped at 80 characters.

import TinyGPT

extension CommandSpec {
    /// Width the help text wraps at.
    static let helpWidth = 80
    /// The description column never starts further right than this; longer names get their own line.
    static let maxLabelColumn = 30

    /// "tinygpt sample [options] CHECKPOINT [PROMPT...]"
    public var usageLine: String {
        var words = [invocation]
        if !flags.isEmpty { words.append("[options]") }
        for p in positionals {
            let name = p.repeats ? "\(p.name)..." : p.name
            words.append(p.isRequired ? name : "[\(name)]")
        }
        return words.joined(separator: " ")
    }

    /// The full `--help` text: usage, summary, arguments, options, examples.
    public var helpText: String {
        var sections = ["Usage: \(usageLine)", summary]
        if !positionals.isEmpty {
            let rows = positionals.map { p in
                (p.name, p.isRequired ? p.help : "\(p.help) (optional)")
            }
            sections.append("Arguments:\n" + Self.columns(rows))
        }
        var rows = flags.map { flag -> (String, String) in
            let label = flag.valueName.map { "\(flag.name) \($0)" } ?? flag.name
            var text = flag.help
            if case .choice(let choices) = flag.kind { text += " (one of: \(choices.joined(separator: ", ")))" }
            if let value = flag.defaultValue { text += " (default: \(value))" }
            return (label, text)
        }
        rows.append(("-h, --help", "show this help and exit"))
        sections.append("Options:\n" + Self.columns(rows))
        if !examples.isEmpty {
            sections.append("Examples:\n" + examples.map { "  " + $0 }.joined(separator: "\n"))
        }
        return sections.joined(separator: "\n\n") + "\n"
    }

    /// The top-level help: what the program is, and one line per command.
    public static func overviewText(program: String = "tinygpt", summary: String, commands: [CommandSpec]) -> String {
        let rows = commands.map { ($0.name, $0.summary) }
        return [
            summary,
            "Usage: \(program) <command> [options]",
            "Commands:\n" + columns(rows),
            "Run '\(program) <command> --help' for a command's arguments and options.",
        ].joined(separator: "\n\n") + "\n"
    }

    // MARK: - Layout

    /// Two columns indented by two spaces; descriptions aligned and wrapped at `helpWidth`.
    static func columns(_ rows: [(label: String, text: String)]) -> String {
        let widest = rows.map(\.label.count).max() ?? 0
        let column = min(widest + 4, maxLabelColumn)
        let textWidth = max(helpWidth - column, 20)
        let indent = String(repeating: " ", count: column)
        var lines: [String] = []
        for (label, text) in rows {
            let wrapped = wrap(text, width: textWidth)
            let head = "  " + label
            if head.count + 2 <= column {
                lines.append(head + String(repeating: " ", count: column - head.count) + (wrapped.first ?? ""))
            } else {
                lines.append(head)
                if let first = wrapped.first { lines.append(indent + first) }
            }
            lines += wrapped.dropFirst().map { indent + $0 }
        }
        return lines.joined(separator: "\n")
    }

    /// Greedy word wrap; a word longer than `width` stands on its own line.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if line.isEmpty {
                line = String(word)
            } else if line.count + 1 + word.count <= width {
                line += " " + word
            } else {
                lines.append(line)
                line = String(word)
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}
