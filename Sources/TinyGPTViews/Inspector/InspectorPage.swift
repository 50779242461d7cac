// The inspector: one self-contained HTML page that opens up a model on a prompt.
// Sections: 1 the next character under live temperature / top-k / top-p with a draw step,
// 2 attention step by step (q·k, ÷√d, mask, softmax, weighted values), 3 a summary of
// every head, 4 the residual stream with a logit lens after every block, and (when the page
// carries a `TemperatureSweep`, as `tinygpt compare --report` makes it) 5 continuations at
// several temperatures side by side, whose temperatures become buttons on section 1's slider.
// The numbers come from `GPT.trace` (library, tested); the page carries them as JSON and its
// hand-written script (Pages/inspector.js) draws and recomputes them, in English or
// Chinese (InspectorText.swift). Nothing is fetched: no URL leaves the file.

import Foundation
import TinyGPT

/// A model's weights for the page to run itself (`InspectorPage.weights`).
public struct EmbeddedWeights: Sendable {
    /// All parameters, in `layout` order.
    public var parameters: [Float]
    public var layout: ParameterLayout
    public var gelu: GELUForm
    /// False for a model without skip connections (`GPTConfig.residual`).
    public var residual: Bool

    public init(parameters: [Float], layout: ParameterLayout, gelu: GELUForm, residual: Bool = true) {
        precondition(parameters.count == layout.totalCount, "one value per parameter")
        self.parameters = parameters
        self.layout = layout
        self.gelu = gelu
        self.residual = residual
    }
}

/// The inspector page for one trace.
public struct InspectorPage {
    public enum Language: String, CaseIterable, Sendable {
        case en, zh

        /// Chinese when the text holds a CJK character (ideographs, CJK punctuation,
        /// full-width forms), else English.
        public static func guess(from text: String) -> Language {
            for s in text.unicodeScalars {
                switch s.value {
                case 0x3000...0x303F, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0xFF00...0xFFEF,
                     0x2_0000...0x2_FFFF:
                    return .zh
                default: continue
                }
            }
            return .en
        }
    }

    public let trace: ForwardTrace
    /// The character of each token id (V).
    public let vocabulary: [String]
    public var language: Language
    /// What the page calls the model (e.g. the checkpoint's file name).
    public var modelName: String
    /// When set, the page carries the weights (base64 float32) and runs the model itself, so a
    /// learner can type a prompt or keep drawing characters.
    public var weights: EmbeddedWeights?
    /// When set, the page shows these continuations side by side (section 5) and offers their
    /// temperatures as buttons in section 1. Its logits should be those of the trace's prompt.
    public var sweep: TemperatureSweep?
    /// When set, the page shows the loss on the prompt and one step of learning on it
    /// (InspectorLearning.swift).
    public var learning: LearningStep?
    /// The n-gram baselines `train` measured on the validation text, shown beside the loss.
    public var baselines: [BaselineLoss] = []
    /// The head section 2 opens at (`attention --layer L --head H`); layer 0, head 0 when nil.
    public var openAt: (layer: Int, head: Int)?
    /// The logits (T × V, row t predicting the character after position t) at every position
    /// of the prompt, so that clicking a character shows its next-character bars in section 1.
    /// Left out when the page carries the weights (it then runs the model itself).
    public var positionLogits: [Float]?

    /// Throws when the trace holds NaN or infinity (a diverged checkpoint).
    public init(trace: ForwardTrace, vocabulary: [String], language: Language, modelName: String) throws {
        precondition(vocabulary.count == trace.config.vocabSize, "one character per vocabulary entry")
        let finite = trace.logits.allSatisfy(\.isFinite)
            && trace.heads.allSatisfy { $0.allSatisfy { $0.weights.allSatisfy(\.isFinite) && $0.scores.allSatisfy(\.isFinite) } }
            && trace.stages.allSatisfy { $0.streamSizes.allSatisfy(\.isFinite) }
        guard finite else {
            throw TinyGPTError.runtime("the model's numbers contain NaN or infinity; the checkpoint has diverged, so train again with a lower learning rate")
        }
        self.trace = trace
        self.vocabulary = vocabulary
        self.language = language
        self.modelName = modelName
    }

    // MARK: - Page

    /// The whole HTML file.
    public func html() -> String {
        var page = HTMLPage(title: InspectorText.title(language))
        page.language = language.rawValue
        page.extraStyle = InspectorLayout.style
        page.raw(InspectorLayout.body)
        page.dataBlock(id: "inspector-data", json: dataJSON())
        page.dataBlock(id: "inspector-words", json: InspectorText.json)
        if let weights {
            var bytes = [UInt8]()
            bytes.reserveCapacity(weights.parameters.count * 4)
            for v in weights.parameters {
                let bits = v.bitPattern.littleEndian
                bytes += [UInt8(bits & 0xFF), UInt8((bits >> 8) & 0xFF), UInt8((bits >> 16) & 0xFF), UInt8(bits >> 24)]
            }
            page.dataBlock(id: "inspector-weights", type: "application/octet-stream", content: Data(bytes).base64EncodedString())
        }
        page.script = InspectorLayout.script
        return page.render()
    }

