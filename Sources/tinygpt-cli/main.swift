// tinygpt: the command line. It parses flags, calls the library and prints; all the work
// is in the TinyGPT library. Exit codes: 0 success (also after a Ctrl-C that saved), 1 runtime
// error (files, data, a diverged run), 2 usage error (flags, arguments), 130 a second Ctrl-C
// that left before the save finished. Every error is one line on stderr, "tinygpt: …".

import Foundation
import TinyGPT
import TinyGPTViews

// First, before any library code runs: can this CPU run what the library was built for?
InstructionSet.exitUnlessThisCPURunsTheBuild(arguments: Array(CommandLine.arguments.dropFirst()))

let commands = Commands.all

let overview = "Train a character-level GPT on a text file, then sample from it."

func runMain() -> Int32 {
    var arguments = Array(CommandLine.arguments.dropFirst())
    let specs = commands.map(\.spec)
    guard let first = arguments.first else {
        print(CommandSpec.overviewText(summary: overview, commands: specs))
        Console.error("no command given; choose one, e.g. tinygpt train (tinygpt --help lists them all)")
        return 2
    }
    if first == "--version" || first == "-V" {
        arguments[0] = "version"
    }
    if first == "help" && arguments.count > 1 {
        // `tinygpt help train` is `tinygpt train --help`.
        arguments = [arguments[1], "--help"]
    } else if ["-h", "--help", "help"].contains(first) {
        print(CommandSpec.overviewText(summary: overview, commands: specs))
        return 0
    }
    do {
        let spec = try CommandSpec.command(named: arguments[0], in: specs)
        guard let command = commands.first(where: { $0.spec.name == spec.name }) else { return 2 }
        switch try spec.parse(arguments.dropFirst()) {
        case .helpRequested:
            print(spec.helpText)
            return 0
        case .parsed(let flags):
            try command.run(flags)
            return 0
        }
    } catch let error as TinyGPTError {
        Console.error(error.message)
        return error.exitCode
    } catch {
        Console.error(error.localizedDescription)
        return 1
    }
}

exit(runMain())
