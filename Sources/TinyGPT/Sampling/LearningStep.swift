// One step of learning on a prompt, the inspector's second half: the prompt is one training
// example (inputs its characters 0..<n−1, targets 1..<n), and everything here comes from the
// same forward, backward and parameter arithmetic that `train` runs:
//
//   loss            L = (1/N) Σ_t −ln p_t(next_t)              N = n − 1 positions
//   start of calculus  ∂L/∂logits_t = (p_t − y_t) / N          y_t the one-hot of the true next character
//   backward flow   ‖∂L/∂x_t‖ at every point of the residual stream, from the head down to the
//                   embeddings (the gradient GPT.backward hands from op to op, read as it goes)
//   one step        θ' = θ − η·∇L for a ladder of η; L(θ') beside the first-order prediction
//                   L − η‖∇L‖² (a Taylor expansion: right for small η, wrong once the step is
//                   large enough that the curvature matters)
//   checked         a few entries of ∇L against finite differences of L (GradientCheck)

/// The loss at one position of the prompt.
public struct PositionLoss: Sendable {
    /// The character that came next (the target).
    public var target: Int32
    /// p(target): the probability the model gave it.
    public var probability: Double
    /// −ln p(target), as the cross-entropy kernel computes it (from the logits).
    public var loss: Double
    /// The most likely next characters at this position (largest first).
    public var candidates: [LensCandidate]
}

/// The size of the gradient at one point of the backward pass.
public struct GradientFlowStage: Sendable {
    public enum Point: Equatable, Sendable {
        /// ∂L/∂logits (V per position).
        case logits
        /// ∂L/∂ln_f(x): what the head hands back to the final LayerNorm.
        case finalNorm
        /// ∂L/∂x at residual-stream point s: 2l is block l's input (0 is the embeddings),
        /// 2l + 1 the stream after block l's attention, 2L after the last block.
        case stream(Int)
    }

    public var point: Point
    /// ‖∂L/∂·‖ at each position (N).
    public var sizes: [Float]
    /// The norm over all positions.
    public var total: Double
}

/// ‖∇L‖ of one parameter tensor.
public struct TensorGradient: Sendable {
    public var name: String
    public var norm: Double
    public var count: Int
}

/// One rung of the learning-rate ladder.
public struct LearningRateRung: Sendable {
    public var eta: Double
    /// L(θ − η·∇L) on the same prompt, computed by the model.
    public var lossAfter: Double
    /// The first-order prediction L − η‖∇L‖².
    public var predicted: Double
}

/// Everything the inspector shows about one step of learning on a prompt.
public struct LearningStep: Sendable {
    /// The η the ladder tries, a half decade apart: far too small to far too large for one step.
    public static let defaultLadder: [Double] = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1, 3, 10]

    /// The prompt (n characters); positions 0..<n−1 predict characters 1..<n.
    public var tokens: [Int32]
    public var positions: [PositionLoss]
    /// The mean cross-entropy L over the positions (nats per character).
    public var loss: Double
    /// ‖∇L‖ over every parameter.
    public var gradientNorm: Double
    /// The backward pass in the order it runs: logits, final LayerNorm, then the residual
    /// stream from after the last block down to the embeddings (2L + 1 points).
    public var flow: [GradientFlowStage]
    /// Every tensor's ‖∇L‖, in layout order.
    public var tensors: [TensorGradient]
    public var ladder: [LearningRateRung]
    /// A few entries of ∇L beside finite differences of L.
    public var checks: GradientCheckResult

    /// The rung with the lowest loss after the step.
    public var bestRung: LearningRateRung? { ladder.min { $0.lossAfter < $1.lossAfter } }

    /// The smallest η whose step leaves the loss higher than before it: overshooting.
    public var firstOvershoot: LearningRateRung? { ladder.first { $0.lossAfter > loss } }

    /// The tensors the page checks against finite differences: the embeddings, the first
    /// block's attention weights, the last block's MLP and the final LayerNorm.
    public static func checkedTensors(_ config: GPTConfig) -> [String] {
        let last = config.layerCount - 1
        return ["transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.attn.c_attn.weight",
                "transformer.h.\(last).mlp.c_fc.weight", "transformer.ln_f.weight"]
    }
}

