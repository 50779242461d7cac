// The distribution `Sampler.pick` draws from, as a list: softmax(logits / T) from
// `Softmax.probabilities`, cut to the top-k and then to the top-p nucleus and renormalised
// (Fan et al. 2018; Holtzman et al. 2020), or one-hot at the argmax when T = 0.
// The inspector page recomputes exactly this in JavaScript; a browser test compares the two.

extension Sampler {
    /// The probability of each id (V) under `settings`, zero for the ids top-k and top-p cut.
    /// Candidates are ranked by probability, ties by id; top-p keeps the shortest prefix of
    /// the (top-k) ranking whose cumulative probability reaches p.
    public static func distribution(_ logits: UnsafePointer<Float>, count V: Int, settings: SamplingSettings) -> [Double] {
        let p = Softmax.probabilities(logits, count: V, temperature: Double(settings.temperature))
        if settings.isGreedy || (settings.topK == nil && settings.topP == nil) { return p }
        let order = (0..<V).sorted { p[$0] != p[$1] ? p[$0] > p[$1] : $0 < $1 }
        var keep = min(V, settings.topK ?? V)
        if let topP = settings.topP {
            var cumulative = 0.0
            for (rank, id) in order.prefix(keep).enumerated() {
                cumulative += p[id]
                if cumulative >= Double(topP) { keep = rank + 1; break }
            }
        }
        var kept = [Double](repeating: 0, count: V)
        var sum = 0.0
        for id in order.prefix(keep) { kept[id] = p[id]; sum += p[id] }
        for i in 0..<V { kept[i] /= sum }
        return kept
    }
}
