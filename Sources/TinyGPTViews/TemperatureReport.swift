// What temperature does to the next character: for one prompt, the distribution
// softmax(logits / T) at several temperatures (T = 0 is greedy argmax), its entropy,
// its top candidates, and sampled continuations with simple statistics, as the terminal shows
// them (the HTML view is the inspector page with its sweep section, InspectorPage.sweep).
// Temperature scaling as in nanoGPT's sample.py (logits / temperature before softmax);
// entropy in bits, H = -Σ p log₂ p (Shannon, 1948).

import Foundation
import TinyGPT

/// The next-character distribution of one prompt at several temperatures, with samples.
public struct TemperatureReport {
    /// A vocabulary entry and its probability at one temperature.
    public struct Candidate: Equatable {
        public var id: Int
        public var character: String
        public var probability: Double
    }

    /// Everything shown for one temperature.
    public struct Panel {
        /// 0 means greedy (argmax).
        public var temperature: Double
        /// softmax(logits / T) over the whole vocabulary.
        public var probabilities: [Double]
        public var entropyBits: Double
        /// The most likely characters, most likely first.
        public var candidates: [Candidate]
        public var samples: [TemperatureSample]
    }

    public let prompt: String
    public let vocabulary: [String]
    /// The raw next-character logits after the prompt.
    public let logits: [Float]
    public let panels: [Panel]
    /// The model's context length: a longer prompt is shown by its end, which is all the
    /// model sees (nil: shown whole).
    public var contextLength: Int?

    /// - Parameters:
    ///   - vocabulary: the character of each token id; `logits` has one entry per character.
    ///   - temperatures: each ≥ 0; 0 means greedy.
    ///   - samples: continuations per temperature, in the order of `temperatures`, or empty.
    ///   - topCount: candidates listed per temperature.
    public init(prompt: String, vocabulary: [String], logits: [Float], temperatures: [Double],
                samples: [[TemperatureSample]] = [], topCount: Int = 10) throws {
        precondition(logits.count == vocabulary.count && !logits.isEmpty, "one logit per vocabulary entry")
        precondition(samples.isEmpty || samples.count == temperatures.count, "one list of samples per temperature")
        guard !temperatures.isEmpty else {
            throw TinyGPTError.usage("no temperatures given; pass at least one, e.g. 0,0.5,1")
        }
        for t in temperatures where !(t.isFinite && t >= 0 && t <= 100) {
            throw TinyGPTError.usage("temperature \(t) is out of range; use values from 0 (greedy) to 100")
        }
        guard logits.allSatisfy(\.isFinite) else {
            throw TinyGPTError.runtime("the model's logits contain NaN or infinity; the checkpoint has diverged, so train again with a lower `learningRate`")
        }
        self.prompt = prompt
        self.vocabulary = vocabulary
        self.logits = logits
        let count = max(1, min(topCount, vocabulary.count))
        panels = temperatures.enumerated().map { index, t in
            // The library's softmax(z / T), the same numbers sampling draws from.
            let p = logits.withUnsafeBufferPointer { Softmax.probabilities($0.baseAddress!, count: $0.count, temperature: t) }
            // Ties in probability (all the zeros at T = 0) are ordered by logit, then by id.
            let order = p.indices.sorted { a, b in
                p[a] != p[b] ? p[a] > p[b] : (logits[a] != logits[b] ? logits[a] > logits[b] : a < b)
            }
            let candidates = order.prefix(count).map { Candidate(id: $0, character: vocabulary[$0], probability: p[$0]) }
            return Panel(temperature: t, probabilities: p, entropyBits: Self.entropyBits(p), candidates: candidates,
                         samples: samples.isEmpty ? [] : samples[index])
        }
    }

    /// The report of a sweep made by `GenerationSession.temperatureSweep`.
    public init(_ sweep: TemperatureSweep, topCount: Int = 10) throws {
        try self.init(prompt: sweep.prompt, vocabulary: sweep.vocabulary, logits: sweep.logits,
                      temperatures: sweep.temperatures.map(Double.init), samples: sweep.samples, topCount: topCount)
    }

    // MARK: - The maths

    /// H = -Σ p log₂ p in bits (terms with p = 0 contribute 0).
    public static func entropyBits(_ probabilities: [Double]) -> Double {
        var h = 0.0
        for p in probabilities where p > 0 { h -= p * log2(p) }
        return max(0, h)
    }

    /// "T = 0.5", or "T = 0 (greedy)".
    public static func temperatureLabel(_ t: Double) -> String {
        t == 0 ? "T = 0 (greedy)" : "T = " + String(format: "%g", t)
    }

