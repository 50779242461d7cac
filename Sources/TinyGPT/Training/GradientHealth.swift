// Gradient health: what the gradients and updates look like while a run trains.
// Per step, only the global gradient norm the trainer already computes for clipping is kept
// (and whether clipping fired); at each evaluation the gradient buffer (which still holds the
// last step's gradient, before clipping) is measured per tensor, per layer and per kind, the
// last AdamW update is measured against the weights, and one forward pass on fixed
// validation windows measures the residual stream after each block.
// The update-to-weight ratio is char-rnn's / Karpathy's "ratio of updates to weights"
// (about 1e-3 is healthy); vanishing gradients in deep stacks show as per-layer norms that
// shrink from the top block down.

import Foundation

/// What kind of parameter a tensor is, for summing norms by kind.
public enum ParameterKind: String, Codable, Sendable, CaseIterable {
    case embeddings, attention, mlp, layerNorm

    /// The kind of a tensor named as in `ParameterLayout` (nanoGPT's state-dict keys).
    public init(tensorName name: String) {
        if name.contains(".attn.") { self = .attention }
        else if name.contains(".mlp.") { self = .mlp }
        else if name.contains("ln_") { self = .layerNorm }
        else { self = .embeddings }
    }

    /// The block a tensor belongs to ("transformer.h.3.…" → 3), nil outside the blocks.
    public static func layer(ofTensor name: String) -> Int? {
        let prefix = "transformer.h."
        guard name.hasPrefix(prefix) else { return nil }
        return Int(name.dropFirst(prefix.count).prefix { $0.isNumber })
    }
}

/// One block's health at an evaluation.
public struct LayerHealth: Codable, Sendable, Equatable {
    /// L2 norm of the gradient of all the block's parameters.
    public var gradNorm: Double
    public var attentionGradNorm: Double
    public var mlpGradNorm: Double
    public var layerNormGradNorm: Double
    /// ‖last update‖ / ‖weights‖ over the block's parameters.
    public var updateRatio: Double
    /// Root mean square of the residual stream after the block.
    public var residualRMS: Double
}

/// One line of health.jsonl: the steps since the previous evaluation and this evaluation.
public struct GradientHealthRecord: Codable, Sendable, Equatable {
    /// The evaluation's step (the last step of the interval).
    public var step: Int
    /// The first step of the interval; `stepNorms[i]` is step `firstStep + i`.
    public var firstStep: Int
    /// Global gradient norm before clipping at every applied step of the interval.
    public var stepNorms: [Float]
    /// Steps of the interval whose norm exceeded `clipThreshold` and were scaled down.
    public var clippedSteps: Int
    /// The clipping threshold (0 = off).
    public var clipThreshold: Double
    public var gradNormMean: Double
    public var gradNormMax: Double
    /// Per block, bottom (0) to top.
    public var layers: [LayerHealth]
    /// Gradient norm of all tensors of each kind, keyed by `ParameterKind.rawValue`.
    public var kindGradNorms: [String: Double]
    /// Gradient norm of each tensor, keyed by name.
    public var tensorGradNorms: [String: Double]
    /// ‖last update‖ / ‖weights‖ of the embeddings (wte and wpe).
    public var embeddingUpdateRatio: Double
    /// Root mean square of the residual stream entering the first block (the embeddings).
    public var embeddingRMS: Double
}

