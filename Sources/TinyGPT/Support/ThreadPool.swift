// A small persistent pool of worker threads for the kernels.
//
// `DispatchQueue.concurrentPerform` wakes its workers on every call, which costs 40-70 µs
// on the machines we measure on (Docs/MEASUREMENTS.md): more than many of our ops take.
// These workers spin for a short while after each job before sleeping, so a training step's
// hundred-odd parallel regions each start in well under a microsecond.
//
// Tasks are dealt out in contiguous shares, the first share to the calling thread, the next
// to the first worker, and so on. Ops split their rows into tasks in order, so a thread tends
// to read the rows it wrote in the op before, from its own cache. A thread that finishes its
// share early takes the remaining tasks of the others from their far end.
//
// A worker joins a job before it takes any task, and the caller, once every task has been
// taken, closes the job to workers that have not joined: it waits only for those that did.
// On an idle machine a worker joins within microseconds. On a busy one a worker may not run
// for milliseconds; the caller then takes its whole share instead of waiting for it to be
// scheduled (at 158 regions a step, that wait made two threads five times slower than one).
//
// Determinism: the pool only decides *which thread* runs a task. Callers make tasks that
// write disjoint outputs, each summed in an order fixed by the problem size alone (partial
// sums are reduced in task order), so results are bit-identical for any thread count.

import Foundation

/// Runs `body(task)` for every task index, spread over a fixed set of threads.
/// A pool lives as long as the process: make one per thread count and keep it.
public final class ThreadPool: @unchecked Sendable {
    /// Number of threads that execute tasks, the caller's included.
    public let threadCount: Int

    private let generation = SharedWord(0)
    /// The current job's entry: its number (the generation, low 31 bits) << 32, the closed
    /// bit, and the number of workers that joined it. Workers join by compare-and-swap while
    /// it is open; the caller closes it once no task is left to take.
    private let entry = SharedWord(0)
    private static let closedBit = 1 << 31
    private static let numberMask = (1 << 31) - 1
    private let checkedIn = SharedWord(0)
    /// Tests clear this to hold workers out of ordinary jobs (never out of `runTogether`).
    let workersMayJoin = SharedWord(1)
    /// Per thread, the tasks of its share not yet taken: front << 32 | back. The owner takes
    /// from the front and others from the back, each by compare-and-swap on the one word.
    /// Each word has a cache line of its own (SharedWord).
    private let shares: UnsafeMutablePointer<SharedWord>
    private let sleepLock = NSCondition()
    // Written by the caller only while every worker is parked between jobs.
    private var job: ((_ task: Int, _ thread: Int) -> Void)?
    private var onePerThread = false
    private let barrier: Barrier

    /// The pool used when none is passed: one thread per core.
    public static let shared = ThreadPool(threadCount: Platform.processorCount)

