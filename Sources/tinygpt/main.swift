// tinygpt: the command line. It parses flags, calls the library and prints; all the work
// is in the TinyGPT library. Exit codes: 0 success, 1 runtime error (files, data, a
// diverged run), 2 usage error (flags, arguments), 130 interrupted before anything was saved.

import Foundation
import TinyGPT

let commands: [Command] = [
    TrainCommand(), SampleCommand(), CompareCommand(), EvalCommand(), InfoCommand(),
    AttentionCommand(), PlotCommand(), ExportCommand(), ImportCommand(), BenchCommand(),
]

func runMain() -> Int32 {
    let arguments = Array(CommandLine.arguments.dropFirst())
    let specs = commands.map(\.spec)
    guard let first = arguments.first, !["-h", "--help", "help"].contains(first) else {
        print(CommandSpec.overviewText(summary: "Train a character-level GPT on a text file, then sample from it.", commands: specs))
        return arguments.isEmpty ? 2 : 0
    }
    do {
        let spec = try CommandSpec.command(named: first, in: specs)
        let command = commands.first { $0.spec.name == spec.name }!
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
        Console.error("\(error)")
        return 1
    }
}

exit(runMain())
