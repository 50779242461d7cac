// report.html: one training run on one page, redrawn at every evaluation from the files of
// the run folder (train_log.csv, health.jsonl, timelapse.jsonl, run.json). Loss curves with
// the n-gram baselines (the same LossPlot `tinygpt plot` draws), the learning-rate schedule,
// the gradient norm of every step with clip events, gradient norms per block over time,
// update-to-weight ratios, the residual stream, and the time-lapse of the probe.
// English and Chinese in one file; a button (or #zh in the address) switches. The only
// script is that switch (Pages/report.js, style in report.css); everything else is inline
// SVG, so the page works offline.

import Foundation
import TinyGPT

/// The training report of one run folder.
public struct TrainingReport {
    public var run: RunDescription?
    public var log: [TrainingLogRow]
    public var health: [GradientHealthRecord]
    public var timeLapse: [TimeLapseRecord]
    public var title: String

    public init(run: RunDescription?, log: [TrainingLogRow], health: [GradientHealthRecord],
                timeLapse: [TimeLapseRecord], title: String) {
        self.run = run
        self.log = log
        self.health = health
        self.timeLapse = timeLapse
        self.title = title
    }

    /// Reads everything the report shows from `folder`; missing files show as empty sections.
    public static func load(folder: RunFiles) throws -> TrainingReport {
        let log = FileManager.default.fileExists(atPath: folder.trainingLog) ? try TrainingLog.read(path: folder.trainingLog) : []
        return TrainingReport(run: try RunDescription.read(path: folder.description), log: log,
                              health: try JSONLines.read(GradientHealthRecord.self, path: folder.health),
                              timeLapse: try JSONLines.read(TimeLapseRecord.self, path: folder.timeLapse),
                              title: folder.directory)
    }

    // MARK: - Page

    /// Text in both languages; CSS shows the one chosen.
    static func both(_ en: String, _ zh: String) -> String {
        "<span class=\"en\">\(Markup.escape(en))</span><span class=\"zh\">\(Markup.escape(zh))</span>"
    }

    static func heading(_ en: String, _ zh: String) -> String { "<h2>\(both(en, zh))</h2>" }
    static func note(_ en: String, _ zh: String) -> String { "<p class=\"note\">\(both(en, zh))</p>" }

    public func html() -> String {
        var body = ""
        body += "<div class=\"langs\"><button type=\"button\" data-set-lang=\"en\">English</button> <button type=\"button\" data-set-lang=\"zh\">中文</button></div>\n"
        body += "<h1>\(Self.both("Training report", "训练报告")) <span class=\"mono small\">\(Markup.escape(title))</span></h1>\n"
        body += settingsSection()
        body += lossSection()
        body += scheduleSection()
        body += stepNormSection()
        body += layerSection()
        body += timeLapseSection()
        var page = HTMLPage(title: "Training report · 训练报告 · \(title)", heading: false)
        page.rootAttributes = [("data-lang", "en")]
        page.extraStyle = PageFiles.reportStyle
        page.script = PageFiles.reportScript
        page.raw(body)
        return page.render()
    }

    // MARK: - Sections

    /// A setting stored as Float, shown as the Float it was ("0.002", not "0.0020000000949949026").
    static func number(_ value: Double) -> String { "\(Float(value))" }

    func settingsSection() -> String {
        var s = Self.heading("The run", "这次训练")
        guard let r = run else {
            return s + Self.note("\(RunFiles.descriptionName) is missing, so the settings are unknown.",
                                "缺少 \(RunFiles.descriptionName)，无法显示训练设置。")
        }
        func row(_ en: String, _ zh: String, _ value: String) -> String {
            "<tr><th>\(Self.both(en, zh))</th><td class=\"mono\">\(Markup.escape(value))</td></tr>"
        }
        s += "<table>"
        s += row("text", "训练文本", "\(r.dataPath) · \(r.characters) characters, vocabulary \(r.config.vocabSize)")
        // One row per group of TrainingSetting.all: every setting shows, a new one with no edit here.
        for group in TrainingSetting.Group.allCases {
            var words = TrainingSetting.all.filter { $0.group == group }.map { $0.words($0.value(r.config, r.settings)) }
            if group == .model { words[words.count - 1] += " · \(r.parameterCount) parameters" }
            let label = Self.label(group)
            s += row(label.en, label.zh, words.joined(separator: ", "))
        }
        if let last = log.last {
            s += row("progress", "进度", "step \(last.step) of \(r.settings.steps)")
        }
        return s + "</table>\n"
    }

