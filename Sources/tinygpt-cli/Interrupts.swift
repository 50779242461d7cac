// The signals that stop `train`, and standard output going away. Ctrl-C (SIGINT), SIGTERM,
// SIGHUP (the terminal closed) and SIGPIPE (stdout's reader is gone, as in
// `tinygpt train | head -3`) all ask the loop to save and stop at its next step, and the
// command then exits as after a Ctrl-C. A second Ctrl-C or SIGTERM leaves at once, without
// saving, and says so; SIGHUP and SIGPIPE never do, since a closing terminal may send SIGHUP
// more than once and every write to a gone reader raises SIGPIPE again.
//
// The handlers run on whatever thread the signal lands on, so they only touch signal-safe
// words (SharedWord) and
// call write(2), dup2(2) and _exit(2), which POSIX lists as async-signal-safe.

import Foundation
import TinyGPT

/// Set by a signal; the training loop saves and stops at the next step.
let stopRequested = SharedWord(0, signalSafe: true)
/// Set by the first Ctrl-C or SIGTERM, so that the second leaves at once.
let interrupted = SharedWord(0, signalSafe: true)
/// Set when standard output's reader has gone (SIGPIPE); standard output then goes to
/// /dev/null, so printing more raises nothing.
let standardOutputGone = SharedWord(0, signalSafe: true)
/// /dev/null, opened before any handler needs it.
nonisolated(unsafe) var nullDevice: Int32 = -1
/// Whether stderr is a terminal, where a progress line may be open and the message starts on a new line.
nonisolated(unsafe) var standardErrorIsTerminal = false

enum Interrupts {
    /// From the first moment of `train`: a signal while the run is set up is kept for the
    /// loop, which saves and stops before its first step, instead of killing the process
    /// half-way through creating its folder.
    static func install() {
        // Touch the globals here, so no handler is the first to use them (their lazy set-up
        // is not signal-safe).
        _ = stopRequested.load(ordering: .relaxed)
        _ = interrupted.load(ordering: .relaxed)
        _ = standardOutputGone.load(ordering: .relaxed)
        nullDevice = Platform.openNullDevice()
        standardErrorIsTerminal = Platform.standardErrorIsTerminal
        let stop: Platform.SignalHandler = { _ in
            if !interrupted.compareExchange(expected: 0, desired: 1, ordering: .relaxed).exchanged {
                if standardErrorIsTerminal { Platform.writeToStandardError("\n") }
                Platform.writeToStandardError("tinygpt: a second interrupt: stopping at once without saving; the last saved checkpoint is kept\n")
                Platform.exitImmediately(130)
            }
            stopRequested.store(1, ordering: .relaxed)
        }
        Platform.handle(.interrupt, with: stop)
        Platform.handle(.terminate, with: stop)
        Platform.handle(.hangUp) { _ in stopRequested.store(1, ordering: .relaxed) }
        Platform.handle(.brokenPipe) { _ in
            Platform.silenceStandardOutput(nullDevice: nullDevice)
            standardOutputGone.store(1, ordering: .relaxed)
            stopRequested.store(1, ordering: .relaxed)
        }
    }
}

