// Where each position of a prompt looks: the causal attention probabilities
// softmax(Q Kᵀ / √d_head) of every layer and head, as a compact terminal view naming, for
// each position, the earlier character it attends to most. The HTML view of the same
// numbers is the inspector page (Inspector/), which draws every head's matrix.
// Layout of the input follows the model's attention buffer: per layer and head a (T, T)
// matrix, row = query position, column = key position, zero above the diagonal.

import TinyGPT

/// Attention maps of one prompt.
public struct AttentionReport {
    /// The prompt, one entry per position (T entries).
    public let characters: [String]
    /// weights[layer][head] is a (T, T) row-major matrix: row = query, column = key.
    public let weights: [[[Float]]]

    public var positionCount: Int { characters.count }
    public var layerCount: Int { weights.count }

    /// Throws when the prompt is empty or a weight is not finite; the matrix shapes are checked
    /// by precondition (they come from the model, not the user).
    public init(characters: [String], weights: [[[Float]]]) throws {
        guard !characters.isEmpty else {
            throw TinyGPTError.usage("the prompt is empty; give at least one character to show attention for")
        }
        let T = characters.count
        precondition(!weights.isEmpty && weights.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.count == T * T } },
                     "every layer needs at least one head and every head a T×T matrix")
        guard weights.allSatisfy({ $0.allSatisfy { $0.allSatisfy(\.isFinite) } }) else {
            throw TinyGPTError.runtime("the attention weights contain NaN or infinity; the checkpoint has diverged, so train again with a lower `learningRate`")
        }
        self.characters = characters
        self.weights = weights
    }

    /// The (T, T) matrix of `head` in `layer`, or the mean over the layer's heads when nil.
    public func matrix(layer: Int, head: Int?) -> [Double] {
        if let head { return weights[layer][head].map(Double.init) }
        let heads = weights[layer]
        var mean = [Double](repeating: 0, count: positionCount * positionCount)
        for h in heads { for i in mean.indices { mean[i] += Double(h[i]) } }
        return mean.map { $0 / Double(heads.count) }
    }

    /// For each query position, the key position (at or before it) with the largest weight.
    public func strongestKeys(layer: Int, head: Int?) -> [(key: Int, weight: Double)] {
        let m = matrix(layer: layer, head: head)
        let T = positionCount
        return (0..<T).map { q in
            var best = 0
            for k in 0...q where m[q * T + k] > m[q * T + best] { best = k }
            return (best, m[q * T + best])
        }
    }

    // MARK: - Terminal

    /// For every position, the character it attends to most: "  5 好 ← 你 @4 0.62".
    /// With `perHead` one column per head plus the mean; otherwise the mean over heads only.
    public func text(perHead: Bool = false) -> String {
        let T = positionCount
        let indexWidth = String(T - 1).count
        var lines: [String] = []
        func cell(_ best: (key: Int, weight: Double)) -> String {
            TerminalText.pad(Markup.visible(characters[best.key]), to: 2) + " @"
                + TerminalText.pad("\(best.key)", to: indexWidth) + " " + Markup.fixed(best.weight, 2)
        }
        let cellWidth = 2 + 2 + indexWidth + 1 + 4
        for layer in 0..<layerCount {
            let heads = weights[layer].count
            let mean = strongestKeys(layer: layer, head: nil)
            if perHead {
                lines.append("Layer \(layer): strongest key per head")
                let header = String(repeating: " ", count: indexWidth + 1 + 2 + 3)
                    + (0..<heads).map { TerminalText.pad("head \($0)", to: cellWidth) }.joined(separator: "  ")
                    + "  " + "mean"
                lines.append(header)
                let best = (0..<heads).map { strongestKeys(layer: layer, head: $0) }
                for q in 0..<T {
                    var line = TerminalText.pad("\(q)", to: indexWidth, alignRight: true) + " "
                        + TerminalText.pad(Markup.visible(characters[q]), to: 2) + " ← "
                    line += (0..<heads).map { cell(best[$0][q]) }.joined(separator: "  ")
                    line += "  " + cell(mean[q])
                    lines.append(line)
                }
            } else {
                lines.append("Layer \(layer) (mean over \(heads) head\(heads == 1 ? "" : "s")): strongest key per position")
                for q in 0..<T {
                    lines.append("  " + TerminalText.pad("\(q)", to: indexWidth, alignRight: true) + " "
                        + TerminalText.pad(Markup.visible(characters[q]), to: 2) + " ← " + cell(mean[q]))
                }
            }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }
}