    /// The settings table's row label of `group`, in English and Chinese.
    static func label(_ group: TrainingSetting.Group) -> (en: String, zh: String) {
        switch group {
        case .model: return ("model", "模型")
        case .batch: return ("batch and steps", "批量与步数")
        case .learningRate: return ("learning rate", "学习率")
        case .regularisation: return ("regularisation", "正则化")
        case .optimizer: return ("optimizer", "优化器")
        case .evaluation: return ("evaluation", "评估")
        case .seed: return ("seed", "随机种子")
        }
    }

    func lossSection() -> String {
        var s = Self.heading("Loss", "损失")
        s += Self.note("Loss is how surprised the model is by the next character (nats per character; lower is better). The dashed lines are counting models (n-grams) on the same validation text: the GPT should end below them.",
                       "损失表示模型看到下一个字符时有多“意外”（单位：每字符奈特，越低越好）。虚线是在同一段验证文本上用计数方法（n-gram）得到的基准，GPT 最后应当比它们更低。")
        guard !log.isEmpty else { return s + Self.note("No steps logged yet.", "还没有记录任何步。") }
        let baselines = (run?.baselines ?? []).map { LineChart.ReferenceLine(label: $0.name, y: $0.loss) }
        var plot = LossPlot(rows: log, baselines: baselines)
        plot.chartWidth = 520
        plot.chartHeight = 320
        return s + plot.svg() + "\n"
    }

    func scheduleSection() -> String {
        var s = Self.heading("Learning rate", "学习率")
        s += Self.note("The step size of θ ← θ − lr·∇: a linear warmup, then a cosine decay to the minimum.",
                       "更新 θ ← θ − lr·∇ 里的步长 lr：先线性升温（warmup），再按余弦曲线降到最小值。")
        guard let r = run, !r.schedule.isEmpty else { return s }
        let points = r.schedule.enumerated().map { (x: Double($0.offset * r.scheduleStride), y: $0.element) }
        var series = [LineChart.Series(name: "lr", points: points, colour: ChartColours.series(0))]
        if let last = log.last {
            let index = min(r.schedule.count - 1, max(0, (last.step - 1) / r.scheduleStride))
            series.append(LineChart.Series(name: "now", points: [(Double(last.step), r.schedule[index])],
                                           colour: ChartColours.series(3), drawsLine: false, drawsMarkers: true))
        }
        var chart = LineChart(xTitle: "step", yTitle: "learning rate", series: series)
        chart.width = 520
        chart.height = 260
        chart.includesZero = true
        return s + chart.svg() + "\n"
    }

