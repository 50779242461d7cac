// tinygpt version (also --version, -V): the version, the instruction set the kernels were built
// for, and whether this CPU has it.

import Foundation
import TinyGPT

struct VersionCommand: Command {
    let spec = CommandSpec(
        name: "version", summary: "Print the version, the instruction set this binary was built for, and whether this CPU has it.",
        flags: [], examples: ["tinygpt --version"])

    func run(_ flags: ParsedFlags) throws {
        for line in Self.lines() { print(line) }
    }

    static func lines() -> [String] {
        var arch = "unknown architecture"
        #if arch(x86_64)
        arch = "x86-64"
        #elseif arch(arm64)
        arch = "arm64"
        #endif
        let cpu: String
        switch InstructionSet.missing() {
        case nil: cpu = "this CPU: could not read its features"
        case let missing? where missing.isEmpty:
            cpu = InstructionSet.required.isEmpty ? "this CPU: runs it (the architecture's baseline)"
                : "this CPU: has \(InstructionSet.built) (\(InstructionSet.required.joined(separator: " ")))"
        case let missing?:
            cpu = "this CPU: lacks \(InstructionSet.built) (no \(missing.joined(separator: ", "))); every other command stops; rebuild here (swift build -c release) or with TINYGPT_PORTABLE=1"
        }
        return ["tinygpt \(TinyGPTVersion.string)",
                "built for: \(arch) \(InstructionSet.built) (\(InstructionSet.flag))",
                cpu]
    }
}