    // MARK: - Data

    /// The numbers the script reads, as JSON. Logits keep every bit (a Float's exact decimal);
    /// the attention and stream numbers keep the decimals the page shows and a little more.
    func dataJSON() -> String {
        let c = trace.config
        let T = trace.tokens.count
        var j = JSONText(escaping: .scriptElement)
        j.open()
        j.key("lang"); j.string(language.rawValue)
        j.key("model"); j.string(modelName)
        j.key("layers"); j.int(c.layerCount)
        j.key("heads"); j.int(c.headCount)
        j.key("width"); j.int(c.modelWidth)
        j.key("headWidth"); j.int(c.headWidth)
        j.key("context"); j.int(c.contextLength)
        j.key("vocab"); j.strings(vocabulary)
        j.key("tokens"); j.ints(trace.tokens.map(Int.init))
        j.key("logits"); j.exact(trace.logits)
        if !c.residual { j.key("residual"); j.raw("false") }
        if let openAt {
            j.key("open"); j.open(); j.key("layer"); j.int(openAt.layer); j.key("head"); j.int(openAt.head); j.close()
        }
        if let positionLogits, weights == nil, positionLogits.count == T * c.vocabSize {
            j.key("positionLogits"); j.numbers(positionLogits, decimals: 4)
        }
        if let weights {
            j.key("weights")
            j.open()
            j.key("gelu"); j.string(weights.gelu.name)
            if !weights.residual { j.key("residual"); j.raw("false") }
            j.key("offsets")
            j.open()
            for tensor in weights.layout.tensors { j.key(tensor.name); j.int(tensor.offset) }
            j.close()
            j.close()
        }
        if let sweep {
            j.key("sweep")
            j.open()
            j.key("prompt"); j.string(sweep.prompt)
            j.key("temperatures"); j.array(sweep.temperatures) { j, t in j.exactOne(t) }
            j.key("samples")
            j.array(sweep.samples) { j, samples in
                j.array(samples) { j, sample in
                    j.open()
                    j.key("text"); j.string(sample.text)
                    j.key("logp"); if let m = sample.meanLogProbability, m.isFinite { j.number(Float(m), decimals: 4) } else { j.null() }
                    j.key("distinct"); j.number(Float(sample.distinctCharacterRatio), decimals: 4)
                    j.key("repeat"); j.int(sample.longestRepeat)
                    j.close()
                }
            }
            j.close()
        }
        // Per layer, per head: the lower triangle (row t holds keys 0...t) of each matrix.
        func triangle(_ m: [Float]) -> [Float] {
            var out: [Float] = []
            out.reserveCapacity(T * (T + 1) / 2)
            for t in 0..<T { out += m[(t * T)...(t * T + t)] }
            return out
        }
        j.key("attention")
        j.array(trace.heads) { j, layer in
            j.array(layer) { j, head in
                j.open()
                j.key("w"); j.numbers(triangle(head.weights), decimals: 4)
                j.key("s"); j.numbers(triangle(head.scores), decimals: 3)
                j.key("v"); j.numbers(triangle(head.valueSizes), decimals: 3)
                j.close()
            }
        }
        j.key("summaries")
        j.array(trace.summaries) { j, layer in
            j.array(layer) { j, s in
                j.open()
                j.key("pattern"); j.string(s.pattern.rawValue)
                j.key("share"); j.number(Float(s.share), decimals: 3)
                j.key("shares")
                j.open()
                for p in HeadPattern.allCases { if let v = s.shares[p] { j.key(p.rawValue); j.number(Float(v), decimals: 3) } }
                j.close()
                j.close()
            }
        }
        learningJSON(&j)
        j.key("stages")
        j.array(trace.stages) { j, stage in
            j.open()
            j.key("block"); if let b = stage.block { j.int(b) } else { j.null() }
            j.key("x"); j.numbers(stage.streamSizes, decimals: 3)
            j.key("attn"); j.numbers(stage.attentionSizes, decimals: 3)
            j.key("mlp"); j.numbers(stage.mlpSizes, decimals: 3)
            j.key("lensIds"); j.ints(stage.lens.flatMap { $0.map(\.id) })
            j.key("lensP"); j.numbers(stage.lens.flatMap { $0.map { Float($0.probability) } }, decimals: 4)
            j.close()
        }
        j.close()
        return j.text
    }
}
