// Shell completion scripts made from the same declarations as the parser and `--help`: the
// command names and summaries, each command's flags with their help, and the values of choice
// flags (preset names, GELU forms, …). A flag that takes a value completes file names unless its
// value is a number or a choice; a command's positionals complete file names.

extension CommandSpec {
    /// The completion script for `shell` ("bash", "zsh" or "fish"); nil for another shell.
    public static func completionScript(shell: String, program: String = "tinygpt", commands: [CommandSpec]) -> String? {
        switch shell {
        case "bash": return bashScript(program, commands)
        case "zsh": return zshScript(program, commands)
        case "fish": return fishScript(program, commands)
        default: return nil
        }
    }

    public static let completionShells = ["bash", "zsh", "fish"]

    /// Words every program level accepts besides the commands.
    static let topLevelFlags = ["--help", "--version", "-V"]

    private static func takesFiles(_ flag: FlagSpec) -> Bool {
        if case .string = flag.kind { return true }
        return false
    }

    private static func functionName(_ program: String) -> String {
        "_" + program.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }

    // MARK: - bash

    private static func bashScript(_ program: String, _ commands: [CommandSpec]) -> String {
        let function = functionName(program)
        var lines = [
            "# bash completion for \(program); made by `\(program) completions bash` from its flag tables.",
            "\(function)() {",
            "    local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\"",
            "    COMPREPLY=()",
            "    if [[ $COMP_CWORD -eq 1 ]]; then",
            "        COMPREPLY=($(compgen -W \"\((commands.map(\.name) + topLevelFlags).joined(separator: " "))\" -- \"$cur\"))",
            "        return",
            "    fi",
            "    case \"${COMP_WORDS[1]}\" in",
        ]
        for command in commands {
            lines.append("        \(command.name))")
            let valued = command.flags.filter { $0.valueName != nil }
            if !valued.isEmpty {
                lines.append("            case \"$prev\" in")
                for flag in valued {
                    switch flag.kind {
                    case .choice(let choices):
                        lines.append("                \(flag.name)) COMPREPLY=($(compgen -W \"\(choices.joined(separator: " "))\" -- \"$cur\")); return ;;")
                    case .string:
                        lines.append("                \(flag.name)) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;")
                    default:
                        lines.append("                \(flag.name)) return ;;")
                    }
                }
                lines.append("            esac")
            }
            let words = (command.flags.map(\.name) + ["--help"]).joined(separator: " ")
            lines.append("            if [[ \"$cur\" == -* ]]; then")
            lines.append("                COMPREPLY=($(compgen -W \"\(words)\" -- \"$cur\"))")
            if command.name == "completions" {
                lines.append("            else")
                lines.append("                COMPREPLY=($(compgen -W \"\(completionShells.joined(separator: " "))\" -- \"$cur\"))")
            } else if !command.positionals.isEmpty {
                lines.append("            else")
                lines.append("                COMPREPLY=($(compgen -f -- \"$cur\"))")
            }
            lines.append("            fi")
            lines.append("            ;;")
        }
        lines += ["    esac", "}", "complete -o default -F \(function) \(program)", ""]
        return lines.joined(separator: "\n")
    }

    // MARK: - zsh

    /// Text inside a zsh single-quoted word and inside _arguments' [description].
    private static func zshText(_ text: String) -> String {
        text.replacingAll("'", with: "'\\''").replacingAll("[", with: "(").replacingAll("]", with: ")")
            .replacingAll(":", with: " -")
    }

    private static func zshScript(_ program: String, _ commands: [CommandSpec]) -> String {
        let function = functionName(program)
        var lines = [
            "#compdef \(program)",
            "# zsh completion for \(program); made by `\(program) completions zsh` from its flag tables.",
            "\(function)() {",
            "    local -a commands",
            "    commands=(",
        ]
        for command in commands { lines.append("        '\(command.name):\(zshText(command.summary))'") }
        lines += [
            "    )",
            "    if (( CURRENT == 2 )); then",
            "        _describe -t commands '\(program) command' commands",
            "        compadd -- \(topLevelFlags.joined(separator: " "))",
            "        return",
            "    fi",
            "    local command=$words[2]",
            "    shift words",
            "    (( CURRENT-- ))",
            "    case $command in",
        ]
        for command in commands {
            lines.append("        \(command.name))")
            var specs = command.flags.map { flag -> String in
                let help = "[\(zshText(flag.help))]"
                guard let value = flag.valueName else { return "'\(flag.name)\(help)'" }
                switch flag.kind {
                case .choice(let choices): return "'\(flag.name)\(help):\(zshText(value)):(\(choices.joined(separator: " ")))'"
                case .string: return "'\(flag.name)\(help):\(zshText(value)):_files'"
                default: return "'\(flag.name)\(help):\(zshText(value)): '"
                }
            }
            specs.append("'(- *)--help[show this help and exit]'")
            if command.name == "completions" {
                specs.append("'1:shell:(\(completionShells.joined(separator: " ")))'")
            } else if !command.positionals.isEmpty {
                specs.append("'*:file:_files'")
            }
            lines.append("            _arguments -s \\")
            lines += specs.dropLast().map { "                \($0) \\" }
            lines.append("                \(specs.last!)")
            lines.append("            ;;")
        }
        lines += ["    esac", "}", "\(function) \"$@\"", ""]
        return lines.joined(separator: "\n")
    }

    // MARK: - fish

    /// Text inside a fish single-quoted word.
    private static func fishText(_ text: String) -> String {
        text.replacingAll("\\", with: "\\\\").replacingAll("'", with: "\\'")
    }

    private static func fishScript(_ program: String, _ commands: [CommandSpec]) -> String {
        var lines = [
            "# fish completion for \(program); made by `\(program) completions fish` from its flag tables.",
            "complete -c \(program) -f",
            "complete -c \(program) -n __fish_use_subcommand -l help -d 'show the commands and exit'",
            "complete -c \(program) -n __fish_use_subcommand -l version -s V -d 'show the version and the instruction set'",
        ]
        for command in commands {
            lines.append("complete -c \(program) -n __fish_use_subcommand -a \(command.name) -d '\(fishText(command.summary))'")
        }
        for command in commands {
            let when = "-n '__fish_seen_subcommand_from \(command.name)'"
            for flag in command.flags {
                let name = String(flag.name.dropFirst(2))
                var line = "complete -c \(program) \(when) -l \(name)"
                if flag.valueName != nil {
                    switch flag.kind {
                    case .choice(let choices): line += " -x -a '\(choices.joined(separator: " "))'"
                    case .string: line += " -r -F"
                    default: line += " -x"
                    }
                }
                lines.append(line + " -d '\(fishText(flag.help))'")
            }
            lines.append("complete -c \(program) \(when) -l help -s h -d 'show this help and exit'")
            if command.name == "completions" {
                lines.append("complete -c \(program) \(when) -x -a '\(completionShells.joined(separator: " "))'")
            } else if !command.positionals.isEmpty {
                lines.append("complete -c \(program) \(when) -F")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

private extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        components(separatedBy: target).joined(separator: replacement)
    }
}
