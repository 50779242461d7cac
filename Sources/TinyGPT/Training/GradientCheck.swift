// Backprop you can check: the hand-written gradient of a real model on a real batch, beside
// the central finite difference of the loss, (L(θ + h) − L(θ − h)) / 2h, for a few
// parameters of every tensor in the layout (cs231n's "gradient checks"; llm.c's
// test_gpt2.c compares against PyTorch the same way, tensor by tensor).
//
// Two errors pull the numeric side away from the true slope, in opposite directions of h:
// - truncation: D(h) = (L(θ + h) − L(θ − h)) / 2h is off by c·h² where the loss curves. At
//   a fixed h = 1e-2 this put the README's default model 2.2% off on wpe (a false alarm, exit 1);
// - rounding: the Float32 loss carries about 1e-7 relative noise, which D(h) divides by 2h.
// Measured on the default model (Checkpoints/lighthouse/latest.ckpt, the 3 largest entries of all
// 52 tensors; worst relative error): central 2e-2: 9.7%, 1e-2: 2.2%, 5e-3: 0.56%, 1e-3: 1.3%
// (rounding); Richardson (4·D(h/2) − D(h))/3, which cancels the h² term: 2e-2: 1.2%,
// 1e-2: 0.36%. A freshly initialised model without skip connections curves far more sharply
// (its LayerNorms see nearly constant rows): Richardson at 1e-2 is still 4.9% off there. So:
// - the default method (`.adaptive`) takes Richardson at h = 1e-2 (times |θ| when |θ| > 1)
//   and halves h until two successive extrapolations agree to a quarter of the tolerance;
// - the loss is averaged in Double from the per-position losses, with no dropout, so the
//   same weights give the same bits; the step actually taken is what Float stores;
// - each tensor is checked at the entries with the largest hand-written gradients, where
//   the signal is far above the rounding, plus one entry drawn at random;
// - an entry passes when |a − n| ≤ tolerance · max(|a|, |n|) + floor, with `floor` the
//   rounding noise of the difference quotient measured on this model and batch
//   (differences of the loss under nudges too small to change it in exact arithmetic),
//   scaled to the step the entry settled on. With tolerance 1e-2, a tensor whose gradient is
//   off by 5%, or one entry of the wrong sign, fails (GradientCheckTests).

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
    /// The finite difference's step h (it is halved where the loss curves sharply).
    public var step: Double
    /// The rounding floor allowed at that step, on top of the relative tolerance.
    public var floor: Double
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
    /// When set, only these tensors are checked (layout order is kept).
    public var only: [String]?
    /// How the finite difference is taken (see the file comment).
    public var method: DifferenceMethod = .adaptive
    /// For tests only: multiplies one tensor's hand-written gradient by a factor after the
    /// backward pass, as a broken backward would, to show that the check catches it.
    var corruptGradient: (tensor: String, factor: Float)?
    /// For tests only: flips the sign of one entry of a tensor's gradient (nil index: its
    /// largest entry), as a sign slip in one backward rule would.
    var flipSign: (tensor: String, index: Int?)?

    public enum DifferenceMethod: Sendable {
        /// (L(θ + h) − L(θ − h)) / 2h: error ∝ h² (truncation) plus rounding/h.
        case central
        /// Richardson's extrapolation of the central differences at h and h/2,
        /// (4·D(h/2) − D(h)) / 3: the h² terms cancel, the error left is ∝ h⁴.
        case richardson
        /// Richardson's extrapolation, with h halved until two successive extrapolations
        /// agree (see `adaptiveDifference`): the step is chosen per entry.
        case adaptive
    }

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
        var flipped: Int?
        if let flip = flipSign, let tensor = model.layout[flip.tensor] {
            let local = flip.index ?? Self.largestEntries(g + tensor.offset, count: tensor.count, k: 1)[0]
            flipped = tensor.offset + local
            g[tensor.offset + local] = -g[tensor.offset + local]
        }

        /// The difference quotient at flat index `i`, and the step it settled on.
        func numeric(_ i: Int, noise: Double) -> (value: Double, step: Double) {
            guard method == .adaptive else { return (Self.difference(at: i, of: p, step: step, method: method, loss: loss), step) }
            return Self.adaptiveDifference(at: i, of: p, step: step, tolerance: tolerance, noise: noise, loss: loss)
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
        // Richardson's (4·D(h/2) − D(h))/3 carries the noise of D(h/2) (twice D(h)'s) times
        // 4/3, and D(h)'s times 1/3: √(8² + 1)/3 ≈ 2.7 times D(h)'s.
        let amplification = method == .central ? 1 : (65.0).squareRoot() / 3
        let noise = amplification * lossNoise * 2.0.squareRoot() / (2 * step)
        // The estimate is one sample of a noisy quantity; a margin of 8 covers what was measured.
        let floor = max(8 * noise, 1e-7)

        var entries: [GradientCheckEntry] = []
        for tensor in model.layout.tensors where only?.contains(tensor.name) ?? true {
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
                let (numerical, used) = numeric(i, noise: noise)
                // The rounding floor grows as the step shrinks.
                let entryFloor = floor * step / used
                let scale = Swift.max(Swift.abs(analytic), Swift.abs(numerical))
                let difference = Swift.abs(analytic - numerical)
                entries.append(GradientCheckEntry(
                    tensor: tensor.name, index: local, coordinates: Self.coordinates(local, shape: tensor.shape),
                    analytic: analytic, numeric: numerical, relativeError: scale == 0 ? 0 : difference / scale,
                    step: used, floor: entryFloor, passed: difference <= tolerance * scale + entryFloor))
            }
        }
        // Leave the model's gradients as the backward pass computed them.
        if let flipped { g[flipped] = -g[flipped] }
        if let corrupt = corruptGradient, let tensor = model.layout[corrupt.tensor] {
            for i in tensor.offset..<tensor.offset + tensor.count { g[i] /= corrupt.factor }
        }
        return GradientCheckResult(entries: entries, loss: base, tolerance: tolerance, noiseFloor: floor,
                                   batchSize: B, contextLength: T)
    }

    /// The finite difference of `loss` at flat index `i` of `p`, with the steps Float actually
    /// took; `p[i]` is restored bit for bit.
    static func difference(at i: Int, of p: UnsafeMutablePointer<Float>, step: Double, method: DifferenceMethod,
                           loss: () -> Double) -> Double {
        let original = p[i]
        func central(_ step: Double) -> Double {
            let h = Float(step * max(1, Double(abs(original))))
            let up = original + h, down = original - h
            p[i] = up
            let plus = loss()
            p[i] = down
            let minus = loss()
            p[i] = original
            return (plus - minus) / (Double(up) - Double(down))
        }
        switch method {
        case .central: return central(step)
        case .richardson, .adaptive: return (4 * central(step / 2) - central(step)) / 3
        }
    }

    /// Richardson extrapolations R_k = (4·D(h_k/2) − D(h_k))/3 at h_k = step/2^k, k = 0, 1, …,
    /// until two successive ones agree to a quarter of `tolerance` (plus their rounding
    /// noise, `noise` at h = step, growing as 1/h): then the truncation error left is far
    /// below the tolerance, so a gradient off by a few percent still fails. Where the loss
    /// curves sharply (a freshly initialised model without skip connections, whose
    /// LayerNorms see nearly constant rows) the largest step is 5% off; the halving finds
    /// the step at which it is not. Returns the last extrapolation and the h it used.
    static func adaptiveDifference(at i: Int, of p: UnsafeMutablePointer<Float>, step: Double, tolerance: Double,
                                   noise: Double, maxHalvings: Int = 6,
                                   loss: () -> Double) -> (value: Double, step: Double) {
        var quotients: [Double] = []
        func quotient(_ k: Int) -> Double {
            while quotients.count <= k {
                quotients.append(difference(at: i, of: p, step: step / Double(1 << quotients.count), method: .central, loss: loss))
            }
            return quotients[k]
        }
        func extrapolated(_ k: Int) -> Double { (4 * quotient(k + 1) - quotient(k)) / 3 }
        var previous = extrapolated(0)
        for k in 1..<maxHalvings {
            let next = extrapolated(k)
            let scale = max(abs(previous), abs(next))
            let rounding = noise * Double(1 << k) * 1.5   // R_k's and R_(k−1)'s noise together
            if abs(next - previous) <= tolerance / 4 * scale + 4 * rounding { return (next, step / Double(1 << k)) }
            previous = next
        }
        return (previous, step / Double(1 << (maxHalvings - 1)))
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
