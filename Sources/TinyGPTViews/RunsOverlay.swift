// Several runs side by side (`tinygpt report RUN1 RUN2 …`): their loss curves, gradient norm
// per block, gradient norm at every step and update-to-weight ratios on shared axes, each run
// labelled by the settings that differ between them (RunDescription.differences), with the
// settings table and every run's verdicts. As a page (both languages, like report.html) or as
// one SVG of the loss and per-block gradient charts, in one language (the README's
// residual-ablation figure is such an SVG).

import Foundation
import TinyGPT

/// Runs overlaid on shared charts.
public struct RunsOverlay {
    public var runs: [TrainingReport]
    /// The language the page opens in (and the SVG's).
    public var language: TextLanguage

    public init(runs: [TrainingReport], language: TextLanguage? = nil) {
        self.runs = runs
        // Chinese when every run is on Chinese text, unless chosen.
        self.language = language ?? (runs.allSatisfy { $0.openingLanguage == .chinese } && !runs.isEmpty ? .chinese : .english)
    }

    // MARK: - Labels

    /// A setting's name and value in words: ("learningRate", 0.003) → "learning rate 0.003" /
    /// "学习率 0.003"; the text is "data NAME" / "数据 NAME".
    static func setting(_ key: String, _ value: SettingValue?, chinese: Bool) -> String {
        if key == "residual" {
            let off = value == .bool(false)
            return chinese ? (off ? "无残差连接" : "有残差连接") : (off ? "no skip connections" : "with skip connections")
        }
        let names: [String: (String, String)] = [
            "data": ("data", "数据"), "layerCount": ("layers", "层数"), "headCount": ("heads", "头数"), "modelWidth": ("width", "宽度"),
            "contextLength": ("context", "上下文"), "gelu": ("GELU", "GELU"), "batchSize": ("batch", "批量"), "steps": ("steps", "步数"),
            "learningRate": ("learning rate", "学习率"), "minLearningRate": ("final learning rate", "最终学习率"),
            "warmupSteps": ("warmup", "预热步数"), "weightDecay": ("weight decay", "权重衰减"), "beta1": ("AdamW β1", "AdamW β1"),
            "beta2": ("β2", "β2"), "epsilon": ("ε", "ε"), "gradClip": ("gradient clip", "梯度裁剪阈值"), "dropout": ("dropout", "随机失活"),
            "seed": ("seed", "随机种子"), "evalInterval": ("evaluation every", "评估间隔"), "evalWindows": ("evaluation windows", "评估窗口数"),
            "validationFraction": ("validation fraction", "验证集比例"), "minutes": ("time budget (min)", "时间预算（分钟）"),
        ]
        let (en, zh) = names[key] ?? (key, key)
        guard let value else { return chinese ? zh : en }
        let text: String
        switch value {
        case .number(let x): text = TrainingReport.number(x)
        case .text(let t): text = key == "data" ? folderName(t) : t
        default: text = TrainingSetting.named(key)?.text(value) ?? "\(value)"
        }
        return (chinese ? zh : en) + " " + text
    }

    /// Each run's label: the settings that differ, or its folder's name when none do (or when
    /// two runs would get the same label).
    public func labels(chinese: Bool) -> [String] {
        let differences = RunDescription.differences(runs.map(\.run))
        var labels = zip(runs, differences).map { report, differing -> String in
            differing.isEmpty ? Self.folderName(report.title)
                : differing.map { Self.setting($0.key, $0.value, chinese: chinese) }.joined(separator: chinese ? "，" : ", ")
        }
        if Set(labels).count < labels.count { labels = runs.map { Self.folderName($0.title) } }
        return labels
    }

    public static func folderName(_ path: String) -> String {
        let name = (path as NSString).lastPathComponent
        return name.isEmpty ? path : name
    }

    // MARK: - Charts

    func lossChart(chinese zh: Bool, width: Double = 560, height: Double = 380) -> LineChart {
        let labels = labels(chinese: zh)
        var series: [LineChart.Series] = []
        for (i, report) in runs.enumerated() {
            let colour = ChartColours.series(i)
            let validation = report.log.compactMap { row in row.validationLoss.map { (x: Double(row.step), y: $0) } }
            let estimate = report.log.compactMap { row in row.trainLoss.map { (x: Double(row.step), y: $0) } }
            series.append(LineChart.Series(name: labels[i] + (zh ? "：验证集" : ": validation"), points: validation, colour: colour,
                                           drawsMarkers: validation.count <= 40))
            if !estimate.isEmpty {
                series.append(LineChart.Series(name: labels[i] + (zh ? "：训练集" : ": train"), points: estimate, colour: colour, dashed: true))
            } else {
                series.append(LineChart.Series(name: labels[i] + (zh ? "：训练集（按批次）" : ": train (batches)"),
                                               points: report.log.map { (Double($0.step), $0.batchLoss) }, colour: colour, dashed: true))
            }
        }
        var chart = LineChart(title: zh ? "损失随步数的变化" : "Loss by step", xTitle: zh ? "步数" : "step",
                              yTitle: zh ? "损失（每字符奈特）" : "loss (nats per character)", series: series)
        // Baselines when every run has the same ones (the same text).
        let baselines = runs.map { $0.run?.baselines ?? [] }
        if let first = baselines.first, !first.isEmpty, baselines.allSatisfy({ $0 == first }) {
            chart.referenceLines = first.map { .init(label: VerdictText.baselineName($0.name, chinese: zh), y: $0.loss) }
        }
        chart.emptyText = zh ? "还没有数据" : "no data yet"
        chart.width = width
        chart.height = height
        return chart
    }