    private func statisticsLine(_ sample: TemperatureSample) -> String {
        var parts: [String] = []
        if let m = sample.meanLogProbability { parts.append("mean log p \(Markup.fixed(m, 2))") }
        parts.append("distinct \(Markup.fixed(sample.distinctCharacterRatio, 2))")
        parts.append("repeat \(sample.longestRepeat)")
        return parts.joined(separator: " · ")
    }

    private func averageLine(_ samples: [TemperatureSample]) -> String {
        guard !samples.isEmpty else { return "no samples" }
        let n = Double(samples.count)
        let logs = samples.compactMap(\.meanLogProbability)
        var parts = ["\(samples.count) sample\(samples.count == 1 ? "" : "s")"]
        if !logs.isEmpty { parts.append("mean log p \(Markup.fixed(logs.reduce(0, +) / Double(logs.count), 2))") }
        parts.append("distinct \(Markup.fixed(samples.reduce(0) { $0 + $1.distinctCharacterRatio } / n, 2))")
        parts.append("repeat \(Markup.fixed(samples.reduce(0) { $0 + Double($1.longestRepeat) } / n, 1))")
        return "average: " + parts.joined(separator: " · ")
    }

    // MARK: - Terminal

    /// "Prompt: MIRA:   (vocabulary 70)"; a prompt longer than the context shows its last
    /// `contextLength` characters after "…" and says so.
    var promptLine: String {
        let scalars = Array(prompt.unicodeScalars)
        guard let T = contextLength, scalars.count > T else {
            return "Prompt: \(Markup.visible(prompt))   (vocabulary \(vocabulary.count))"
        }
        var tail = String.UnicodeScalarView()
        tail.append(contentsOf: scalars.suffix(T))
        return "Prompt: …\(Markup.visible(String(tail)))   (\(scalars.count) characters; the model sees the last \(T), its context length · vocabulary \(vocabulary.count))"
    }

    /// Top candidates per temperature as aligned columns with bars, then the samples.
    /// The terminal view: candidates per temperature, then (with `includeSamples`) each
    /// temperature's samples with their statistics.
    public func text(includeSamples: Bool = true) -> String {
        let barWidth = 8, cellWidth = 2 + 1 + barWidth + 1 + 4, gap = "   "
        var lines: [String] = []
        lines.append(promptLine)
        lines.append("p_i = exp(z_i/T) / Σ_j exp(z_j/T)")
        lines.append("")
        let rankWidth = 4
        lines.append(String(repeating: " ", count: rankWidth)
            + panels.map { TerminalText.pad($0.temperature == 0 ? "T=0 (greedy)" : "T=" + String(format: "%g", $0.temperature), to: cellWidth) }
                .joined(separator: gap))
        lines.append(TerminalText.pad("H", to: rankWidth)
            + panels.map { TerminalText.pad("\(Markup.fixed($0.entropyBits, 2)) bits", to: cellWidth) }.joined(separator: gap))
        let rows = panels.map(\.candidates.count).max() ?? 0
        for r in 0..<rows {
            var line = TerminalText.pad("\(r + 1)", to: rankWidth - 1, alignRight: true) + " "
            line += panels.map { panel -> String in
                guard r < panel.candidates.count else { return String(repeating: " ", count: cellWidth) }
                let c = panel.candidates[r]
                return TerminalText.pad(Markup.visible(c.character), to: 2) + " "
                    + TerminalText.bar(c.probability, width: barWidth) + " " + Markup.fixed(c.probability, 2)
            }.joined(separator: gap)
            lines.append(line)
        }
        for panel in panels where includeSamples && !panel.samples.isEmpty {
            lines.append("")
            lines.append("\(Self.temperatureLabel(panel.temperature))   \(averageLine(panel.samples))")
            for (k, sample) in panel.samples.enumerated() {
                lines.append("  #\(k + 1)  \(statisticsLine(sample))")
                let body = Markup.visible(prompt) + "│" + Markup.visibleKeepingLines(sample.text)
                for textLine in body.split(separator: "\n", omittingEmptySubsequences: false) {
                    lines.append("      " + textLine)
                }
            }
        }
        return lines.map { trimTrailingSpaces($0) }.joined(separator: "\n") + "\n"
    }

    private func trimTrailingSpaces(_ s: String) -> String {
        var t = Substring(s)
        while t.hasSuffix(" ") { t = t.dropLast() }
        return String(t)
    }
}
