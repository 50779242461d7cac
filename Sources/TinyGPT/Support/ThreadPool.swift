// A small persistent pool of worker threads for the kernels.
//
// `DispatchQueue.concurrentPerform` wakes its workers on every call, which costs 40-70 µs
// on the machines we measure on (see shared PERF-NOTES): more than many of our ops take.
// These workers spin for a short while after each job before sleeping, so a training step's
// hundred-odd parallel regions each start in well under a microsecond.
//
// Determinism: the pool only decides *which thread* runs a task. Callers split work into
// tasks that depend on the problem size alone and write disjoint outputs (or partial sums
// reduced in task order), so results are bit-identical for any thread count.

import Foundation
import Synchronization

/// Runs `body(task)` for every task index, spread over a fixed set of threads.
/// A pool lives as long as the process: make one per thread count and keep it.
public final class ThreadPool: @unchecked Sendable {
    /// Number of threads that execute tasks, the caller's included.
    public let threadCount: Int

    private let generation = Atomic<Int>(0)
    private let nextTask = Atomic<Int>(0)
    private let checkedIn = Atomic<Int>(0)
    private let sleepLock = NSCondition()
    // Written by the caller only while every worker is parked between jobs.
    private var taskCount = 0
    private var job: ((Int) -> Void)?
    private var onePerThread = false
    private let barrier: Barrier

    /// The pool used when none is passed: one thread per core.
    public static let shared = ThreadPool(threadCount: ProcessInfo.processInfo.activeProcessorCount)

    public init(threadCount: Int) {
        precondition(threadCount >= 1, "a pool needs at least one thread")
        self.threadCount = threadCount
        barrier = Barrier(threadCount: threadCount)
        for _ in 1..<threadCount {
            let thread = Thread { self.workerLoop() }  // pools live as long as the process
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Calls `body(i)` for `i` in `0..<count`, in parallel, and returns when all are done.
    /// Tasks must not depend on one another's order.
    public func run(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if count == 1 || threadCount == 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            taskCount = count
            nextTask.store(0, ordering: .relaxed)
            checkedIn.store(0, ordering: .relaxed)
            sleepLock.lock()
            generation.add(1, ordering: .sequentiallyConsistent)
            sleepLock.broadcast()
            sleepLock.unlock()
            drainTasks(escapable, count)
            // Every worker checks in after its last task, so none is in flight once we return.
            // Spin briefly, then yield the core: on a busy machine a worker may be waiting for it.
            var spins = 0
            while checkedIn.load(ordering: .acquiring) < threadCount - 1 {
                spins += 1
                if spins > 2_000 { sched_yield() }
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
        run(threadCount) { thread in body(thread, barrier) }
        onePerThread = false
    }

    private func drainTasks(_ body: (Int) -> Void, _ count: Int) {
        while true {
            let i = nextTask.add(1, ordering: .acquiringAndReleasing).oldValue
            if i >= count { return }
            body(i)
            // In a together region each thread takes one task: a second one could wait at a
            // barrier for a thread that never comes.
            if onePerThread { return }
        }
    }

    private func workerLoop() {
        var seen = 0
        while true {
            // Spin briefly for the next job, then yield the core for a while (jobs within a
            // training step come microseconds apart), then sleep until one is posted.
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins > 5_000 { sched_yield() }
                if spins > 50_000 {
                    sleepLock.lock()
                    while generation.load(ordering: .acquiring) == seen { sleepLock.wait() }
                    sleepLock.unlock()
                }
            }
            seen = generation.load(ordering: .acquiring)
            if let body = job { drainTasks(body, taskCount) }
            checkedIn.add(1, ordering: .releasing)
        }
    }
}

/// A reusable barrier for the threads of a `ThreadPool.runTogether` region: spins (yielding
/// the core after a while, in case the thread it waits for is not running) until every
/// thread has arrived.
public final class Barrier: @unchecked Sendable {
    private let threadCount: Int
    private let arrived = Atomic<Int>(0)
    private let phase = Atomic<Int>(0)

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
            if spins > 2_000 { sched_yield() }
        }
    }
}
