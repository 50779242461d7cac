// The KV cache's attention kernels (Sampling/KVCache.swift): one query row against the cached
// keys and values of its stream, for one head. Both are short dot products (hs terms for a
// score, at most T for an output), so one chain of fused multiply-adds per output vector
// waits on the FMA's latency, not its throughput: these keep eight vectors in flight.
//
// They compute exactly what `FastMath.weightedSum` computes (the cache's kernel before these),
// element by element: each output whose eight-lane vector is whole is one fused chain over the
// terms in order from zero; the last n mod 8 are sums of separately rounded products, in order.
// So the sampled texts do not change, and a row's bits never depend on the rows beside it.
//
// Legend: T the cache's capacity (Kᵀ's row stride), hs the head size, n the positions so far.

extension Attention {
    /// s[t] = q · k_t for t in 0..<n, from Kᵀ (hs, T) (row i at kt + i·T). Writes s[0..<n] and,
    /// when T is a multiple of 64, lanes up to the next multiple of 64 (meaningless, inside
    /// s's T). Blocks of 64 positions take eight fused chains at once, reading Kᵀ to the block's
    /// end (past n: finite values already in the cache, never used), with the partial vector's
    /// unfused sums as a ninth chain.
    @inline(__always)
    static func cachedScores(_ s: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>, _ kt: UnsafePointer<Float>,
                             hs: Int, T: Int, n: Int) {
        guard T % 64 == 0 else {
            FastMath.weightedSum(s, q, wStride: 1, kt, xStride: T, count: hs, n: n, readable: T)
            return
        }
        let whole = n & ~7  // positions in whole vectors: fused chains
        var t0 = 0
        repeat {
            // The partial vector, when it starts in this block, rides along; otherwise the
            // ninth chain repeats the first vector and is dropped.
            let tailHere = n > whole && whole >= t0 && whole < t0 + 64
            var kp = UnsafeRawPointer(kt + t0), tp = UnsafeRawPointer(kt + (tailHere ? whole : t0))
            var a0 = Vec(), a1 = Vec(), a2 = Vec(), a3 = Vec(), a4 = Vec(), a5 = Vec(), a6 = Vec(), a7 = Vec()
            var tail = Vec()
            for j in 0..<hs {
                let qj = Vec(repeating: q[j])
                a0 = a0.addingProduct(qj, kp.loadUnaligned(as: Vec.self))
                a1 = a1.addingProduct(qj, kp.loadUnaligned(fromByteOffset: 32, as: Vec.self))
                a2 = a2.addingProduct(qj, kp.loadUnaligned(fromByteOffset: 64, as: Vec.self))
                a3 = a3.addingProduct(qj, kp.loadUnaligned(fromByteOffset: 96, as: Vec.self))
                a4 = a4.addingProduct(qj, kp.loadUnaligned(fromByteOffset: 128, as: Vec.self))
                a5 = a5.addingProduct(qj, kp.loadUnaligned(fromByteOffset: 160, as: Vec.self))
                a6 = a6.addingProduct(qj, kp.loadUnaligned(fromByteOffset: 192, as: Vec.self))
                a7 = a7.addingProduct(qj, kp.loadUnaligned(fromByteOffset: 224, as: Vec.self))
                tail += qj * tp.loadUnaligned(as: Vec.self)
                kp += T * 4
                tp += T * 4
            }
            let o = UnsafeMutableRawPointer(s + t0)
            o.storeBytes(of: a0, as: Vec.self)
            o.storeBytes(of: a1, toByteOffset: 32, as: Vec.self)
            o.storeBytes(of: a2, toByteOffset: 64, as: Vec.self)
            o.storeBytes(of: a3, toByteOffset: 96, as: Vec.self)
            o.storeBytes(of: a4, toByteOffset: 128, as: Vec.self)
            o.storeBytes(of: a5, toByteOffset: 160, as: Vec.self)
            o.storeBytes(of: a6, toByteOffset: 192, as: Vec.self)
            o.storeBytes(of: a7, toByteOffset: 224, as: Vec.self)
            if tailHere { UnsafeMutableRawPointer(s + whole).storeBytes(of: tail, as: Vec.self) }
            t0 += 64
        } while t0 < n
    }