    public init(threadCount: Int) {
        precondition(threadCount >= 1, "a pool needs at least one thread")
        self.threadCount = threadCount
        barrier = Barrier(threadCount: threadCount)
        shares = .allocate(capacity: threadCount)
        for t in 0..<threadCount { (shares + t).initialize(to: SharedWord(0)) }
        for index in 1..<threadCount {
            let thread = Thread { self.workerLoop(index) }  // pools live as long as the process
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Calls `body(i)` for `i` in `0..<count`, in parallel, and returns when all are done.
    /// Tasks must not depend on one another's order.
    public func run(_ count: Int, _ body: (Int) -> Void) {
        run(count) { task, _ in body(task) }
    }

    /// As `run` above, also telling each task which of the pool's threads (0 the caller,
    /// 1..<threadCount the workers) runs it, for per-thread scratch.
    public func run(_ count: Int, _ body: (_ task: Int, _ thread: Int) -> Void) {
        if count <= 0 { return }
        if count == 1 || threadCount == 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        precondition(count < 1 << 31, "a share's bounds must fit in half a word")
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            for t in 0..<threadCount {
                let first = count * t / threadCount, end = count * (t + 1) / threadCount
                shares[t].store(first << 32 | end, ordering: .relaxed)
            }
            checkedIn.store(0, ordering: .relaxed)
            // Only this thread writes the generation, so the next one is known before it is posted.
            let number = (generation.load(ordering: .relaxed) + 1) & Self.numberMask
            entry.store(number << 32, ordering: .releasing)
            sleepLock.lock()
            generation.add(1, ordering: .sequentiallyConsistent)
            sleepLock.broadcast()
            sleepLock.unlock()
            drainTasks(escapable, thread: 0)
            // Every task is taken. Close the job: a worker that has not joined by now never
            // will, and never reads `job`. In a together region every thread runs its own
            // task, so every worker joins and is waited for.
            var joined = threadCount - 1
            if !onePerThread {
                var word = entry.load(ordering: .acquiring)
                while true {
                    let (exchanged, original) = entry.compareExchange(expected: word, desired: word | Self.closedBit,
                                                                      ordering: .acquiringAndReleasing)
                    if exchanged { break }
                    word = original
                }
                joined = word & Self.numberMask
            }
            // Every worker that joined checks in after its last task, so none is in flight once
            // we return. Spin briefly, then yield the core: on a busy machine it may need it.
            var spins = 0
            while checkedIn.load(ordering: .acquiring) < joined {
                spins += 1
                if spins > 2_000 { Platform.yieldThread() }
            }
            job = nil
        }
    }

    /// Calls `body(thread, barrier)` once on each of the pool's threads at the same time, and
    /// returns when all are done. `barrier.wait()` inside `body` holds each thread until every
    /// thread has reached it, so one region can run several dependent phases (each thread
    /// taking its fixed share of each) without the cost of starting a region per phase.
    public func runTogether(_ body: (_ thread: Int, _ barrier: Barrier) -> Void) {
        onePerThread = true
        let barrier = self.barrier
        run(threadCount) { task, _ in body(task, barrier) }
        onePerThread = false
    }

    private func drainTasks(_ body: (_ task: Int, _ thread: Int) -> Void, thread: Int) {
        while let i = take(from: thread, front: true) { body(i, thread) }
        // In a together region each thread runs its own task only: a second one could wait at
        // a barrier for a thread that never comes.
        if onePerThread { return }
        for other in 1..<threadCount {
            let owner = (thread + other) % threadCount
            while let i = take(from: owner, front: false) { body(i, thread) }
        }
    }

    /// Takes the next task of `owner`'s share, from its front or its back; nil once it is empty.
    private func take(from owner: Int, front: Bool) -> Int? {
        let share = shares[owner]
        var word = share.load(ordering: .relaxed)
        while true {
            let first = word >> 32, end = word & 0xFFFF_FFFF
            if first >= end { return nil }
            let (next, task) = front ? ((first + 1) << 32 | end, first) : (first << 32 | (end - 1), end - 1)
            let (exchanged, original) = share.compareExchange(expected: word, desired: next,
                                                              ordering: .acquiringAndReleasing)
            if exchanged { return task }
            word = original
        }
    }

    private func workerLoop(_ index: Int) {
        var seen = 0
        while true {
            // Spin briefly for the next job, then yield the core for a while (jobs within a
            // training step come microseconds apart), then sleep until one is posted.
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins > 5_000 { Platform.yieldThread() }
                if spins > 50_000 {
                    sleepLock.lock()
                    while generation.load(ordering: .acquiring) == seen { sleepLock.wait() }
                    sleepLock.unlock()
                }
            }
            seen = generation.load(ordering: .acquiring)
            guard join(seen) else { continue }
            if let body = job { drainTasks(body, thread: index) }
            checkedIn.add(1, ordering: .releasing)
        }
    }

    /// Joins job `generation` unless the caller has closed it (having taken every task itself)
    /// or a later job has replaced it; true when joined.
    private func join(_ generation: Int) -> Bool {
        let number = generation & Self.numberMask
        var word = entry.load(ordering: .acquiring)
        while true {
            if word >> 32 != number || word & Self.closedBit != 0 { return false }
            if !onePerThread && workersMayJoin.load(ordering: .relaxed) == 0 { return false }
            let (exchanged, original) = entry.compareExchange(expected: word, desired: word + 1,
                                                              ordering: .acquiringAndReleasing)
            if exchanged { return true }
            word = original
        }
    }
}

/// A reusable barrier for the threads of a `ThreadPool.runTogether` region: spins (yielding
/// the core after a while, in case the thread it waits for is not running) until every
/// thread has arrived.
public final class Barrier: @unchecked Sendable {
    private let threadCount: Int
    private let arrived = SharedWord(0)
    private let phase = SharedWord(0)

    init(threadCount: Int) { self.threadCount = threadCount }

    public func wait() {
        if threadCount == 1 { return }
        let current = phase.load(ordering: .acquiring)
        if arrived.add(1, ordering: .acquiringAndReleasing).newValue == threadCount {
            arrived.store(0, ordering: .relaxed)
            phase.store(current + 1, ordering: .releasing)
            return
        }
        var spins = 0
        while phase.load(ordering: .acquiring) == current {
            spins += 1
            if spins > 2_000 { Platform.yieldThread() }
        }
    }
}
