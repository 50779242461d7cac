// The GELU nonlinearity (Hendrycks & Gimpel 2016) in both forms PyTorch offers:
// tanh:  y = ½x(1 + tanh(√(2/π)(x + 0.044715x³)))   (GPT-2, llm.c)
// exact: y = ½x(1 + erf(x/√2))                       (nn.GELU(), nanoGPT)

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum GELU {
    static let chunk = 4096
    static let s: Float = 0.797_884_560_8   // √(2/π)
    static let invSqrt2: Float = 0.707_106_781_2
    static let invSqrt2Pi: Float = 0.398_942_280_4

    /// tanh(√(2/π)(x + 0.044715x³)): one expression for forward, backward and the recompute,
    /// so they agree to the bit.
    @inline(__always)
    static func tanhPart(_ x: Vec) -> Vec { FastMath.tanh(s * (x + 0.044715 * x * x * x)) }

    /// out (N) = gelu(inp (N)). Overwrites `out`.
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                               count N: Int, form: GELUForm, context: KernelContext) {
        context.pool.run((N + chunk - 1) / chunk) { task in
            forward(out, inp, range: task * chunk..<min(N, (task + 1) * chunk), form: form)
        }
    }

    /// The forward pass over out[range] only, on the calling thread.
    @inline(__always)
    static func forward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, range: Range<Int>,
                        form: GELUForm) {
        let i0 = range.lowerBound, i1 = range.upperBound
        switch form {
        case .tanh:
            var i = i0
            while i + 8 <= i1 {
                let x = UnsafeRawPointer(inp + i).loadUnaligned(as: Vec.self)
                let t = tanhPart(x)
                UnsafeMutableRawPointer(out + i).storeBytes(of: 0.5 * x * (1 + t), as: Vec.self)
                i += 8
            }
            while i < i1 {
                let x = inp[i]
                let t = tanhPart(Vec(repeating: x))[0]
                out[i] = 0.5 * x * (1 + t)
                i += 1
            }
        case .exact:
            for i in i0..<i1 {
                let x = inp[i]
                out[i] = 0.5 * x * (1 + erff(x * invSqrt2))
            }
        }
    }

    /// dinp (N) = gelu'(inp) · dout. Overwrites `dinp`, which may be `dout` itself.
    public static func backward(_ dinp: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                                _ dout: UnsafePointer<Float>, count N: Int, form: GELUForm,
                                context: KernelContext) {
        context.pool.run((N + chunk - 1) / chunk) { task in
            backward(dinp, inp, dout, range: task * chunk..<min(N, (task + 1) * chunk), form: form)
        }
    }

    /// The backward pass over [range] only, on the calling thread; with `recomputed`, also
    /// writes gelu(inp) there, bit for bit as the forward pass computes it.
    @inline(__always)
    static func backward(_ dinp: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ dout: UnsafePointer<Float>,
                         range: Range<Int>, form: GELUForm, recomputed out: UnsafeMutablePointer<Float>? = nil) {
        let i0 = range.lowerBound, i1 = range.upperBound
        switch form {
        case .tanh:
            var i = i0
            while i + 8 <= i1 {
                let x = UnsafeRawPointer(inp + i).loadUnaligned(as: Vec.self)
                let dy = UnsafeRawPointer(dout + i).loadUnaligned(as: Vec.self)
                let t = tanhPart(x)
                let du: Vec = s * (1 + 0.134145 * (x * x))      // d/dx of √(2/π)(x + 0.044715x³)
                let half: Vec = 0.5 * (1 + t)
                let grad: Vec = half + 0.5 * x * (1 - t * t) * du
                if let out { UnsafeMutableRawPointer(out + i).storeBytes(of: 0.5 * x * (1 + t), as: Vec.self) }
                UnsafeMutableRawPointer(dinp + i).storeBytes(of: grad * dy, as: Vec.self)
                i += 8
            }
            while i < i1 {
                let x = inp[i]
                let t = tanhPart(Vec(repeating: x))[0]
                let du = s * (1 + 0.134145 * (x * x))
                let grad = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du
                out?[i] = 0.5 * x * (1 + t)
                dinp[i] = grad * dout[i]
                i += 1
            }
        case .exact:
            for i in i0..<i1 {
                let x = inp[i]
                let grad = 0.5 * (1 + erff(x * invSqrt2)) + x * invSqrt2Pi * expf(-0.5 * x * x)
                out?[i] = 0.5 * x * (1 + erff(x * invSqrt2))
                dinp[i] = grad * dout[i]
            }
        }
    }
}