    /// One query's share of a head's output: y[0..<32] = Σ_{t<n} s[t] · v_t[0..<32], v_t at
    /// v + t·stride. 32 outputs are four fused chains over t in order.
    struct WeightedValues {
        let y: UnsafeMutablePointer<Float>, s: UnsafePointer<Float>, v: UnsafePointer<Float>, n: Int
    }

    /// Two `WeightedValues` at once (eight chains in flight), each summed exactly as alone:
    /// together over the positions both have, then the longer one's last positions alone.
    @inline(__always)
    static func cachedWeightedValues(_ a: WeightedValues, _ b: WeightedValues, stride: Int) {
        var pa = UnsafeRawPointer(a.v), pb = UnsafeRawPointer(b.v)
        var a0 = Vec(), a1 = Vec(), a2 = Vec(), a3 = Vec(), b0 = Vec(), b1 = Vec(), b2 = Vec(), b3 = Vec()
        let both = min(a.n, b.n)
        for t in 0..<both {
            let sa = Vec(repeating: a.s[t]), sb = Vec(repeating: b.s[t])
            a0 = a0.addingProduct(sa, pa.loadUnaligned(as: Vec.self))
            b0 = b0.addingProduct(sb, pb.loadUnaligned(as: Vec.self))
            a1 = a1.addingProduct(sa, pa.loadUnaligned(fromByteOffset: 32, as: Vec.self))
            b1 = b1.addingProduct(sb, pb.loadUnaligned(fromByteOffset: 32, as: Vec.self))
            a2 = a2.addingProduct(sa, pa.loadUnaligned(fromByteOffset: 64, as: Vec.self))
            b2 = b2.addingProduct(sb, pb.loadUnaligned(fromByteOffset: 64, as: Vec.self))
            a3 = a3.addingProduct(sa, pa.loadUnaligned(fromByteOffset: 96, as: Vec.self))
            b3 = b3.addingProduct(sb, pb.loadUnaligned(fromByteOffset: 96, as: Vec.self))
            pa += stride * 4
            pb += stride * 4
        }
        finish(a, from: both, (a0, a1, a2, a3), at: pa, stride: stride)
        finish(b, from: both, (b0, b1, b2, b3), at: pb, stride: stride)
    }

    /// One job's chains over its positions `first..<n` (v_first at `p`), alone, then its 32 sums into y.
    @inline(__always)
    private static func finish(_ job: WeightedValues, from first: Int, _ sums: (Vec, Vec, Vec, Vec),
                               at p: UnsafeRawPointer, stride: Int) {
        var (c0, c1, c2, c3) = sums, p = p
        for t in first..<job.n {
            let st = Vec(repeating: job.s[t])
            c0 = c0.addingProduct(st, p.loadUnaligned(as: Vec.self))
            c1 = c1.addingProduct(st, p.loadUnaligned(fromByteOffset: 32, as: Vec.self))
            c2 = c2.addingProduct(st, p.loadUnaligned(fromByteOffset: 64, as: Vec.self))
            c3 = c3.addingProduct(st, p.loadUnaligned(fromByteOffset: 96, as: Vec.self))
            p += stride * 4
        }
        let y = UnsafeMutableRawPointer(job.y)
        y.storeBytes(of: c0, as: Vec.self)
        y.storeBytes(of: c1, toByteOffset: 32, as: Vec.self)
        y.storeBytes(of: c2, toByteOffset: 64, as: Vec.self)
        y.storeBytes(of: c3, toByteOffset: 96, as: Vec.self)
    }
}
