// The GELU nonlinearity (Hendrycks & Gimpel 2016) in both forms PyTorch offers:
// tanh:  y = ½x(1 + tanh(√(2/π)(x + 0.044715x³)))   (GPT-2, llm.c)
// exact: y = ½x(1 + erf(x/√2))                       (nn.GELU(), nanoGPT)

/// Which GELU formula the MLP uses. GPT-2 and llm.c use the tanh approximation;
/// PyTorch's `nn.GELU()` (and so nanoGPT) uses the exact erf form.
public enum GELUForm: UInt8, Sendable, CaseIterable {
    case tanh = 0
    case exact = 1

    public var name: String { self == .tanh ? "tanh" : "exact" }
    public init?(name: String) {
        switch name {
        case "tanh": self = .tanh
        case "exact", "erf": self = .exact
        default: return nil
        }
    }
}

public enum GELU {
    static let chunk = 4096
    static let invSqrt2: Float = 0.707_106_781_2
    static let invSqrt2Pi: Float = 0.398_942_280_4

    /// The tanh form's gate: ½(1 + tanh(u)) = 1 / (1 + e^(-2u)) with u = √(2/π)(x + 0.044715x³),
    /// so gelu(x) = x · gate. One expression for forward, backward and the recompute, so they
    /// agree to the bit; written with fused multiply-adds and one exp, no tanh.
    @inline(__always)
    static func gate(_ x: Vec, _ x2: Vec) -> Vec {
        // -2u = x · (-2√(2/π) - 2√(2/π)·0.044715 · x²)
        let minus2u = x * Vec(repeating: -1.595_769_1).addingProduct(x2, Vec(repeating: -0.071_354_816))
        return 1 / (1 + FastMath.exp(minus2u))
    }

    /// The exact form, gelu(x) = ½x(1 + erf(x/√2)), given e = erf(x/√2): one expression for
    /// forward and the recompute in backward, which shares its erf with the derivative.
    @inline(__always)
    static func exact(_ x: Float, erf e: Float) -> Float { 0.5 * x * (1 + e) }

    /// gelu(x) and its derivative, tanh form: with g = gate, d/dx (x·g) = g·(1 + x·(1 - g)·2u'),
    /// where 2u' = 2√(2/π)(1 + 0.134145x²).
    @inline(__always)
    static func gradient(_ x: Vec) -> (y: Vec, grad: Vec) {
        let x2 = x * x
        let g = gate(x, x2)
        let twoDu = Vec(repeating: 1.595_769_1).addingProduct(x2, Vec(repeating: 0.214_064_45))
        return (x * g, g * Vec(repeating: 1).addingProduct(x * (1 - g), twoDu))
    }

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
                UnsafeMutableRawPointer(out + i).storeBytes(of: x * gate(x, x * x), as: Vec.self)
                i += 8
            }
            while i < i1 {
                let x = Vec(repeating: inp[i])
                out[i] = (x * gate(x, x * x))[0]
                i += 1
            }
        case .exact:
            for i in i0..<i1 {
                let x = inp[i]
                out[i] = exact(x, erf: Math.erf(x * invSqrt2))
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
                let (y, grad) = gradient(x)
                if let out { UnsafeMutableRawPointer(out + i).storeBytes(of: y, as: Vec.self) }
                UnsafeMutableRawPointer(dinp + i).storeBytes(of: grad * dy, as: Vec.self)
                i += 8
            }
            while i < i1 {
                let (y, grad) = gradient(Vec(repeating: inp[i]))
                out?[i] = y[0]
                dinp[i] = grad[0] * dout[i]
                i += 1
            }
        case .exact:
            for i in i0..<i1 {
                let x = inp[i]
                let e = Math.erf(x * invSqrt2)
                let grad = 0.5 * (1 + e) + x * invSqrt2Pi * Math.exp(-0.5 * x * x)
                out?[i] = exact(x, erf: e)
                dinp[i] = grad * dout[i]
            }
        }
    }
}
