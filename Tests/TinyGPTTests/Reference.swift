// A naive Double-precision reference of every op's forward pass and of the whole GPT loss,
// written from the formulas (plain loops, no library kernels), for the tests to compare the
// fast Float kernels against and to differentiate numerically.
// Formulas: nn.Linear, nn.LayerNorm (eps 1e-5), GELU (Hendrycks & Gimpel 2016, both forms),
// scaled dot-product attention with a causal mask (Vaswani et al. 2017, §3.2), softmax
// cross-entropy, and the GPT-2 / nanoGPT architecture described at the top of Model/GPT.swift.
// Legend: B batch, T time, C channels, NH heads, hs head size, V vocabulary, N = B·T rows.

import Foundation
@testable import TinyGPT

enum Reference {
    // MARK: - Ops

    /// out (N, OC) = inp (N, C) · weightᵀ + bias, weight stored (OC, C).
    static func linear(_ inp: [Double], _ weight: [Double], _ bias: [Double]?, N: Int, C: Int, OC: Int) -> [Double] {
        precondition(inp.count == N * C && weight.count == OC * C && (bias?.count ?? OC) == OC)
        var out = [Double](repeating: 0, count: N * OC)
        for n in 0..<N {
            for o in 0..<OC {
                var sum = bias?[o] ?? 0
                for c in 0..<C { sum += inp[n * C + c] * weight[o * C + c] }
                out[n * OC + o] = sum
            }
        }
        return out
    }

    /// c (M, N) = a (M, K) · b (K, N), all row-major.
    static func matmul(_ a: [Double], _ b: [Double], M: Int, N: Int, K: Int) -> [Double] {
        var c = [Double](repeating: 0, count: M * N)
        for i in 0..<M {
            for j in 0..<N {
                var sum = 0.0
                for k in 0..<K { sum += a[i * K + k] * b[k * N + j] }
                c[i * N + j] = sum
            }
        }
        return c
    }

    /// Each row of (N, C) normalised to zero mean and unit (biased) variance, then scaled and shifted.
    static func layerNorm(_ inp: [Double], _ weight: [Double], _ bias: [Double], N: Int, C: Int) -> [Double] {
        precondition(inp.count == N * C && weight.count == C && bias.count == C)
        var out = [Double](repeating: 0, count: N * C)
        for n in 0..<N {
            let row = inp[n * C..<(n + 1) * C]
            let mean = row.reduce(0, +) / Double(C)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(C)
            let rstd = 1 / (variance + 1e-5).squareRoot()
            for c in 0..<C { out[n * C + c] = (inp[n * C + c] - mean) * rstd * weight[c] + bias[c] }
        }
        return out
    }

    static func gelu(_ x: Double, form: GELUForm) -> Double {
        switch form {
        case .tanh: return 0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        case .exact: return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
        }
    }

    static func gelu(_ x: [Double], form: GELUForm) -> [Double] { x.map { gelu($0, form: form) } }

    /// Causal multi-head attention on packed qkv (B, T, 3C): head h of Q, K and V is at columns
    /// h·hs ..< (h+1)·hs of the first, second and third C-wide part of each row.
    /// Returns out (B, T, C) and the probabilities att (B, NH, T, T), zero above the diagonal.
    static func attention(_ qkv: [Double], B: Int, T: Int, C: Int, NH: Int) -> (out: [Double], att: [Double]) {
        precondition(qkv.count == B * T * 3 * C && C % NH == 0)
        let hs = C / NH
        let scale = 1 / Double(hs).squareRoot()
        var out = [Double](repeating: 0, count: B * T * C)
        var att = [Double](repeating: 0, count: B * NH * T * T)
        func q(_ b: Int, _ t: Int, _ h: Int, _ i: Int) -> Double { qkv[(b * T + t) * 3 * C + h * hs + i] }
        func k(_ b: Int, _ t: Int, _ h: Int, _ i: Int) -> Double { qkv[(b * T + t) * 3 * C + C + h * hs + i] }
        func v(_ b: Int, _ t: Int, _ h: Int, _ i: Int) -> Double { qkv[(b * T + t) * 3 * C + 2 * C + h * hs + i] }
        for b in 0..<B {
            for h in 0..<NH {
                for t in 0..<T {
                    var scores = [Double](repeating: 0, count: t + 1)
                    for s in 0...t {
                        var dot = 0.0
                        for i in 0..<hs { dot += q(b, t, h, i) * k(b, s, h, i) }
                        scores[s] = dot * scale
                    }
                    let probs = softmax(scores)
                    for s in 0...t { att[((b * NH + h) * T + t) * T + s] = probs[s] }
                    for i in 0..<hs {
                        var sum = 0.0
                        for s in 0...t { sum += probs[s] * v(b, s, h, i) }
                        out[(b * T + t) * C + h * hs + i] = sum
                    }
                }
            }
        }
        return (out, att)
    }

