// The training report's verdicts in words: what `RunVerdicts` measured, said in English and
// in Chinese, with the threshold each reading used. A verdict is either a flag (a trouble the
// run shows) or a note (what was checked and found, or what a reading means here).

import Foundation
import TinyGPT

/// One verdict in both languages.
public struct Verdict: Equatable, Sendable {
    public enum Level: String, Sendable {
        /// Checked, nothing wrong.
        case ok
        /// Worth knowing; not a trouble.
        case note
        /// A trouble the run shows.
        case flag
    }

    /// "clipping", "overfitting", "learning-rate" or "vanishing-gradient".
    public var topic: String
    public var level: Level
    public var en: String
    public var zh: String
}

enum VerdictText {
    /// 3 significant digits, no exponent for ordinary sizes: 0.0331, 1.52, 248.
    static func n(_ x: Double) -> String {
        guard x.isFinite else { return x.isNaN ? "nan" : "∞" }
        if x == 0 { return "0" }
        let digits = max(0, 2 - Int(floor(log10(abs(x)))))
        return Markup.fixed(x, min(digits, 8))
    }

    static func percent(_ fraction: Double) -> String {
        let p = fraction * 100
        return p >= 99.5 && p < 100 ? "99.5" : p > 0 && p < 0.5 ? "0.5" : Markup.fixed(p, 0)
    }

    /// 10^x written with a superscript exponent: "10⁻²·⁵".
    static func power(_ exponent: Double) -> String {
        let map: [Character: String] = ["-": "⁻", "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵",
                                        "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", ".": "·"]
        var text = Markup.fixed(exponent, 1)
        if text.hasSuffix(".0") { text.removeLast(2) }
        return "10" + text.map { map[$0] ?? String($0) }.joined()
    }

    static func steps(_ list: [Int], limit: Int = 5) -> String {
        let shown = list.prefix(limit).map(String.init).joined(separator: ", ")
        return list.count > limit ? shown + " …" : shown
    }

    static func baselineName(_ name: String, chinese: Bool) -> String {
        guard chinese else { return name }
        return ["unigram": "一元模型", "bigram": "二元模型", "trigram": "三元模型"][name] ?? name
    }

    // MARK: - The four readings

    static func clipping(_ c: RunVerdicts.Clipping) -> Verdict {
        let t = n(c.threshold), k = c.clippedSteps, total = c.recordedSteps, pct = percent(c.fraction)
        let spike = n(RunVerdicts.Clipping.spikeFactor)
        switch c.finding {
        case .off:
            return Verdict(topic: "clipping", level: .ok,
                           en: "Clipping was off (threshold 0): every step kept its full length.",
                           zh: "这次训练关闭了梯度裁剪（阈值为 0），每一步都保持原来的长度。")
        case .never:
            return Verdict(topic: "clipping", level: .ok,
                           en: "No recorded step went over the clip threshold \(t), so clipping never acted; the largest norm was \(n(c.largestOverThreshold))× the threshold.",
                           zh: "记录的 \(total) 步里，没有一步的梯度范数超过裁剪阈值 \(t)，裁剪一次也没有起作用；最大的范数是阈值的 \(n(c.largestOverThreshold)) 倍。")
        case .mostSteps:
            return Verdict(topic: "clipping", level: .note,
                           en: "Clipped \(k) of \(total) recorded steps (\(pct)%). The gradient norm was typically \(n(c.medianOverThreshold))× the threshold \(t), so clipping scaled almost every step down to length \(t). That matters little here: AdamW divides each step by the gradient's running size, so when every gradient is scaled by a similar factor the steps stay almost as they were. Clipping is a guard here; it matters when a few steps are far larger than the rest, and no step after warmup was \(spike)× the median of its interval.",
                           zh: "记录的 \(total) 步中有 \(k) 步被裁剪（\(pct)%）。梯度范数通常是阈值 \(t) 的 \(n(c.medianOverThreshold)) 倍，所以几乎每一步都被缩到长度 \(t)。这在这里影响不大：AdamW 会拿梯度的滑动平均大小去除每一步，所有梯度都被缩小差不多的倍数时，每一步几乎和原来一样。这里的裁剪只是一道保险；只有少数几步比其余的大得多时它才真正起作用，而预热之后没有一步超过所在区间中位数的 \(spike) 倍。")
        case .sometimes:
            return Verdict(topic: "clipping", level: .note,
                           en: "Clipped \(k) of \(total) recorded steps (\(pct)%), the last at step \(c.lastClippedStep ?? 0), by at most \(n(c.largestOverThreshold))×: clipping trimmed the largest steps. None after warmup was a spike (\(spike)× the median of its interval), so it shaped training only a little.",
                           zh: "记录的 \(total) 步中有 \(k) 步被裁剪（\(pct)%），最后一次在第 \(c.lastClippedStep ?? 0) 步，最多缩小到原来的 1/\(n(c.largestOverThreshold))：裁剪只削掉了最大的几步。预热之后没有一步是尖峰（超过所在区间中位数的 \(spike) 倍），所以它对训练的影响很小。")
        case .spikes:
            return Verdict(topic: "clipping", level: .flag,
                           en: "Spikes: \(c.spikeSteps.count) steps after warmup had a gradient norm at least \(spike)× the median of their interval (steps \(steps(c.spikeSteps)); the largest \(n(c.largestOverThreshold))× the threshold \(t)). Clipping held each of them to length \(t), so here it mattered: without it those steps would have thrown the weights far off. Spikes suggest the learning rate is near the edge of stability. In all, \(k) of \(total) recorded steps were clipped (\(pct)%).",
                           zh: "出现尖峰：预热之后有 \(c.spikeSteps.count) 步的梯度范数达到所在区间中位数的 \(spike) 倍以上（第 \(steps(c.spikeSteps)) 步；最大的是阈值 \(t) 的 \(n(c.largestOverThreshold)) 倍）。裁剪把这些步都压回长度 \(t)，这里它真正起了作用：没有它，这几步会把权重推得很远。出现尖峰说明学习率已经接近不稳定的边缘。总共记录的 \(total) 步中有 \(k) 步被裁剪（\(pct)%）。")
        }
    }

