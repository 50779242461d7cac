// Tests for Support/ThreadPool.swift: every task of a region runs exactly once, whatever the
// task and thread counts, also when one share is slow and the others take its tasks; a
// together region runs its body once on each thread. The same with SharedWord's mutex path
// (what macOS 13 and 14 run, for want of Synchronization.Atomic), forced here.

import Foundation
import XCTest
@testable import TinyGPT

final class ThreadPoolTests: XCTestCase {
    static let pools = [1, 2, 3, 5].map { ThreadPool(threadCount: $0) }

    func testEveryTaskRunsExactlyOnce() {
        for pool in Self.pools {
            for count in [1, 2, 3, 4, 7, 64, 1000] {
                let runs = UnsafeMutablePointer<SharedWord>.allocate(capacity: count)
                for i in 0..<count { (runs + i).initialize(to: SharedWord(0)) }
                defer { runs.deallocate() }
                for _ in 0..<20 {
                    pool.run(count) { i in runs[i].add(1, ordering: .relaxed) }
                }
                let counts = (0..<count).map { runs[$0].load(ordering: .relaxed) }
                XCTAssertEqual(counts, Array(repeating: 20, count: count),
                               "\(pool.threadCount) threads, \(count) tasks: some task ran a wrong number of times")
            }
        }
    }

    func testIdleThreadsTakeTheTasksOfASlowShare() {
        // The first share's tasks sleep; the other threads must finish their own shares and then
        // take from the first, so some of its tasks run on a thread other than the caller.
        let pool = Self.pools[1]
        let count = 16
        let ranOnCaller = UnsafeMutablePointer<SharedWord>.allocate(capacity: count)
        for i in 0..<count { (ranOnCaller + i).initialize(to: SharedWord(-1)) }
        defer { ranOnCaller.deallocate() }
        let caller = pthread_self()
        pool.run(count) { i in
            ranOnCaller[i].store(pthread_equal(pthread_self(), caller) != 0 ? 1 : 0, ordering: .relaxed)
            if i < count / 2 { usleep(2_000) }
        }
        let flags = (0..<count).map { ranOnCaller[$0].load(ordering: .relaxed) }
        XCTAssertFalse(flags.contains(-1), "a task did not run")
        XCTAssertTrue(flags[0..<count / 2].contains(0), "no task of the slow share was taken by the other thread")
    }

    func testARegionDoesNotWaitForWorkersThatHaveNotJoined() {
        // Workers held out (as a busy machine holds them off the cores): the caller takes every
        // task of every share and returns without them. Let back in, they take part again.
        let pool = ThreadPool(threadCount: 3)
        let count = 64
        let ranOnCaller = UnsafeMutablePointer<SharedWord>.allocate(capacity: count)
        for i in 0..<count { (ranOnCaller + i).initialize(to: SharedWord(0)) }
        defer { ranOnCaller.deallocate() }
        let caller = pthread_self()
        pool.workersMayJoin.store(0, ordering: .relaxed)
        for _ in 0..<10 {
            pool.run(count) { i in
                if pthread_equal(pthread_self(), caller) != 0 { ranOnCaller[i].add(1, ordering: .relaxed) }
            }
        }
        XCTAssertEqual((0..<count).map { ranOnCaller[$0].load(ordering: .relaxed) }, Array(repeating: 10, count: count),
                       "with no worker joining, every task runs once per region on the caller")
        pool.workersMayJoin.store(1, ordering: .relaxed)
        var sawWorker = false
        for _ in 0..<200 where !sawWorker {
            let elsewhere = SharedWord(0)
            pool.run(8) { i in
                if pthread_equal(pthread_self(), caller) == 0 { elsewhere.add(1, ordering: .relaxed) }
                if i < 4 { usleep(500) }
            }
            sawWorker = elsewhere.load(ordering: .relaxed) > 0
        }
        XCTAssertTrue(sawWorker, "workers let back in never took a task")
    }

    func testTogetherRegionRunsOncePerThread() {
        for pool in Self.pools {
            let seen = UnsafeMutablePointer<SharedWord>.allocate(capacity: pool.threadCount)
            for t in 0..<pool.threadCount { (seen + t).initialize(to: SharedWord(0)) }
            defer { seen.deallocate() }
            let arrived = SharedWord(0)
            pool.runTogether { thread, barrier in
                seen[thread].add(1, ordering: .relaxed)
                arrived.add(1, ordering: .relaxed)
                barrier.wait()
                // After the barrier every thread has arrived.
                XCTAssertEqual(arrived.load(ordering: .relaxed), pool.threadCount)
            }
            XCTAssertEqual((0..<pool.threadCount).map { seen[$0].load(ordering: .relaxed) },
                           Array(repeating: 1, count: pool.threadCount), "\(pool.threadCount) threads")
        }
    }

    /// SharedWord without Atomic (macOS 13 and 14): a pool built on the mutex path runs every
    /// task once and holds its barrier, and a matrix product on it gives the same bits.
    func testTheMutexPathOfSharedWordRunsThePoolTheSameWay() {
        SharedWord.forceMutex = true
        let pool = ThreadPool(threadCount: 3)
        let word = SharedWord(5)
        SharedWord.forceMutex = false
        XCTAssertEqual(word.add(2, ordering: .relaxed).newValue, 7)
        XCTAssertTrue(word.compareExchange(expected: 7, desired: 1, ordering: .acquiringAndReleasing).exchanged)
        XCTAssertEqual(word.compareExchange(expected: 7, desired: 2, ordering: .acquiringAndReleasing).original, 1)

        let count = 500
        let runs = UnsafeMutablePointer<SharedWord>.allocate(capacity: count)
        for i in 0..<count { (runs + i).initialize(to: SharedWord(0)) }
        defer { runs.deallocate() }
        for _ in 0..<10 { pool.run(count) { i in runs[i].add(1, ordering: .relaxed) } }
        XCTAssertEqual((0..<count).map { runs[$0].load(ordering: .relaxed) }, Array(repeating: 10, count: count))
        let arrived = SharedWord(0)
        pool.runTogether { _, barrier in
            arrived.add(1, ordering: .relaxed)
            barrier.wait()
            XCTAssertEqual(arrived.load(ordering: .relaxed), 3)
        }

        var rng = RandomGenerator(seed: 5)
        let (m, k, n) = (37, 64, 48)
        let a = randomFloats(m * k, &rng), w = randomFloats(n * k, &rng)
        func product(_ context: KernelContext) -> [Float] {
            var c = [Float](repeating: 0, count: m * n)
            a.withUnsafeBufferPointer { a in w.withUnsafeBufferPointer { w in c.withUnsafeMutableBufferPointer { c in
                Linear.forward(c.baseAddress!, a.baseAddress!, w.baseAddress!, nil, N: m, C: k, OC: n, context: context)
            } } }
            return c
        }
        XCTAssertEqual(product(KernelContext(pool: pool)), product(KernelContext(pool: ThreadPool(threadCount: 3))))
    }
}
