// The C library's maths, reached from this one file: the rest of the library does not import
// Glibc or Darwin for libm, it calls `Math` (as swift-argument-parser keeps its platform
// calls in one Platform.swift). The one other file that speaks to the system is
// IO/AtomicFile.swift, whose POSIX file calls (open, fsync, rename, …) are its whole job.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libm's elementary functions, exactly as the C library computes them.
enum Math {
    @inline(__always) static func exp(_ x: Double) -> Double { libmExp(x) }
    @inline(__always) static func exp(_ x: Float) -> Float { libmExpf(x) }
    @inline(__always) static func log(_ x: Double) -> Double { libmLog(x) }
    @inline(__always) static func log(_ x: Float) -> Float { libmLogf(x) }
    @inline(__always) static func cos(_ x: Double) -> Double { libmCos(x) }
    @inline(__always) static func pow(_ x: Double, _ y: Double) -> Double { libmPow(x, y) }
    @inline(__always) static func erf(_ x: Float) -> Float { libmErff(x) }
}

// The C functions under names that `Math`'s members do not shadow.
@inline(__always) private func libmExp(_ x: Double) -> Double { exp(x) }
@inline(__always) private func libmExpf(_ x: Float) -> Float { expf(x) }
@inline(__always) private func libmLog(_ x: Double) -> Double { log(x) }
@inline(__always) private func libmLogf(_ x: Float) -> Float { logf(x) }
@inline(__always) private func libmCos(_ x: Double) -> Double { cos(x) }
@inline(__always) private func libmPow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
@inline(__always) private func libmErff(_ x: Float) -> Float { erff(x) }
