// One machine word that several threads read and write at once: the thread pool's counters and
// shares, its barrier, and `train`'s stop flag.
//
// Synchronization.Atomic where the system has it: Linux, and macOS 15 or later. The package
// builds for macOS 13, whose Swift runtime predates Atomic, so there (macOS 13 and 14) the word
// sits beside a mutex that every operation takes (a few tens of nanoseconds more per operation;
// the same results). A word made `signalSafe` is read and written from a signal handler, where a
// mutex could deadlock: on macOS 13 and 14 it is a plain aligned word instead, as C's
// `volatile sig_atomic_t`, which is all such a flag needs.
//
// The methods are named as Atomic's, so code reads the same on both paths. Each word has a
// 128-byte block of its own (no two words share a cache line) that lives as long as the process.

import Synchronization

public struct SharedWord: @unchecked Sendable {
    /// The memory orderings this package uses, as Synchronization names them.
    public enum Ordering: Sendable { case relaxed, acquiring, releasing, acquiringAndReleasing, sequentiallyConsistent }

    private let base: UnsafeMutableRawPointer
    /// Whether this word goes through its mutex (macOS 13 and 14, or a test's request).
    private let locked: Bool
    private let signalSafe: Bool

    /// Tests set this to run the mutex path on a system that has Atomic.
    nonisolated(unsafe) static var forceMutex = false

    private static let blockSize = 128
    private static let lockOffset = 16

    public init(_ value: Int, signalSafe: Bool = false) {
        base = .allocate(byteCount: Self.blockSize, alignment: Self.blockSize)
        self.signalSafe = signalSafe
        if #available(macOS 15, *), !Self.forceMutex {
            locked = false
            base.bindMemory(to: Atomic<Int>.self, capacity: 1).initialize(to: Atomic(value))
        } else {
            locked = true
            base.storeBytes(of: value, as: Int.self)
            if !signalSafe { PlatformMutex.initialize(at: base + Self.lockOffset) }
        }
    }

    @inline(__always)
    private func withMutex<R>(_ body: (UnsafeMutablePointer<Int>) -> R) -> R {
        let value = base.assumingMemoryBound(to: Int.self)
        if signalSafe { return body(value) }
        PlatformMutex.lock(at: base + Self.lockOffset)
        defer { PlatformMutex.unlock(at: base + Self.lockOffset) }
        return body(value)
    }

    @inline(__always)
    public func load(ordering: Ordering) -> Int {
        if #available(macOS 15, *), !locked {
            let atomic = base.assumingMemoryBound(to: Atomic<Int>.self)
            switch ordering {
            case .relaxed: return atomic.pointee.load(ordering: .relaxed)
            case .acquiring, .acquiringAndReleasing: return atomic.pointee.load(ordering: .acquiring)
            case .releasing, .sequentiallyConsistent: return atomic.pointee.load(ordering: .sequentiallyConsistent)
            }
        }
        return withMutex { $0.pointee }
    }

    @inline(__always)
    public func store(_ value: Int, ordering: Ordering) {
        if #available(macOS 15, *), !locked {
            let atomic = base.assumingMemoryBound(to: Atomic<Int>.self)
            switch ordering {
            case .relaxed: atomic.pointee.store(value, ordering: .relaxed)
            case .releasing, .acquiringAndReleasing: atomic.pointee.store(value, ordering: .releasing)
            case .acquiring, .sequentiallyConsistent: atomic.pointee.store(value, ordering: .sequentiallyConsistent)
            }
            return
        }
        withMutex { $0.pointee = value }
    }

    /// Adds `delta` and returns the value before and after, as Atomic's `add` does.
    @inline(__always) @discardableResult
    public func add(_ delta: Int, ordering: Ordering) -> (oldValue: Int, newValue: Int) {
        if #available(macOS 15, *), !locked {
            let atomic = base.assumingMemoryBound(to: Atomic<Int>.self)
            switch ordering {
            case .relaxed: return atomic.pointee.add(delta, ordering: .relaxed)
            case .acquiring: return atomic.pointee.add(delta, ordering: .acquiring)
            case .releasing: return atomic.pointee.add(delta, ordering: .releasing)
            case .acquiringAndReleasing: return atomic.pointee.add(delta, ordering: .acquiringAndReleasing)
            case .sequentiallyConsistent: return atomic.pointee.add(delta, ordering: .sequentiallyConsistent)
            }
        }
        return withMutex { value in
            let old = value.pointee
            value.pointee = old &+ delta
            return (old, old &+ delta)
        }
    }

    /// Stores `desired` if the word holds `expected`; returns whether it did and the value found.
    @inline(__always)
    public func compareExchange(expected: Int, desired: Int, ordering: Ordering) -> (exchanged: Bool, original: Int) {
        if #available(macOS 15, *), !locked {
            let atomic = base.assumingMemoryBound(to: Atomic<Int>.self)
            switch ordering {
            case .relaxed: return atomic.pointee.compareExchange(expected: expected, desired: desired, ordering: .relaxed)
            case .acquiring: return atomic.pointee.compareExchange(expected: expected, desired: desired, ordering: .acquiring)
            case .releasing: return atomic.pointee.compareExchange(expected: expected, desired: desired, ordering: .releasing)
            case .acquiringAndReleasing:
                return atomic.pointee.compareExchange(expected: expected, desired: desired, ordering: .acquiringAndReleasing)
            case .sequentiallyConsistent:
                return atomic.pointee.compareExchange(expected: expected, desired: desired, ordering: .sequentiallyConsistent)
            }
        }
        return withMutex { value in
            let original = value.pointee
            if original == expected { value.pointee = desired }
            return (original == expected, original)
        }
    }
}