    static func overfitting(_ o: RunVerdicts.Overfitting) -> Verdict {
        let rise = n(RunVerdicts.Overfitting.riseThreshold)
        let trainEn = o.trainIsEstimate ? "training loss" : "training loss (batches)"
        let trainZh = o.trainIsEstimate ? "训练损失" : "训练损失（按批次）"
        let bEn = o.baseline.map { baselineName($0.name, chinese: false) } ?? ""
        let bZh = o.baseline.map { baselineName($0.name, chinese: true) } ?? ""
        let bLoss = o.baseline.map { Markup.fixed($0.loss, 3) } ?? ""
        let v = Markup.fixed(o.lastValidation, 3), tr = Markup.fixed(o.lastTrain, 3)
        switch o.finding {
        case .none:
            let belowEn = o.baseline == nil ? "" : ", below the \(bEn) (\(bLoss))"
            let belowZh = o.baseline == nil ? "" : "，低于\(bZh)（\(bLoss)）"
            return Verdict(topic: "overfitting", level: .ok,
                           en: "No sign of overfitting: validation loss is \(v) at step \(o.lastStep), within \(rise) of its lowest (\(Markup.fixed(o.bestValidation, 3)) at step \(o.bestStep))\(belowEn). It would be flagged if it rose more than \(rise) above its lowest while the \(trainEn) kept falling, or ended above the best counting model. Gap validation − train: \(Markup.fixed(o.lastValidation - o.lastTrain, 3)).",
                           zh: "没有过拟合的迹象：第 \(o.lastStep) 步的验证损失是 \(v)，和最低点（第 \(o.bestStep) 步的 \(Markup.fixed(o.bestValidation, 3))）相差不到 \(rise)\(belowZh)。如果验证损失比最低点高出 \(rise) 以上、而\(trainZh)还在下降，或者最后高于最好的计数模型，这里就会提醒。验证减训练的差距：\(Markup.fixed(o.lastValidation - o.lastTrain, 3))。")
        case .validationRising:
            return Verdict(topic: "overfitting", level: .flag,
                           en: "Overfitting: validation loss rose from \(Markup.fixed(o.bestValidation, 3)) at step \(o.bestStep) to \(v) at step \(o.lastStep) (flagged above a rise of \(rise)), while the \(trainEn) fell from \(Markup.fixed(o.trainAtBest, 3)) to \(tr). The model is learning its training text by heart rather than the language. \(RunFiles.bestName) keeps step \(o.bestStep); more text, dropout, a smaller model or fewer steps help.",
                           zh: "过拟合：验证损失从第 \(o.bestStep) 步的 \(Markup.fixed(o.bestValidation, 3)) 升到第 \(o.lastStep) 步的 \(v)（上升超过 \(rise) 就提醒），而\(trainZh)却从 \(Markup.fixed(o.trainAtBest, 3)) 降到 \(tr)。模型在背训练文本，而不是在学这门语言。\(RunFiles.bestName) 保存的是第 \(o.bestStep) 步；更多的文本、随机失活、更小的模型或更少的步数都有帮助。")
        case .aboveBaseline:
            return Verdict(topic: "overfitting", level: .flag,
                           en: "Overfitting: validation loss ends at \(v), above the \(bEn)'s \(bLoss), while the \(trainEn) (\(tr)) is below it. The GPT fits its training text better than counting does, yet predicts unseen text worse: it has learnt the training text by heart. More text, dropout, a smaller model or fewer steps help.",
                           zh: "过拟合：验证损失最后是 \(v)，高于\(bZh)的 \(bLoss)，而\(trainZh)（\(tr)）却低于它。GPT 对训练文本比计数方法拟合得还好，对没见过的文本却预测得更差：它把训练文本背下来了。更多的文本、随机失活、更小的模型或更少的步数都有帮助。")
        case .behindBaseline:
            return Verdict(topic: "overfitting", level: .note,
                           en: "Not yet below the \(bEn) (\(bLoss)): validation \(v), \(trainEn) \(tr). Both are above the counting model, so this is not overfitting; the model has more to learn (more steps, or a larger model).",
                           zh: "还没有低于\(bZh)（\(bLoss)）：验证损失 \(v)，\(trainZh) \(tr)。两者都高于计数模型，所以这不是过拟合，而是模型还没学够（多训练几步，或者用更大的模型）。")
        }
    }