    /// log₁₀ of each block's gradient norm at the first and the last evaluation of each run.
    func layerChart(chinese zh: Bool, width: Double = 560, height: Double = 380) -> LineChart {
        let labels = labels(chinese: zh)
        var series: [LineChart.Series] = []
        for (i, report) in runs.enumerated() {
            let colour = ChartColours.series(i)
            let records = [report.health.first, report.health.count > 1 ? report.health.last : nil].compactMap { $0 }
            for (k, record) in records.enumerated() {
                let points = record.layers.enumerated().map { (x: Double($0.offset), y: log10($0.element.gradNorm)) }
                series.append(LineChart.Series(name: zh ? "\(labels[i])，第 \(record.step) 步" : "\(labels[i]), step \(record.step)",
                                               points: points, colour: colour, drawsMarkers: true, dashed: k == 0 && records.count > 1))
            }
        }
        var chart = LineChart(title: zh ? "每层的梯度范数（第一次与最后一次评估）" : "Gradient norm per block (first and last evaluation)",
                              xTitle: zh ? "层（0 = 紧挨着嵌入的那一层）" : "block (0 = next to the embeddings)",
                              yTitle: zh ? "梯度范数（log₁₀）" : "log₁₀ gradient norm", series: series)
        chart.emptyText = zh ? "还没有数据" : "no data yet"
        chart.width = width
        chart.height = height
        return chart
    }

    func stepNormChart(chinese zh: Bool) -> LineChart {
        let labels = labels(chinese: zh)
        let series = runs.enumerated().map { i, report in
            LineChart.Series(name: labels[i], points: report.health.flatMap { r in
                r.stepNorms.enumerated().map { (x: Double(r.firstStep + $0.offset), y: Double($0.element)) }
            }, colour: ChartColours.series(i))
        }
        var chart = LineChart(title: zh ? "每一步的梯度范数（裁剪前）" : "Gradient norm at every step (before clipping)",
                              xTitle: zh ? "步数" : "step", yTitle: zh ? "梯度范数" : "gradient norm", series: series)
        let clips = Set(runs.compactMap { $0.health.last?.clipThreshold }.filter { $0 > 0 })
        if clips.count == 1, let clip = clips.first { chart.referenceLines = [.init(label: zh ? "裁剪阈值" : "clip", y: clip)] }
        chart.emptyText = zh ? "还没有数据" : "no data yet"
        chart.includesZero = true
        chart.width = 560
        chart.height = 340
        return chart
    }

    func updateChart(chinese zh: Bool) -> LineChart {
        let labels = labels(chinese: zh)
        let series = runs.enumerated().map { i, report in
            LineChart.Series(name: labels[i], points: report.health.map { r in
                let logs = r.layers.map(\.updateRatio).filter { $0 > 0 }.map { Foundation.log10($0) }.sorted()
                return (x: Double(r.step), y: logs.isEmpty ? .nan : logs[logs.count / 2])
            }, colour: ChartColours.series(i), drawsMarkers: true)
        }
        var chart = LineChart(title: zh ? "更新量与权重之比（各层的中位数，log₁₀）" : "Update-to-weight ratio (median over blocks, log₁₀)",
                              xTitle: zh ? "步数" : "step", yTitle: zh ? "更新量/权重（log₁₀）" : "log₁₀ update / weight", series: series)
        chart.referenceLines = [.init(label: "10⁻³", y: -3)]
        chart.emptyText = zh ? "还没有数据" : "no data yet"
        chart.width = 560
        chart.height = 340
        return chart
    }

    // MARK: - Outputs

