// tinygpt completions bash|zsh|fish: a completion script from the flag tables `--help` reads.

import Foundation
import TinyGPT

struct CompletionsCommand: Command {
    let spec = CommandSpec(
        name: "completions", summary: "Print a shell completion script for bash, zsh or fish (commands, flags, preset names).",
        positionals: [PositionalSpec("SHELL", help: "bash, zsh or fish")],
        flags: [],
        examples: ["tinygpt completions bash > ~/.local/share/bash-completion/completions/tinygpt",
                   "tinygpt completions fish > ~/.config/fish/completions/tinygpt.fish"])

    func run(_ flags: ParsedFlags) throws {
        let shell = flags.positional(0) ?? ""
        guard let script = CommandSpec.completionScript(shell: shell, commands: Commands.all.map(\.spec)) else {
            throw TinyGPTError.usage("completions knows bash, zsh and fish, got '\(shell)'; write e.g. tinygpt completions bash")
        }
        print(script, terminator: "")
    }
}
