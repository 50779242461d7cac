// Vectorised exp, which softmax (Ops/Softmax.swift), cross-entropy and GELU's gate run on. Glibc's expf costs
// ~3.3 ns an element; this polynomial costs ~0.3 ns at ~1e-7 relative error (Cephes' expf
// range reduction and polynomial: x = n·ln2 + r, |r| ≤ ln2/2, e^r by a degree-6 polynomial,
// times 2^n).

typealias Vec = SIMD8<Float>

enum FastMath {
    /// e^x for each lane; inputs are clamped to [-87.3, 88.3], so the result never overflows.
    /// (Written with masks and bit casts: the generic SIMD conversions and min/max are not
    /// inlined and cost more than the whole polynomial.)
    @inline(__always)
    static func exp(_ xIn: Vec) -> Vec {
        let low = Vec(repeating: -87.3), high = Vec(repeating: 88.3)
        var x = xIn.replacing(with: low, where: xIn .< low)
        x = x.replacing(with: high, where: x .> high)
        // Adding 1.5·2^23 rounds x·log2(e) to an integer n held in the low mantissa bits.
        // Every a·b + c below is one fused multiply-add (one rounding, one instruction).
        let magic = Vec(repeating: 12_582_912)
        let shifted = magic.addingProduct(x, Vec(repeating: 1.442_695_04))
        let n = shifted - magic
        // r = x - n·ln2, with ln2 split in two parts so the subtraction stays exact.
        let r = x.addingProduct(n, Vec(repeating: -0.693_359_375)).addingProduct(n, Vec(repeating: 2.121_944_4e-4))
        var p = Vec(repeating: 1.398_199_95e-3).addingProduct(r, Vec(repeating: 1.987_569_15e-4))
        p = Vec(repeating: 8.333_451_9e-3).addingProduct(p, r)
        p = Vec(repeating: 4.166_579_6e-2).addingProduct(p, r)
        p = Vec(repeating: 1.666_666_55e-1).addingProduct(p, r)
        p = Vec(repeating: 5.000_000_1e-1).addingProduct(p, r)
        let e = r.addingProduct(p, r * r) + 1
        // 2^n: the integer n sits in the low bits of `shifted`'s pattern, offset by 0x4B40_0000.
        let bits = (unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return e * unsafeBitCast(bits, to: Vec.self)
    }

    /// Scalar e^x through the vector path (for tails and one-off values).
    @inline(__always)
    static func exp(_ x: Float) -> Float { exp(Vec(repeating: x))[0] }
}

extension FastMath {
    /// Σ a[i]·b[i] over n elements, eight lanes at a time.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = Vec()
        var i = 0
        while i + 8 <= n {
            acc = acc.addingProduct(UnsafeRawPointer(a + i).loadUnaligned(as: Vec.self),
                                    UnsafeRawPointer(b + i).loadUnaligned(as: Vec.self))
            i += 8
        }
        var sum = acc.sum()
        while i < n { sum += a[i] * b[i]; i += 1 }
        return sum
    }

    /// y[i] += alpha·x[i] over n elements.
    @inline(__always)
    static func axpy(_ y: UnsafeMutablePointer<Float>, _ alpha: Float, _ x: UnsafePointer<Float>, _ n: Int) {
        let va = Vec(repeating: alpha)
        var i = 0
        while i + 8 <= n {
            let yp = UnsafeMutableRawPointer(y + i)
            yp.storeBytes(of: yp.loadUnaligned(as: Vec.self).addingProduct(va, UnsafeRawPointer(x + i).loadUnaligned(as: Vec.self)), as: Vec.self)
            i += 8
        }
        while i < n { y[i] += alpha * x[i]; i += 1 }
    }

    /// The largest of n > 0 elements.
    @inline(__always)
    static func max(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var m = x[0]
        var i = 0
        if n >= 8 {
            var v = UnsafeRawPointer(x).loadUnaligned(as: Vec.self)
            i = 8
            while i + 8 <= n {
                let w = UnsafeRawPointer(x + i).loadUnaligned(as: Vec.self)
                v = v.replacing(with: w, where: w .> v)  // (pointwiseMax is not inlined)
                i += 8
            }
            for lane in 1..<8 where v[lane] > v[0] { v[0] = v[lane] }
            m = v[0]
        }
        while i < n { if x[i] > m { m = x[i] }; i += 1 }
        return m
    }
}

extension FastMath {
    /// out[0..<n] = Σⱼ w[j·wStride] · x[j·xStride ..< j·xStride + n] for j in 0..<count.
    /// Overwrites `out`. Accumulates 32 outputs at a time in registers: the cached attention's
    /// scores and weighted values over the positions so far (Sampling/KVCache.swift). The last
    /// n mod 8 outputs are sums of separately rounded products (no fused multiply-add); where
    /// `readable` (≥ n) says out and each x row have room, eight of them go in one vector with
    /// the same arithmetic lane by lane (the extra lanes are written to out and mean nothing).
    @inline(__always)
    static func weightedSum(_ out: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, wStride: Int,
                            _ x: UnsafePointer<Float>, xStride: Int, count: Int, n: Int, readable: Int = 0) {
        var c = 0
        while c + 32 <= n {
            var a0 = Vec(), a1 = Vec(), a2 = Vec(), a3 = Vec()
            var xp = UnsafeRawPointer(x + c)
            for j in 0..<count {
                let wj = Vec(repeating: w[j * wStride])
                a0 = a0.addingProduct(wj, xp.loadUnaligned(as: Vec.self))
                a1 = a1.addingProduct(wj, xp.loadUnaligned(fromByteOffset: 32, as: Vec.self))
                a2 = a2.addingProduct(wj, xp.loadUnaligned(fromByteOffset: 64, as: Vec.self))
                a3 = a3.addingProduct(wj, xp.loadUnaligned(fromByteOffset: 96, as: Vec.self))
                xp += xStride * 4
            }
            let o = UnsafeMutableRawPointer(out + c)
            o.storeBytes(of: a0, as: Vec.self)
            o.storeBytes(of: a1, toByteOffset: 32, as: Vec.self)
            o.storeBytes(of: a2, toByteOffset: 64, as: Vec.self)
            o.storeBytes(of: a3, toByteOffset: 96, as: Vec.self)
            c += 32
        }
        while c + 8 <= n {
            var a0 = Vec()
            var xp = UnsafeRawPointer(x + c)
            for j in 0..<count {
                a0 = a0.addingProduct(Vec(repeating: w[j * wStride]), xp.loadUnaligned(as: Vec.self))
                xp += xStride * 4
            }
            UnsafeMutableRawPointer(out + c).storeBytes(of: a0, as: Vec.self)
            c += 8
        }
        if c < n && c + 8 <= readable {
            var a0 = Vec()
            var xp = UnsafeRawPointer(x + c)
            for j in 0..<count {
                a0 += Vec(repeating: w[j * wStride]) * xp.loadUnaligned(as: Vec.self)
                xp += xStride * 4
            }
            UnsafeMutableRawPointer(out + c).storeBytes(of: a0, as: Vec.self)
            c = n
        }
        while c < n {
            var sum: Float = 0
            for j in 0..<count { sum += w[j * wStride] * x[j * xStride + c] }
            out[c] = sum
            c += 1
        }
    }
}
