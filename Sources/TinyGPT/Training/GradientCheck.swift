// Backprop you can check: the hand-written gradient of a real model on a real batch, beside
// the central finite difference of the loss, (L(θ + h) − L(θ − h)) / 2h, for a few
// parameters of every tensor in the layout (cs231n's "gradient checks"; llm.c's
// test_gpt2.c compares against PyTorch the same way, tensor by tensor).
//
// Float32 makes the numeric side noisy: the loss of one forward pass carries rounding of
// about 1e-7 relative, and dividing by 2h turns that into an error of noise/h. So:
// - the loss is averaged in Double from the per-position losses, with no dropout, so the
//   same weights give the same bits;
// - h is 1e-2 (times |θ| when |θ| > 1). Measured on a trained test model: at 1e-2 the
//   largest gradients of every tensor agree to better than 1e-3; at 1e-3 rounding already
//   costs up to 4% on the smallest of them, at 1e-4 up to 14%; at 3e-2 the curvature error
//   (∝ h²) starts to show on biases;
// - the step actually taken is what Float stores (θ + h rounded), not h;
// - each tensor is checked at the entries with the largest hand-written gradients, where
//   the signal is far above that noise, plus one entry drawn at random;
// - an entry passes when |a − n| ≤ tolerance · max(|a|, |n|) + floor, with `floor` the
//   rounding noise of the difference quotient measured on this model and batch
//   (differences of the loss under nudges too small to change it in exact arithmetic).

/// One compared entry.
public struct GradientCheckEntry: Sendable, Equatable {
    public var tensor: String
    /// Index inside the tensor (row-major over its shape).
    public var index: Int
    /// The index as one coordinate per dimension of the tensor's shape.
    public var coordinates: [Int]
    /// The hand-written backward's value (dLoss/dθ).
    public var analytic: Double
    /// The central finite difference of the loss.
    public var numeric: Double
    /// |analytic − numeric| / max(|analytic|, |numeric|), 0 when both are 0.
    public var relativeError: Double
    public var passed: Bool
}

/// The outcome of a gradient check on one batch.
public struct GradientCheckResult: Sendable {
    public var entries: [GradientCheckEntry]
    /// The batch's mean loss at the unperturbed weights.
    public var loss: Double
    public var tolerance: Double
    /// The absolute error allowed for rounding noise (see the file comment).
    public var noiseFloor: Double
    public var batchSize: Int
    public var contextLength: Int

    public var passed: Bool { entries.allSatisfy(\.passed) }
    /// Tensors with at least one failing entry, in layout order.
    public var failingTensors: [String] {
        var names: [String] = []
        for e in entries where !e.passed && !names.contains(e.tensor) { names.append(e.tensor) }
        return names
    }
}

/// Compares a model's hand-written gradient with finite differences of its loss.
public struct GradientCheck {
    /// Entries checked per tensor (the largest gradients, plus one at random when > 1).
    public var samplesPerTensor: Int = 3
    /// Relative tolerance; float32 finite differences are good to about 1e-3 here.
    public var tolerance: Double = 1e-2
    /// Nudge size (see the file comment).
    public var step: Double = 1e-2
    /// Draws the batch's random entry per tensor.
    public var seed: UInt64 = RandomGenerator.defaultSeed
    /// For tests only: multiplies one tensor's hand-written gradient by a factor after the
    /// backward pass, as a broken backward would, to show that the check catches it.
    var corruptGradient: (tensor: String, factor: Float)?

    public init(samplesPerTensor: Int = 3, tolerance: Double = 1e-2, seed: UInt64 = RandomGenerator.defaultSeed) {
        self.samplesPerTensor = samplesPerTensor
        self.tolerance = tolerance
        self.seed = seed
    }