    /// The loss and per-block gradient charts side by side, as a standalone SVG file in the
    /// overlay's language.
    public func svgDocument() -> String {
        let zh = language == .chinese
        let loss = lossChart(chinese: zh), layers = layerChart(chinese: zh)
        var w = SVGWriter()
        w.rect(x: 0, y: 0, width: loss.width + layers.width, height: max(loss.height, layers.height), fill: "#fff")
        w.raw(loss.svg(x: 0, y: 0))
        w.raw(layers.svg(x: loss.width, y: 0))
        let label = (zh ? "对比：" : "Runs compared: ") + labels(chinese: zh).joined(separator: " · ")
        return w.document(width: loss.width + layers.width, height: max(loss.height, layers.height), label: label)
    }

    public func html() -> String {
        typealias R = TrainingReport
        var body = "<div class=\"langs\"><button type=\"button\" data-set-lang=\"en\">English</button> <button type=\"button\" data-set-lang=\"zh\">中文</button></div>\n"
        body += "<h1>\(R.both("Runs side by side", "几次训练放在一起比较"))</h1>\n"
        body += R.note("Each run is labelled by the settings in which it differs from the others. Solid lines are validation, dashed lines training (each the mean over the same windows at every evaluation).",
                       "每次训练都用它和其他几次不同的设置来命名。实线是验证集，虚线是训练集（每次评估时都对同样多个窗口求平均）。")
        body += settingsTable()
        body += R.heading("Loss and gradients", "损失与梯度")
        body += R.perLanguage { zh in "<div class=\"row\">" + lossChart(chinese: zh).svg() + layerChart(chinese: zh).svg() + "</div>" } + "\n"
        body += R.note("Right: the gradient norm of each block at the first evaluation (dashed) and the last (solid). A line that falls steeply towards block 0 is a vanishing gradient.",
                       "右图：第一次评估（虚线）和最后一次评估（实线）时每一层的梯度范数。如果线朝第 0 层急剧下降，就是梯度消失。")
        body += R.heading("Steps and updates", "每一步与更新量")
        body += R.perLanguage { zh in "<div class=\"row\">" + stepNormChart(chinese: zh).svg() + updateChart(chinese: zh).svg() + "</div>" } + "\n"
        body += verdictsSection()
        return TrainingReport.page(title: language.rawValue == "zh" ? "几次训练的比较" : "Runs side by side",
                                   language: language, body: body)
    }

    /// Every run's settings in one table; the rows that differ are marked.
    func settingsTable() -> String {
        typealias R = TrainingReport
        var s = R.heading("The runs", "这几次训练")
        let settings = runs.map { $0.run?.comparableSettings }
        let differences = RunDescription.differences(runs.map(\.run))
        let labelsEn = labels(chinese: false), labelsZh = labels(chinese: true)
        s += "<table class=\"runs\"><tr><th></th>"
        for (i, report) in runs.enumerated() {
            s += "<th><span class=\"mono\">\(Markup.escape(Self.folderName(report.title)))</span><br/>\(R.both(labelsEn[i], labelsZh[i]))</th>"
        }
        s += "</tr>"
        guard let keys = settings.compactMap({ $0 }).first?.map(\.key) else { return s + "</table>\n" }
        for (k, key) in keys.enumerated() {
            let values = settings.map { $0?[k].value }
            let differs = differences.contains { $0.contains { $0.key == key } }
            let name = R.both(Self.setting(key, nil, chinese: false), Self.setting(key, nil, chinese: true))
            s += "<tr\(differs ? " class=\"diff\"" : "")><th>\(key == "residual" ? R.both("skip connections", "残差连接") : name)</th>"
            for v in values {
                let shown: String
                switch v {
                case nil: shown = "–"
                case .bool(let on)?: shown = R.both(on ? "yes" : "no", on ? "有" : "无")
                case .number(let x)?: shown = TrainingReport.number(x)
                case .text(let t)?: shown = Markup.escape(t)
                case let value?: shown = Markup.escape(TrainingSetting.named(key)?.text(value) ?? "\(value)")
                }
                s += "<td class=\"mono\">\(shown)</td>"
            }
            s += "</tr>"
        }
        return s + "</table>\n"
    }

    /// Each run's verdicts.
    func verdictsSection() -> String {
        typealias R = TrainingReport
        var s = R.heading("What each run's records say", "每次训练的记录说明了什么")
        let labelsEn = labels(chinese: false), labelsZh = labels(chinese: true)
        for (i, report) in runs.enumerated() {
            s += "<h3>\(R.both(labelsEn[i], labelsZh[i]))</h3>"
            let order: [Verdict.Level] = [.flag, .note, .ok]
            let texts = report.verdictTexts
            for level in order { for v in texts where v.level == level { s += R.verdictBox(v) } }
            if texts.isEmpty { s += R.note("No records yet.", "还没有记录。") }
        }
        return s + "\n"
    }
}

private func log10(_ x: Double) -> Double { x > 0 ? Foundation.log10(x) : -.infinity }