extension GradientHealthRecord {
    /// Measures `trainer`'s gradient buffer, its last AdamW update and the residual stream.
    /// `stepNorms` and `clipped` come from the steps of the interval. `inputs` holds
    /// (B, T) fixed validation tokens for the residual-stream pass.
    static func measure(_ trainer: Trainer, firstStep: Int, stepNorms: [Float], clipped: Int,
                        inputs: UnsafePointer<Int32>) -> GradientHealthRecord {
        let model = trainer.model, layout = model.layout, s = trainer.settings
        let g = UnsafePointer(model.gradients.pointer), p = UnsafePointer(model.parameters.pointer)
        let m = UnsafePointer(trainer.optimizer.m.pointer), v = UnsafePointer(trainer.optimizer.v.pointer)
        // The last step's update, from AdamW's moments after it (see AdamW.update):
        // Δ = lr · (m̂ / (√v̂ + ε) + wd · θ) on decaying tensors; θ after the step stands in for θ
        // before it, which differs by Δ itself (a 1e-3 relative effect on the ratio).
        let t = max(1, trainer.step)
        let lr = Double(s.learningRate(at: t - 1))
        let c1 = 1 - pow(Double(s.beta1), Double(t)), c2 = 1 - pow(Double(s.beta2), Double(t))
        let L = model.config.layerCount
        var layerGrad = [Double](repeating: 0, count: L), layerUpdate = layerGrad, layerWeight = layerGrad
        var layerKind = [[Double]](repeating: [0, 0, 0, 0], count: L)
        var kinds = [Double](repeating: 0, count: ParameterKind.allCases.count)
        var tensors: [String: Double] = [:]
        var embUpdate = 0.0, embWeight = 0.0
        for tensor in layout.tensors {
            var gg = 0.0, uu = 0.0, ww = 0.0
            let wd = tensor.decays ? Double(s.weightDecay) : 0
            for i in tensor.offset..<tensor.offset + tensor.count {
                let gi = Double(g[i]), wi = Double(p[i])
                gg += gi * gi
                ww += wi * wi
                let u = lr * ((Double(m[i]) / c1) / ((Double(v[i]) / c2).squareRoot() + Double(s.epsilon)) + wd * wi)
                uu += u * u
            }
            tensors[tensor.name] = gg.squareRoot()
            let kind = ParameterKind(tensorName: tensor.name)
            kinds[ParameterKind.allCases.firstIndex(of: kind)!] += gg
            if let l = ParameterKind.layer(ofTensor: tensor.name) {
                layerGrad[l] += gg
                layerUpdate[l] += uu
                layerWeight[l] += ww
                layerKind[l][ParameterKind.allCases.firstIndex(of: kind)!] += gg
            } else if kind == .embeddings {
                embUpdate += uu
                embWeight += ww
            }
        }
        // The residual stream on fixed validation windows (inference forward: no dropout).
        model.forward(tokens: inputs, B: trainer.B, T: trainer.T)
        func rms(_ x: UnsafeBufferPointer<Float>) -> Double {
            var sum = 0.0
            for value in x { sum += Double(value) * Double(value) }
            return (sum / Double(max(1, x.count))).squareRoot()
        }
        let layers = (0..<L).map { l in
            LayerHealth(gradNorm: layerGrad[l].squareRoot(),
                        attentionGradNorm: layerKind[l][1].squareRoot(), mlpGradNorm: layerKind[l][2].squareRoot(),
                        layerNormGradNorm: layerKind[l][3].squareRoot(),
                        updateRatio: ratio(layerUpdate[l], layerWeight[l]),
                        residualRMS: rms(model.residualStream(after: l)))
        }
        let applied = stepNorms.filter(\.isFinite)
        return GradientHealthRecord(
            step: trainer.step, firstStep: firstStep, stepNorms: stepNorms, clippedSteps: clipped,
            clipThreshold: Double(s.gradClip),
            gradNormMean: applied.isEmpty ? .nan : applied.reduce(0.0) { $0 + Double($1) } / Double(applied.count),
            gradNormMax: Double(applied.max() ?? .nan), layers: layers,
            kindGradNorms: Dictionary(uniqueKeysWithValues: zip(ParameterKind.allCases.map(\.rawValue), kinds.map { $0.squareRoot() })),
            tensorGradNorms: tensors, embeddingUpdateRatio: ratio(embUpdate, embWeight),
            embeddingRMS: rms(model.residualStream(after: -1)))
    }

    private static func ratio(_ updateSquares: Double, _ weightSquares: Double) -> Double {
        weightSquares > 0 ? (updateSquares / weightSquares).squareRoot() : 0
    }
}