extension GPT {
    /// One step of learning on `tokens` (2...contextLength + 1 characters) as one training
    /// example: the loss per position, the backward flow, the loss after θ − η·∇L for each
    /// η of `ladder`, and the checked entries. The parameters are restored bit for bit; the
    /// gradients hold ∇L afterwards.
    public func learningStep(tokens: [Int32], ladder: [Double] = LearningStep.defaultLadder,
                             candidateCount: Int = 8) -> LearningStep {
        precondition(tokens.count >= 2 && tokens.count - 1 <= config.contextLength,
                     "the prompt must have 2...contextLength + 1 characters")
        let N = tokens.count - 1, V = config.vocabSize, C = config.modelWidth
        let inputs = Array(tokens[..<N]), targets = Array(tokens[1...])
        func loss() -> Double {
            var unused = RandomGenerator(seed: 0)
            inputs.withUnsafeBufferPointer { i in
                targets.withUnsafeBufferPointer { t in
                    _ = forward(tokens: i.baseAddress!, targets: t.baseAddress!, B: 1, T: N, rng: &unused)
                }
            }
            var total = 0.0
            for l in positionLosses { total += Double(l) }
            return total / Double(N)
        }

        zeroGradients()
        let base = loss()
        var positions: [PositionLoss] = []
        let losses = positionLosses
        for t in 0..<N {
            let p = probabilities(row: t)
            var order = Array(0..<V)
            order.sort { p[$0] != p[$1] ? p[$0] > p[$1] : $0 < $1 }
            positions.append(PositionLoss(
                target: targets[t], probability: Double(p[Int(targets[t])]), loss: Double(losses[t]),
                candidates: order.prefix(candidateCount).map { LensCandidate(id: $0, probability: Double(p[$0])) }))
        }

        var flow: [GradientFlowStage] = []
        backwardProbe = { point, gradient in
            let width = point == .logits ? V : C
            var sizes: [Float] = [], total = 0.0
            for t in 0..<N {
                var sum = 0.0
                for i in 0..<width { sum += Double(gradient[t * width + i]) * Double(gradient[t * width + i]) }
                sizes.append(Float(sum.squareRoot()))
                total += sum
            }
            let stage: GradientFlowStage.Point
            switch point {
            case .logits: stage = .logits
            case .normalized: stage = .finalNorm
            case .stream(let s): stage = .stream(s)
            }
            flow.append(GradientFlowStage(point: stage, sizes: sizes, total: total.squareRoot()))
        }
        backward()
        backwardProbe = nil

        let p = parameters.pointer, g = gradients.pointer
        var tensors: [TensorGradient] = []
        var squared = 0.0
        for tensor in layout.tensors {
            var sum = 0.0
            for i in tensor.offset..<tensor.offset + tensor.count { sum += Double(g[i]) * Double(g[i]) }
            squared += sum
            tensors.append(TensorGradient(name: tensor.name, norm: sum.squareRoot(), count: tensor.count))
        }

        // θ' = θ − η·∇L, as Float arithmetic on each parameter; the loss there; θ back.
        let saved = Array(UnsafeBufferPointer(start: p, count: parameterCount))
        var rungs: [LearningRateRung] = []
        for eta in ladder {
            let step = Float(eta)
            for i in 0..<parameterCount { p[i] = saved[i] - step * g[i] }
            rungs.append(LearningRateRung(eta: eta, lossAfter: loss(), predicted: base - eta * squared))
        }
        saved.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: parameterCount) }

        // The check runs its own backward into `gradients` (the same ∇L: same weights, same example).
        var check = GradientCheck(samplesPerTensor: 1)
        check.only = LearningStep.checkedTensors(config)
        let checks = check.run(model: self, inputs: inputs, targets: targets, B: 1, T: N)

        return LearningStep(tokens: tokens, positions: positions, loss: base, gradientNorm: squared.squareRoot(),
                            flow: flow, tensors: tensors, ladder: rungs, checks: checks)
    }
}
