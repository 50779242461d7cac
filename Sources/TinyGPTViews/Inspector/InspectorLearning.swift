// The data of the inspector's learning half (issue 19): the loss on the prompt, Q/K/V as
// vectors, and one step of learning (GPT.learningStep, Sampling/LearningStep.swift). The page
// draws these numbers; it recomputes none of them except sums a learner can check by hand.

import Foundation
import TinyGPT

/// An n-gram baseline's loss on the validation text, as `train` printed it (run.json).
public struct BaselineLoss: Sendable {
    public var name: String
    public var loss: Double

    public init(name: String, loss: Double) {
        self.name = name
        self.loss = loss
    }
}

extension InspectorPage {
    /// The learning half's JSON members, written into the page's data object.
    func learningJSON(_ j: inout JSONText) {
        let c = trace.config
        // Q/K/V: per layer ln_1(x) (T, C) and q, k, v (T, 3C) as base64 little-endian float32,
        // every bit of the model's own numbers at a quarter of the size of decimals.
        j.key("qkv")
        j.array(Array(0..<c.layerCount)) { j, l in
            j.open()
            j.key("x"); j.string(Self.base64(trace.normalizedInputs[l]))
            j.key("qkv"); j.string(Self.base64(trace.qkv[l]))
            j.close()
        }
        guard let step = learning else { return }
        j.key("learning")
        j.open()
        j.key("loss"); j.raw(Self.exact(step.loss))
        j.key("uniform"); j.raw(Self.exact(Foundation.log(Double(c.vocabSize))))
        j.key("baselines")
        j.array(baselines) { j, b in
            j.open()
            j.key("name"); j.string(b.name)
            j.key("loss"); j.raw(Self.exact(b.loss))
            j.close()
        }
        j.key("p"); j.raw("[" + step.positions.map { Self.exact($0.probability) }.joined(separator: ",") + "]")
        j.key("nll"); j.raw("[" + step.positions.map { Self.exact($0.loss) }.joined(separator: ",") + "]")
        j.key("k"); j.int(step.positions.first?.candidates.count ?? 0)
        j.key("cand"); j.ints(step.positions.flatMap { $0.candidates.map(\.id) })
        j.key("candP"); j.numbers(step.positions.flatMap { $0.candidates.map { Float($0.probability) } }, decimals: 5)
        j.key("gradNorm"); j.raw(Self.exact(step.gradientNorm))
        j.key("flow")
        j.array(step.flow) { j, stage in
            j.open()
            j.key("at")
            switch stage.point {
            case .logits: j.string("logits")
            case .finalNorm: j.string("lnf")
            case .stream(let s): j.int(s)
            }
            j.key("sizes"); j.raw("[" + stage.sizes.map { Self.short(Double($0)) }.joined(separator: ",") + "]")
            j.key("total"); j.raw(Self.exact(stage.total))
            j.close()
        }
        j.key("tensors")
        j.array(step.tensors) { j, t in
            j.open()
            j.key("name"); j.string(t.name)
            j.key("norm"); j.raw(Self.exact(t.norm))
            j.key("count"); j.int(t.count)
            j.close()
        }
        j.key("ladder")
        j.array(step.ladder) { j, r in
            j.open()
            j.key("eta"); j.raw(Self.exact(r.eta))
            j.key("after"); j.raw(Self.exact(r.lossAfter))
            j.key("pred"); j.raw(Self.exact(r.predicted))
            j.close()
        }
        j.key("checks")
        j.open()
        j.key("tolerance"); j.raw(Self.exact(step.checks.tolerance))
        j.key("floor"); j.raw(Self.exact(step.checks.noiseFloor))
        j.key("entries")
        j.array(step.checks.entries) { j, e in
            j.open()
            j.key("tensor"); j.string(e.tensor)
            j.key("at"); j.ints(e.coordinates)
            j.key("analytic"); j.raw(Self.exact(e.analytic))
            j.key("numeric"); j.raw(Self.exact(e.numeric))
            j.key("rel"); j.raw(Self.exact(e.relativeError))
            j.key("ok"); j.raw(e.passed ? "true" : "false")
            j.close()
        }
        j.close()
        j.close()
    }

    /// The shortest decimal that reads back as the same Double (finite; JSON has no NaN).
    static func exact(_ v: Double) -> String { v.isFinite ? "\(v)" : "null" }

    /// Four significant digits, enough for a bar's length and its label.
    static func short(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        return v == 0 ? "0" : String(format: "%.4g", v)
    }

    static func base64(_ values: [Float]) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 4)
        for v in values {
            let bits = v.bitPattern.littleEndian
            bytes += [UInt8(bits & 0xFF), UInt8((bits >> 8) & 0xFF), UInt8((bits >> 16) & 0xFF), UInt8(bits >> 24)]
        }
        return Data(bytes).base64EncodedString()
    }
}