    func stepNormSection() -> String {
        var s = Self.heading("Gradient norm at every step", "每一步的梯度范数")
        s += Self.note("The length ‖∇‖ of the whole gradient before clipping. Above the dashed line, clipping scaled the step down to that length (red points).",
                       "整个梯度向量在裁剪前的长度 ‖∇‖。超过虚线的步会被裁剪，步长被缩到虚线那么长（红点）。")
        guard !health.isEmpty else { return s + Self.note("No evaluation yet.", "还没有评估。") }
        var all: [(x: Double, y: Double)] = [], clipped: [(x: Double, y: Double)] = []
        for r in health {
            for (i, n) in r.stepNorms.enumerated() {
                let point = (x: Double(r.firstStep + i), y: Double(n))
                all.append(point)
                if r.clipThreshold > 0 && Double(n) > r.clipThreshold { clipped.append(point) }
            }
        }
        var series = [LineChart.Series(name: "‖∇‖", points: all, colour: ChartColours.series(0))]
        if !clipped.isEmpty {
            series.append(LineChart.Series(name: "clipped", points: clipped, colour: ChartColours.series(3),
                                           drawsLine: false, drawsMarkers: true))
        }
        var chart = LineChart(xTitle: "step", yTitle: "gradient norm", series: series)
        if let clip = health.last?.clipThreshold, clip > 0 { chart.referenceLines = [.init(label: "clip", y: clip)] }
        chart.width = 720
        chart.height = 280
        chart.includesZero = true
        s += chart.svg() + "\n"
        let total = health.reduce(0) { $0 + $1.stepNorms.count }, clips = health.reduce(0) { $0 + $1.clippedSteps }
        s += Self.note("Clipped \(clips) of \(total) recorded steps.", "记录的 \(total) 步中有 \(clips) 步被裁剪。")
        return s
    }

    func layerSection() -> String {
        var s = Self.heading("Gradients, updates and the residual stream per block", "每一层的梯度、更新量与残差流")
        guard let first = health.first else { return s + Self.note("No evaluation yet.", "还没有评估。") }
        let L = first.layers.count
        let columns = health.map { String($0.step) }
        // Top block first, as the model is usually drawn; embeddings at the bottom.
        let rows = (0..<L).reversed().map { "block \($0)" } + ["embeddings"]
        func grid(_ value: (GradientHealthRecord, Int) -> Double, embeddings: (GradientHealthRecord) -> Double) -> [[Double?]] {
            (0..<L).reversed().map { l in health.map { $0.layers.count == L ? log10(value($0, l)) : nil } }
                + [health.map { log10(embeddings($0)) }]
        }
        func heatmap(_ values: [[Double?]], what: String) -> Heatmap {
            var h = Heatmap(rowLabels: rows, columnLabels: columns.count > 40 ? columns.map { _ in "" } : columns,
                            values: values)
            h.labelsAreCharacters = false
            h.cellSize = max(10, min(40, 640 / Double(max(1, columns.count))))
            h.rowTitle = nil
            h.columnTitle = "step"
            let finite = values.flatMap { $0.compactMap { $0 } }.filter(\.isFinite)
            if let lo = finite.min(), let hi = finite.max() { h.valueRange = lo...max(hi, lo + 1e-9) }
            h.describeCell = { i, j, v in "\(rows[i]), step \(columns[j]): \(what) \(Markup.fixed(pow10(v), 6)) (log₁₀ \(Markup.fixed(v, 2)))" }
            return h
        }
        s += "<h3>\(Self.both("Gradient norm per block (log₁₀)", "每层梯度范数（取 log₁₀）"))</h3>"
        s += Self.note("Darker is a larger gradient. The chain rule carries the gradient from the loss at the top down through every block; if the lower rows fade, the lower blocks are learning less (vanishing gradients).",
                       "颜色越深，梯度越大。链式法则把梯度从顶部的损失一层层往下传；如果下面几行越来越淡，说明底层学得越来越少（梯度消失）。")
        let gradients = heatmap(grid({ $0.layers[$1].gradNorm }, embeddings: { $0.kindGradNorms["embeddings"] ?? .nan }),
                                what: "gradient norm")
        s += gradients.svg() + "\n"
        s += "<h3>\(Self.both("Update-to-weight ratio per block (log₁₀)", "每层更新量与权重之比（取 log₁₀）"))</h3>"
        s += Self.note("‖lr · step‖ / ‖θ‖ for the last step before each evaluation. Around 10⁻³ (−3) is the usual healthy size; far above, training is unstable; far below, the block hardly moves.",
                       "每次评估前最后一步的 ‖更新量‖ / ‖权重‖。一般在 10⁻³（即 −3）左右比较健康；远大于它训练会不稳，远小于它这一层几乎不动。")
        s += heatmap(grid({ $0.layers[$1].updateRatio }, embeddings: { $0.embeddingUpdateRatio }), what: "update/weight").svg() + "\n"

        var kinds: [LineChart.Series] = []
        let names: [(ParameterKind, String)] = [(.attention, "attention"), (.mlp, "MLP"), (.layerNorm, "LayerNorm"), (.embeddings, "embeddings")]
        for (index, (kind, name)) in names.enumerated() {
            kinds.append(LineChart.Series(name: name, points: health.map { (Double($0.step), log10($0.kindGradNorms[kind.rawValue] ?? .nan)) },
                                          colour: ChartColours.series(index), drawsLine: true, drawsMarkers: health.count <= 40))
        }
        var byKind = LineChart(xTitle: "step", yTitle: "log₁₀ gradient norm", series: kinds)
        byKind.width = 520
        byKind.height = 300
        var residual: [LineChart.Series] = [
            LineChart.Series(name: "emb", points: health.map { (Double($0.step), $0.embeddingRMS) }, colour: "#7f7f7f")]
        for l in 0..<L {
            residual.append(LineChart.Series(name: "\(l)", points: health.compactMap { $0.layers.count == L ? (Double($0.step), $0.layers[l].residualRMS) : nil },
                                             colour: ChartColours.sequential(0.3 + 0.7 * Double(l + 1) / Double(L))))
        }
        var stream = LineChart(xTitle: "step", yTitle: "RMS of the residual stream", series: residual)
        stream.width = 520
        stream.height = 300
        stream.includesZero = true
        s += "<div class=\"row\"><div><h3>\(Self.both("Gradient norm by kind of parameter", "按参数种类的梯度范数"))</h3>"
        s += byKind.svg() + "</div><div><h3>\(Self.both("The residual stream after each block", "每层之后残差流的大小"))</h3>"
        s += stream.svg() + "</div></div>\n"
        s += Self.note("Right: the root-mean-square size of the vector each position carries after every block, on fixed validation windows.",
                       "右图：在固定的验证窗口上，每个位置的向量经过每一层后的均方根大小。")
        return s
    }

