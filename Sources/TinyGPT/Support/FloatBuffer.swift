// Owned, zero-initialised Float storage for parameters, gradients, optimizer moments and
// activations. Kernels see only its raw pointer; this class is what frees it.

/// A fixed-size block of Floats that frees itself.
public final class FloatBuffer {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        precondition(count >= 0)
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    public var array: [Float] { Array(buffer) }

    public func zero() { pointer.update(repeating: 0, count: count) }

    public subscript(i: Int) -> Float {
        get { precondition(i >= 0 && i < count); return pointer[i] }
        set { precondition(i >= 0 && i < count); pointer[i] = newValue }
    }
}

/// Grow-only scratch memory that kernels borrow between calls (packing panels, partial sums).
public final class Scratch {
    private var storage: UnsafeMutablePointer<Float>
    private var capacity: Int

    public init() {
        capacity = 0
        storage = .allocate(capacity: 1)
    }

    deinit { storage.deallocate() }

    /// At least `count` floats, uninitialised, valid until the next call.
    public func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            storage.deallocate()
            capacity = count
            storage = .allocate(capacity: count)
        }
        return storage
    }
}

/// What every kernel needs besides its operands: the threads, and scratch memory.
public final class KernelContext {
    public let pool: ThreadPool
    /// Scratch for GEMM panels of B and of A.
    let packing = Scratch()
    let packingA = Scratch()
    /// Scratch for per-task partial sums and temporaries.
    let partials = Scratch()

    public init(pool: ThreadPool = .shared) { self.pool = pool }

    public convenience init(threads: Int) {
        self.init(pool: threads == ThreadPool.shared.threadCount ? .shared : ThreadPool(threadCount: threads))
    }
}