    static func learningRate(_ l: RunVerdicts.LearningRate) -> Verdict {
        let m = power(l.medianLog10), lo = power(l.lowestLog10), hi = power(l.highestLog10)
        let high = power(RunVerdicts.LearningRate.highLog10), low = power(RunVerdicts.LearningRate.lowLog10)
        let factor = n(pow(10, abs(l.medianLog10 + 3)))
        switch l.finding {
        case .healthy:
            return Verdict(topic: "learning-rate", level: .ok,
                           en: "The learning rate looks right for this model: each step changes a block's weights by about \(m) of their size (median over blocks and \(l.evaluations) evaluations; from \(lo) to \(hi) as the rate changes). About 10⁻³ is usual; below \(low) the rate would be flagged as too low, above \(high) as too high.",
                           zh: "学习率对这个模型来说合适：每一步让每层权重变化大约是权重本身的 \(m)（对所有层和 \(l.evaluations) 次评估取中位数；随着学习率变化，在 \(lo) 到 \(hi) 之间）。一般在 10⁻³ 左右；低于 \(low) 会提醒学习率太小，高于 \(high) 会提醒太大。")
        case .tooHigh:
            return Verdict(topic: "learning-rate", level: .flag,
                           en: "Learning rate too high: each step changes a block's weights by \(m) of their size (median over blocks and \(l.evaluations) evaluations), above the threshold \(high); about 10⁻³ is usual. Steps this large make training jumpy or make it diverge. Try a learning rate about \(factor)× smaller.",
                           zh: "学习率太大：每一步让每层权重变化了权重本身的 \(m)（对所有层和 \(l.evaluations) 次评估取中位数），超过了阈值 \(high)；一般在 10⁻³ 左右。步子这么大，训练会来回跳，甚至发散。可以把学习率调小到大约 1/\(factor)。")
        case .tooLow:
            return Verdict(topic: "learning-rate", level: .flag,
                           en: "Learning rate too low: each step changes a block's weights by only \(m) of their size (median over blocks and \(l.evaluations) evaluations), below the threshold \(low); about 10⁻³ is usual. The weights hardly move and the loss falls slowly. Try a learning rate about \(factor)× larger.",
                           zh: "学习率太小：每一步只让每层权重变化了权重本身的 \(m)（对所有层和 \(l.evaluations) 次评估取中位数），低于阈值 \(low)；一般在 10⁻³ 左右。权重几乎不动，损失降得很慢。可以把学习率调大到大约 \(factor) 倍。")
        }
    }

    static func vanishingGradient(_ v: RunVerdicts.VanishingGradient, residual: Bool) -> Verdict {
        let r = n(v.bottomOverTop), t = n(RunVerdicts.VanishingGradient.threshold), top = v.layerCount - 1
        guard v.isFlagged else {
            return Verdict(topic: "vanishing-gradient", level: .ok,
                           en: "No vanishing gradient: block 0 gets \(r)× the gradient of block \(top) (median over \(v.evaluations) evaluations); it would be flagged below \(t)×.",
                           zh: "没有梯度消失：第 0 层得到的梯度是第 \(top) 层的 \(r) 倍（对 \(v.evaluations) 次评估取中位数）；低于 \(t) 倍才会提醒。")
        }
        let whyEn = residual
            ? "Skip connections normally carry the gradient down unchanged; check the initialisation and the learning rate."
            : "This model has no skip connections: each block's gradient passes through every block above it and shrinks on the way. With x = x + branch, the sum reaches every block unchanged."
        let whyZh = residual
            ? "残差连接通常会把梯度原样传到底层；请检查初始化和学习率。"
            : "这个模型没有残差连接：每一层的梯度都要穿过它上面的每一层，一路越传越小。有了 x = x + 分支，梯度可以原样传到每一层。"
        return Verdict(topic: "vanishing-gradient", level: .flag,
                       en: "Vanishing gradient: block 0 gets only \(r)× the gradient of block \(top) (median over \(v.evaluations) evaluations; flagged below \(t)×), so the lower blocks hardly learn. \(whyEn)",
                       zh: "梯度消失：第 0 层得到的梯度只有第 \(top) 层的 \(r) 倍（对 \(v.evaluations) 次评估取中位数；低于 \(t) 倍就提醒），底下几层几乎学不动。\(whyZh)")
    }

    /// Every verdict of a run, in the report's order.
    static func all(_ v: RunVerdicts, residual: Bool) -> [Verdict] {
        [v.overfitting.map(overfitting), v.clipping.map(clipping), v.learningRate.map(learningRate),
         v.vanishingGradient.map { vanishingGradient($0, residual: residual) }].compactMap { $0 }
    }
}