    func timeLapseSection() -> String {
        var s = Self.heading("Time-lapse", "延时摄影：模型怎样学会写字")
        s += Self.note("At each evaluation the model continues the same probe: greedily (always the most likely character) and by sampling at temperature 1. Read top to bottom to watch noise turn into words.",
                       "每次评估时，模型都接着同一段提示往下写：一种是贪心（每次都选最可能的字符），一种是在温度 1 下随机抽样。从上往下读，可以看到乱码怎样慢慢变成词语。")
        guard let probe = timeLapse.first?.probe else { return s + Self.note("No evaluation yet.", "还没有评估。") }
        s += "<p>\(Self.both("Probe:", "提示：")) <span class=\"mono probe\">\(Markup.escape(Markup.visibleKeepingLines(probe)))</span></p>"
        s += "<table class=\"lapse\"><tr><th>\(Self.both("step", "步"))</th><th>\(Self.both("greedy (T = 0)", "贪心（T = 0）"))</th><th>\(Self.both("sampled (T = 1)", "抽样（T = 1）"))</th><th>\(Self.both("next character", "下一个字符的概率"))</th></tr>"
        for r in timeLapse {
            let next = r.next.prefix(5).map { "\(Markup.visible($0.character)) \(Markup.fixed($0.probability * 100, 1))%" }.joined(separator: "  ")
            s += "<tr><td class=\"num\">\(r.step)</td><td class=\"text\">\(Markup.escape(r.greedy))</td><td class=\"text\">\(Markup.escape(r.sampled))</td><td class=\"mono\">\(Markup.escape(next))</td></tr>"
        }
        return s + "</table>\n"
    }
}

/// log₁₀, with −∞ for zero (drawn as "no data").
private func log10(_ x: Double) -> Double { x > 0 ? Foundation.log10(x) : -.infinity }
private func pow10(_ x: Double) -> Double { pow(10, x) }
