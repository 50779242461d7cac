// The one error type the library throws for user input and I/O. The CLI prints
// `description` as a single line on stderr and exits with `exitCode`.
//
// A message names a setting by its Swift field in backticks ("`contextLength` must be between
// 1 and 65536"), never by a command-line flag; the command line writes its own flag word in
// place of each field before printing (Sources/tinygpt-cli/FieldFlags.swift).

/// An error caused by what the user gave us (a setting, a file, a prompt), never by a bug.
public struct TinyGPTError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Equatable, Sendable {
        /// A setting or argument is malformed or out of range (exit code 2).
        case usage
        /// A file is missing, unreadable, corrupt, or the data cannot be used (exit code 1).
        case runtime
    }

    public var kind: Kind
    /// One line: what is wrong, and what to do about it. Settings appear as their field name
    /// in backticks: `learningRate`.
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public static func usage(_ message: String) -> TinyGPTError { TinyGPTError(.usage, message) }
    public static func runtime(_ message: String) -> TinyGPTError { TinyGPTError(.runtime, message) }

    public var description: String { message }
    public var exitCode: Int32 { kind == .usage ? 2 : 1 }
}
