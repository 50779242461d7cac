// The C library's maths, reached from this one file: the rest of the library does not import
// Glibc or Darwin for libm, it calls `Math` (as swift-argument-parser keeps its platform calls
// in one Platform.swift). Foundation re-exports the C library on every platform (Glibc on
// Linux, Darwin on Apple's), so `Foundation.exp` names libm's exp everywhere without an #if.
// The one other file that speaks to the system is IO/AtomicFile.swift, whose POSIX file calls
// (open, fsync, rename, …) are its whole job.

import Foundation

/// libm's elementary functions, exactly as the C library computes them.
enum Math {
    @inline(__always) static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) static func exp(_ x: Float) -> Float { Foundation.expf(x) }
    @inline(__always) static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inline(__always) static func log(_ x: Float) -> Float { Foundation.logf(x) }
    @inline(__always) static func cos(_ x: Double) -> Double { Foundation.cos(x) }
    @inline(__always) static func pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
    @inline(__always) static func erf(_ x: Float) -> Float { Foundation.erff(x) }
}

// MARK: - Mutexes (issue 22: SharedWord on macOS 13 and 14)
//
// A pthread mutex placed in memory that never moves (Foundation's NSLock would do, but
// SharedWord keeps its word and its mutex in one block). The CPU check of issue 22 is not here:
// it must run before any code built for AVX-512, and this library is, so it lives in the
// executable, which is built for the baseline: Sources/tinygpt-cli/InstructionSetCheck.swift.

enum PlatformMutex {
    static func initialize(at address: UnsafeMutableRawPointer) {
        let mutex = address.bindMemory(to: pthread_mutex_t.self, capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
    }

    @inline(__always) static func lock(at address: UnsafeMutableRawPointer) {
        pthread_mutex_lock(address.assumingMemoryBound(to: pthread_mutex_t.self))
    }

    @inline(__always) static func unlock(at address: UnsafeMutableRawPointer) {
        pthread_mutex_unlock(address.assumingMemoryBound(to: pthread_mutex_t.self))
    }
}