    static func softmax(_ x: [Double]) -> [Double] {
        let m = x.max() ?? 0
        let e = x.map { Foundation.exp($0 - m) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    /// out (B, T, C) = wte[tokens[b, t]] + wpe[t].
    static func embedding(_ tokens: [Int32], _ wte: [Double], _ wpe: [Double], B: Int, T: Int, C: Int) -> [Double] {
        var out = [Double](repeating: 0, count: B * T * C)
        for n in 0..<B * T {
            let token = Int(tokens[n]), t = n % T
            for c in 0..<C { out[n * C + c] = wte[token * C + c] + wpe[t * C + c] }
        }
        return out
    }

    /// Per-row loss -log softmax(logits)[target], computed as logsumexp(logits) - logits[target].
    static func crossEntropy(_ logits: [Double], _ targets: [Int32], N: Int, V: Int) -> [Double] {
        (0..<N).map { n in
            let row = logits[n * V..<(n + 1) * V]
            let m = row.max() ?? 0
            let logSum = m + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) })
            return logSum - logits[n * V + Int(targets[n])]
        }
    }

    /// Elementwise product (dropout with a given mask, whose entries are 0 or 1/(1-p)).
    static func multiply(_ x: [Double], _ mask: [Double]) -> [Double] {
        precondition(x.count == mask.count)
        return (0..<x.count).map { x[$0] * mask[$0] }
    }

    static func add(_ a: [Double], _ b: [Double]) -> [Double] {
        precondition(a.count == b.count)
        return (0..<a.count).map { a[$0] + b[$0] }
    }

    // MARK: - Whole model

    /// Dropout masks for one forward pass, in the order the model applies them.
    struct DropoutMasks {
        var embedding: [Double]
        var attention: [[Double]]   // per layer, on the attention branch after c_proj
        var mlp: [[Double]]         // per layer, on the MLP branch after c_proj

        /// Draws masks as inverted dropout does (an element is dropped when a uniform draw is
        /// below p, survivors scaled by 1/(1-p)), element by element, in the order the model
        /// applies them: embeddings, then per layer the attention branch and the MLP branch.
        init(config: GPTConfig, B: Int, T: Int, p: Float, rng: inout RandomGenerator) {
            let count = B * T * config.modelWidth
            let keep = Double(1 / (1 - p))
            func draw() -> [Double] { (0..<count).map { _ in rng.nextFloat() < p ? 0 : keep } }
            embedding = draw()
            attention = []
            mlp = []
            for _ in 0..<config.layerCount {
                attention.append(draw())
                mlp.append(draw())
            }
        }
    }

    /// The mean cross-entropy loss of a GPT (pre-norm blocks, final ln_f, LM head tied to wte)
    /// whose parameters are given in `ParameterLayout(config)` order, on tokens and targets (B, T).
    static func gptLoss(config: GPTConfig, parameters: [Double], tokens: [Int32], targets: [Int32],
                        B: Int, T: Int, masks: DropoutMasks? = nil) -> Double {
        let layout = ParameterLayout(config)
        precondition(parameters.count == layout.totalCount && tokens.count == B * T && targets.count == B * T)
        let C = config.modelWidth, V = config.vocabSize, NH = config.headCount, N = B * T
        func tensor(_ name: String, _ shape: [Int]) -> [Double] {
            guard let t = layout[name], t.shape == shape else { preconditionFailure("no tensor \(name) of shape \(shape)") }
            return Array(parameters[t.offset..<t.offset + t.count])
        }
        let wte = tensor("transformer.wte.weight", [V, C])
        var x = embedding(tokens, wte, tensor("transformer.wpe.weight", [config.contextLength, C]), B: B, T: T, C: C)
        if let masks { x = multiply(x, masks.embedding) }
        for l in 0..<config.layerCount {
            let p = "transformer.h.\(l)."
            var h = layerNorm(x, tensor(p + "ln_1.weight", [C]), tensor(p + "ln_1.bias", [C]), N: N, C: C)
            let qkv = linear(h, tensor(p + "attn.c_attn.weight", [3 * C, C]), tensor(p + "attn.c_attn.bias", [3 * C]),
                             N: N, C: C, OC: 3 * C)
            let y = attention(qkv, B: B, T: T, C: C, NH: NH).out
            var branch = linear(y, tensor(p + "attn.c_proj.weight", [C, C]), tensor(p + "attn.c_proj.bias", [C]),
                                N: N, C: C, OC: C)
            if let masks { branch = multiply(branch, masks.attention[l]) }
            x = config.residual ? add(x, branch) : branch
            h = layerNorm(x, tensor(p + "ln_2.weight", [C]), tensor(p + "ln_2.bias", [C]), N: N, C: C)
            let fc = linear(h, tensor(p + "mlp.c_fc.weight", [4 * C, C]), tensor(p + "mlp.c_fc.bias", [4 * C]),
                            N: N, C: C, OC: 4 * C)
            branch = linear(gelu(fc, form: config.gelu), tensor(p + "mlp.c_proj.weight", [C, 4 * C]),
                            tensor(p + "mlp.c_proj.bias", [C]), N: N, C: 4 * C, OC: C)
            if let masks { branch = multiply(branch, masks.mlp[l]) }
            x = config.residual ? add(x, branch) : branch
        }
        let final = layerNorm(x, tensor("transformer.ln_f.weight", [C]), tensor("transformer.ln_f.bias", [C]), N: N, C: C)
        let logits = linear(final, wte, nil, N: N, C: C, OC: V)
        return crossEntropy(logits, targets, N: N, V: V).reduce(0, +) / Double(N)
    }
}