    /// Checks `model` on one batch (B, T) of `inputs` and `targets`. The model's parameters
    /// are restored bit for bit afterwards; its gradients hold the batch's gradient.
    public func run(model: GPT, inputs: [Int32], targets: [Int32], B: Int, T: Int) -> GradientCheckResult {
        precondition(inputs.count == B * T && targets.count == B * T, "inputs and targets must be (B, T)")
        precondition(samplesPerTensor >= 1)
        func loss() -> Double {
            var unused = RandomGenerator(seed: 0)
            inputs.withUnsafeBufferPointer { i in
                targets.withUnsafeBufferPointer { t in
                    _ = model.forward(tokens: i.baseAddress!, targets: t.baseAddress!, B: B, T: T, rng: &unused)
                }
            }
            var total = 0.0
            for l in model.positionLosses { total += Double(l) }
            return total / Double(B * T)
        }
        model.zeroGradients()
        let base = loss()
        model.backward()
        let p = model.parameters.pointer, g = model.gradients.pointer
        if let corrupt = corruptGradient, let tensor = model.layout[corrupt.tensor] {
            for i in tensor.offset..<tensor.offset + tensor.count { g[i] *= corrupt.factor }
        }

        /// The central difference at flat index `i`, with the steps Float actually took.
        func numeric(_ i: Int) -> Double {
            let original = p[i]
            let h = Float(step * max(1, Double(abs(original))))
            let up = original + h, down = original - h
            p[i] = up
            let plus = loss()
            p[i] = down
            let minus = loss()
            p[i] = original
            return (plus - minus) / (Double(up) - Double(down))
        }

        // The noise floor: a nudge of a few Float ulps changes the exact loss by far less than
        // the loss rounds, so how much such nudges move the computed loss is rounding alone.
        // A difference quotient over 2h carries about that much divided by 2h (times √2).
        var lossNoise = 0.0
        var rng = RandomGenerator(seed: seed ^ 0x6AD_C4EC)
        for _ in 0..<6 {
            let i = rng.nextInt(below: model.parameterCount)
            let original = p[i]
            var nudged = original
            for _ in 0..<8 { nudged = nudged.nextUp }
            p[i] = nudged
            lossNoise = max(lossNoise, abs(loss() - base))
            p[i] = original
        }
        let noise = lossNoise * 2.0.squareRoot() / (2 * step)
        // The estimate is one sample of a noisy quantity; a margin of 8 covers what was measured.
        let floor = max(8 * noise, 1e-7)

        var entries: [GradientCheckEntry] = []
        for tensor in model.layout.tensors {
            var picks = Self.largestEntries(g + tensor.offset, count: tensor.count,
                                       k: samplesPerTensor > 1 ? samplesPerTensor - 1 : 1)
            if samplesPerTensor > 1 && picks.count < min(samplesPerTensor, tensor.count) {
                var extra = rng.nextInt(below: tensor.count)
                while picks.contains(extra) { extra = (extra + 1) % tensor.count }
                picks.append(extra)
            }
            for local in picks {
                let i = tensor.offset + local
                let analytic = Double(g[i])
                let numerical: Double = numeric(i)
                let scale = Swift.max(Swift.abs(analytic), Swift.abs(numerical))
                let difference = Swift.abs(analytic - numerical)
                entries.append(GradientCheckEntry(
                    tensor: tensor.name, index: local, coordinates: Self.coordinates(local, shape: tensor.shape),
                    analytic: analytic, numeric: numerical, relativeError: scale == 0 ? 0 : difference / scale,
                    passed: difference <= tolerance * scale + floor))
            }
        }
        // Leave the model's gradients as the backward pass computed them.
        if let corrupt = corruptGradient, let tensor = model.layout[corrupt.tensor] {
            for i in tensor.offset..<tensor.offset + tensor.count { g[i] /= corrupt.factor }
        }
        return GradientCheckResult(entries: entries, loss: base, tolerance: tolerance, noiseFloor: floor,
                                   batchSize: B, contextLength: T)
    }

    /// The indices of the `k` largest |values| (ties by lower index), largest first.
    static func largestEntries(_ values: UnsafePointer<Float>, count: Int, k: Int) -> [Int] {
        var best: [Int] = []
        for i in 0..<count {
            let v = abs(values[i])
            if best.count == k, let last = best.last, v <= abs(values[last]) { continue }
            var at = best.count
            while at > 0 && abs(values[best[at - 1]]) < v { at -= 1 }
            best.insert(i, at: at)
            if best.count > k { best.removeLast() }
        }
        return best
    }

    /// Row-major coordinates of flat index `i` in `shape`.
    static func coordinates(_ i: Int, shape: [Int]) -> [Int] {
        var rest = i
        var out = [Int](repeating: 0, count: shape.count)
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            out[d] = rest % shape[d]
            rest /= shape[d]
        }
        return out
    }
}

extension GradientCheck {
    /// Checks `model` on `batchSize` training windows of `data` drawn from `seed`.
    public func run(model: GPT, data: TokenDataset, batchSize: Int) -> GradientCheckResult {
        let T = model.config.contextLength
        var inputs = [Int32](repeating: 0, count: batchSize * T), targets = inputs
        var rng = RandomGenerator(seed: seed)
        inputs.withUnsafeMutableBufferPointer { i in
            targets.withUnsafeMutableBufferPointer { t in
                data.sampleBatch(inputs: i.baseAddress!, targets: t.baseAddress!, B: batchSize, T: T,
                                 validation: false, rng: &rng)
            }
        }
        return run(model: model, inputs: inputs, targets: targets, B: batchSize, T: T)
    }
}

extension GradientCheckResult {
    /// Nil when every entry passed; else the error to stop with, naming the failing tensors.
    public var failure: TinyGPTError? {
        let failing = failingTensors
        guard let first = failing.first else { return nil }
        let worst = entries.filter { !$0.passed }.max { $0.relativeError < $1.relativeError }!
        let others = failing.count > 1 ? " and \(failing.count - 1) more tensor(s)" : ""
        return TinyGPTError.runtime(
            "gradient check failed for \(first)\(others): hand-written \(worst.analytic) against finite difference \(worst.numeric) (relative error \(String(format: "%.2g", worst.relativeError)), tolerance \(tolerance)); its backward pass is wrong")
    }
}
