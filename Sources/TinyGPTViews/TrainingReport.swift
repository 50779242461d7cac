// report.html: one training run on one page, redrawn at every evaluation from the files of
// the run folder (train_log.csv, health.jsonl, timelapse.jsonl, run.json). Loss curves with
// the n-gram baselines (the same LossPlot `tinygpt plot` draws), the learning-rate schedule,
// the gradient norm of every step with clip events, gradient norms per block over time,
// update-to-weight ratios, the residual stream, and the time-lapse of the probe. Beside the
// charts, the verdicts the library reads from the same records (RunVerdicts, VerdictText).
// English and Chinese in one file: every word is there twice (charts are drawn once per
// language) and CSS shows the chosen one. A run on mostly-Chinese text opens in Chinese; a
// button, or #en / #zh in the address, switches. The only script is that switch
// (Pages/report.js, style in report.css); everything else is inline SVG, so the page works
// offline.

import Foundation
import TinyGPT

/// The training report of one run folder.
public struct TrainingReport {
    public var run: RunDescription?
    public var log: [TrainingLogRow]
    public var health: [GradientHealthRecord]
    public var timeLapse: [TimeLapseRecord]
    public var title: String
    /// The language the page opens in; the run's (run.json) when nil, else English.
    public var language: TextLanguage?

    public init(run: RunDescription?, log: [TrainingLogRow], health: [GradientHealthRecord],
                timeLapse: [TimeLapseRecord], title: String, language: TextLanguage? = nil) {
        self.run = run
        self.log = log
        self.health = health
        self.timeLapse = timeLapse
        self.title = title
        self.language = language
    }

    /// Reads everything the report shows from `folder`; missing files show as empty sections.
    public static func load(folder: RunFiles, language: TextLanguage? = nil) throws -> TrainingReport {
        let log = FileManager.default.fileExists(atPath: folder.trainingLog) ? try TrainingLog.read(path: folder.trainingLog) : []
        return TrainingReport(run: try RunDescription.read(path: folder.description), log: log,
                              health: try JSONLines.read(GradientHealthRecord.self, path: folder.health),
                              timeLapse: try JSONLines.read(TimeLapseRecord.self, path: folder.timeLapse),
                              title: folder.directory, language: language)
    }

    /// The language the page opens in.
    public var openingLanguage: TextLanguage {
        language ?? run?.language.flatMap(TextLanguage.init(rawValue:)) ?? .english
    }

    /// What the records say (clipping, overfitting, learning rate, vanishing gradient).
    public var verdicts: RunVerdicts { RunVerdicts(log: log, health: health, run: run) }

    /// The verdicts in words, in the report's order.
    public var verdictTexts: [Verdict] { VerdictText.all(verdicts, residual: run?.config.residual != false) }

    // MARK: - Page

    /// Text in both languages; CSS shows the one chosen.
    static func both(_ en: String, _ zh: String) -> String {
        "<span class=\"en\">\(Markup.escape(en))</span><span class=\"zh\">\(Markup.escape(zh))</span>"
    }

    static func heading(_ en: String, _ zh: String) -> String { "<h2>\(both(en, zh))</h2>" }
    static func note(_ en: String, _ zh: String) -> String { "<p class=\"note\">\(both(en, zh))</p>" }

    /// Markup drawn once per language: `make(true)` for Chinese.
    static func perLanguage(_ make: (Bool) -> String) -> String {
        "<div class=\"en\">\(make(false))</div><div class=\"zh\">\(make(true))</div>"
    }

    /// A verdict as a box: its topic, its level, and the sentence in both languages.
    static func verdictBox(_ v: Verdict) -> String {
        let topics = ["clipping": ("Clipping", "梯度裁剪"), "overfitting": ("Overfitting", "过拟合"),
                      "learning-rate": ("Learning rate", "学习率"), "vanishing-gradient": ("Vanishing gradient", "梯度消失")]
        let (en, zh) = topics[v.topic] ?? (v.topic, v.topic)
        let mark = ["ok": "✓", "note": "ℹ", "flag": "⚠"][v.level.rawValue]!
        return "<div class=\"verdict verdict-\(v.level.rawValue)\" data-topic=\"\(v.topic)\" data-level=\"\(v.level.rawValue)\">"
            + "<b>\(mark) \(both(en, zh))</b> \(both(v.en, v.zh))</div>"
    }

    /// The verdict of `topic`, as a box, or nothing.
    func verdict(_ topic: String) -> String {
        verdictTexts.first { $0.topic == topic }.map(Self.verdictBox) ?? ""
    }

    /// A chart with its verdict beside it.
    static func withVerdict(_ chart: String, _ verdict: String) -> String {
        verdict.isEmpty ? chart + "\n" : "<div class=\"row chart-row\"><div>\(chart)</div>\(verdict)</div>\n"
    }

    public func html() -> String {
        var body = ""
        body += "<div class=\"langs\"><button type=\"button\" data-set-lang=\"en\">English</button> <button type=\"button\" data-set-lang=\"zh\">中文</button></div>\n"
        body += "<h1>\(Self.both("Training report", "训练报告")) <span class=\"mono small\">\(Markup.escape(title))</span></h1>\n"
        body += settingsSection()
        body += summarySection()
        body += lossSection()
        body += scheduleSection()
        body += stepNormSection()
        body += layerSection()
        body += timeLapseSection()
        let zh = openingLanguage.rawValue == "zh"
        return Self.page(title: (zh ? "训练报告 · " : "Training report · ") + title, language: openingLanguage, body: body)
    }

    /// A report page (one run's, or several side by side): the one skeleton with the report's
    /// style and script, opening in `language`.
    static func page(title: String, language: TextLanguage, body: String) -> String {
        let lang = language.rawValue
        var page = HTMLPage(title: title, heading: false)
        page.language = lang == "zh" ? "zh-CN" : "en"
        page.rootAttributes = [("data-lang", lang)]
        page.extraStyle = PageFiles.reportStyle
        page.script = PageFiles.reportScript
        page.raw(body)
        return page.render()
    }

    // MARK: - Words

    /// A setting as the number it was set to, at most 6 significant digits: the learning rate
    /// 0.001 / 10 kept as a Float prints "0.0001", not "0.000100000005".
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        var text = String(format: "%.6g", value)
        // "1e-05" → "1e-5"
        if let e = text.range(of: "e-0") { text.replaceSubrange(e, with: "e-") }
        if let e = text.range(of: "e+0") { text.replaceSubrange(e, with: "e") }
        return text
    }

    static func block(_ l: Int, _ chinese: Bool) -> String { chinese ? "第 \(l) 层" : "block \(l)" }

    static func baseline(_ name: String, _ chinese: Bool) -> String { VerdictText.baselineName(name, chinese: chinese) }

    // MARK: - Sections

    func settingsSection() -> String {
        var s = Self.heading("The run", "这次训练")
        guard let r = run else {
            return s + Self.note("\(RunFiles.descriptionName) is missing, so the settings are unknown.",
                                "缺少 \(RunFiles.descriptionName)，无法显示训练设置。")
        }
        func row(_ en: String, _ zh: String, _ valueEn: String, _ valueZh: String) -> String {
            "<tr><th>\(Self.both(en, zh))</th><td class=\"mono\">\(Self.both(valueEn, valueZh))</td></tr>"
        }
        s += "<table class=\"settings\">"
        s += row("text", "训练文本", "\(r.dataPath) · \(r.characters) characters, vocabulary \(r.config.vocabSize)",
                 "\(r.dataPath) · 共 \(r.characters) 个字符，词表 \(r.config.vocabSize) 个字符")
        // One row per group of TrainingSetting.all: every setting shows, a new one with no edit here.
        for group in TrainingSetting.Group.allCases {
            let settings = TrainingSetting.all.filter { $0.group == group }
            var en = settings.map { Self.words($0, $0.value(r.config, r.settings), chinese: false) }
            var zh = settings.map { Self.words($0, $0.value(r.config, r.settings), chinese: true) }
            if group == .model {
                en[en.count - 1] += " · \(r.parameterCount) parameters"
                zh[zh.count - 1] += " · 参数 \(r.parameterCount) 个"
            }
            if group == .learningRate {
                en.append("cosine decay")
                zh.append("余弦衰减")
            }
            let label = Self.label(group)
            s += row(label.en, label.zh, en.joined(separator: ", "), zh.joined(separator: "，"))
        }
        if let last = log.last {
            s += row("progress", "进度", "step \(last.step) of \(r.settings.steps)", "第 \(last.step) 步，共 \(r.settings.steps) 步")
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

    /// A setting's value in words. Numbers print as they were set (`number`); a setting this
    /// page has no words for (one added later) shows as the table words it (English) or as its
    /// field and value (Chinese: the field is a name).
    static func words(_ setting: TrainingSetting, _ value: SettingValue, chinese: Bool) -> String {
        let v: String
        if case .number(let x) = value { v = number(x) } else { v = setting.text(value) }
        if setting.field == "residual" {
            let on = value == .bool(true)
            return chinese ? (on ? "有残差连接（x = x + 分支）" : "无残差连接：每个块直接替换残差流（x = 分支）")
                           : setting.words(value) + (on ? " (x = x + branch)" : ": each block replaces the stream (x = branch)")
        }
        let english: [String: String] = [
            "learningRate": "peak \(v)", "minLearningRate": "final \(v)", "weightDecay": "weight decay \(v)",
            "beta1": "AdamW β1 \(v)", "beta2": "β2 \(v)", "epsilon": "ε \(v)", "gradClip": "gradient clip \(v)",
            "dropout": "dropout \(v)", "validationFraction": "validation fraction \(v)",
            "evalWindows": "train and validation each the mean of \(v) windows",
        ]
        let chineseWords: [String: String] = [
            "layerCount": "\(v) 层", "headCount": "每层 \(v) 个头", "modelWidth": "宽度 \(v)",
            "contextLength": "上下文 \(v) 个字符", "gelu": "GELU（\(v)）", "batchSize": "每批 \(v) 条", "steps": "共 \(v) 步",
            "learningRate": "最高 \(v)", "minLearningRate": "最后 \(v)", "warmupSteps": "预热 \(v) 步",
            "weightDecay": "权重衰减 \(v)", "beta1": "AdamW β1 \(v)", "beta2": "β2 \(v)", "epsilon": "ε \(v)",
            "gradClip": "梯度裁剪阈值 \(v)", "dropout": "随机失活 \(v)", "seed": "\(v)",
            "evalInterval": "每 \(v) 步评估一次", "evalWindows": "训练集和验证集各取 \(v) 个窗口求平均",
            "validationFraction": "验证集占 \(v)",
            "minutes": value == .number(0) ? "不限时间（步数由人定）" : "时间预算 \(v) 分钟（步数由预热测时选定）",
        ]
        if chinese { return chineseWords[setting.field] ?? "\(setting.field) \(v)" }
        // English: the table's own words, with a number Float printing made long
        // ("0.000100000005", the learning rate 0.001 / 10) shown as it was set.
        var words = setting.words(value)
        if case .number = value, setting.text(value).filter(\.isNumber).count > 7 {
            words = words.replacingOccurrences(of: setting.text(value), with: v)
        }
        _ = english
        return words
    }

    /// Every verdict in one place, flags first.
    func summarySection() -> String {
        let texts = verdictTexts
        guard !texts.isEmpty else { return "" }
        var s = Self.heading("What the records say", "从记录里读出来的结论")
        let flags = texts.filter { $0.level == .flag }
        s += flags.isEmpty
            ? Self.note("Nothing is flagged. Each chart below has its reading beside it, with the threshold used.",
                        "没有需要提醒的问题。下面每张图旁边都写着读出来的结论和所用的阈值。")
            : Self.note("\(flags.count) of the four checks flag a trouble; each is also beside its chart below.",
                        "四项检查中有 \(flags.count) 项发现了问题；下面对应的图旁边也写着。")
        let order: [Verdict.Level] = [.flag, .note, .ok]
        s += "<div class=\"summary\">"
        for level in order { for v in texts where v.level == level { s += Self.verdictBox(v) } }
        return s + "</div>\n"
    }

    func lossSection() -> String {
        var s = Self.heading("Loss", "损失")
        s += Self.note("Loss is how surprised the model is by the next character (nats per character; lower is better). At each evaluation the training and the validation loss are each the mean over the same number of windows, so they compare; the pale line is the loss of the one batch each step trained on. The dashed lines are counting models (n-grams) on the same validation text: the GPT should end below them.",
                       "损失表示模型看到下一个字符时有多“意外”（单位：每字符奈特，越低越好）。每次评估时，训练损失和验证损失都是对同样多个窗口求的平均，所以可以直接比较；浅色的线是每一步所训练的那一个批次的损失。虚线是在同一段验证文本上用计数方法（n 元模型）得到的基准，GPT 最后应当比它们更低。")
        guard !log.isEmpty else { return s + Self.note("No steps logged yet.", "还没有记录任何步。") }
        if let source = run?.lineage?.last { s += fineTuningNote(source) }
        let chart = Self.perLanguage { zh in
            var baselines = (run?.baselines ?? []).map { LineChart.ReferenceLine(label: Self.baseline($0.name, zh), y: $0.loss) }
            if let source = run?.lineage?.last {
                // Where fine-tuning began, next to where the source run ended on its own text.
                if let start = run?.startLoss { baselines.append(LineChart.ReferenceLine(label: zh ? "微调起点" : "fine-tuning start", y: start)) }
                if let end = source.validationLoss { baselines.append(LineChart.ReferenceLine(label: zh ? "源模型最终" : "source's final", y: end)) }
            }
            var plot = LossPlot(rows: log, baselines: baselines)
            plot.words = (zh ? LossPlot.Words.chinese : .english).measured(windows: run?.settings.evalWindows)
            plot.chartWidth = 520
            plot.chartHeight = 340
            return plot.svg()
        }
        return s + Self.withVerdict(chart, verdict("overfitting"))
    }

    /// One line for a fine-tuning run: the chain it came from and where it started.
    func fineTuningNote(_ source: RunDescription.Origin) -> String {
        let chain = (run?.lineage ?? []).map { "\($0.name) (step \($0.step))" }.joined(separator: " → ")
        let chainZh = (run?.lineage ?? []).map { "\($0.name)（第 \($0.step) 步）" }.joined(separator: " → ")
        let ended = source.validationLoss.map { String(format: "%.4f", $0) } ?? "?"
        let start = run?.startLoss.map { String(format: "%.4f", $0) } ?? "?"
        return Self.note("Fine-tuned from \(chain). The source run ended at val loss \(ended) on its own text; on this text the model started at \(start).",
                         "本次是微调，起点是 \(chainZh)。源模型在它自己的文本上最后的验证损失是 \(ended)；在这份新文本上，起步时的验证损失是 \(start)。")
    }

    func scheduleSection() -> String {
        var s = Self.heading("Learning rate", "学习率")
        s += Self.note("The step size of θ ← θ − lr·∇: a linear warmup, then a cosine decay to the minimum.",
                       "更新 θ ← θ − lr·∇ 里的步长 lr：先线性预热，再按余弦曲线降到最小值。")
        guard let r = run, !r.schedule.isEmpty else { return s }
        let points = r.schedule.enumerated().map { (x: Double($0.offset * r.scheduleStride), y: $0.element) }
        return s + Self.perLanguage { zh in
            var series = [LineChart.Series(name: zh ? "学习率" : "lr", points: points, colour: ChartColours.series(0))]
            if let last = log.last {
                let index = min(r.schedule.count - 1, max(0, (last.step - 1) / r.scheduleStride))
                series.append(LineChart.Series(name: zh ? "当前" : "now", points: [(Double(last.step), r.schedule[index])],
                                               colour: ChartColours.series(3), drawsLine: false, drawsMarkers: true))
            }
            var chart = LineChart(xTitle: zh ? "步数" : "step", yTitle: zh ? "学习率" : "learning rate", series: series)
            chart.emptyText = zh ? "还没有数据" : "no data yet"
            chart.width = 520
            chart.height = 260
            chart.includesZero = true
            return chart.svg()
        } + "\n"
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
        let chart = Self.perLanguage { zh in
            var series = [LineChart.Series(name: "‖∇‖", points: all, colour: ChartColours.series(0))]
            if !clipped.isEmpty {
                series.append(LineChart.Series(name: zh ? "被裁剪" : "clipped", points: clipped, colour: ChartColours.series(3),
                                               drawsLine: false, drawsMarkers: true))
            }
            var chart = LineChart(xTitle: zh ? "步数" : "step", yTitle: zh ? "梯度范数" : "gradient norm", series: series)
            if let clip = health.last?.clipThreshold, clip > 0 { chart.referenceLines = [.init(label: zh ? "裁剪阈值" : "clip", y: clip)] }
            chart.width = 640
            chart.height = 280
            chart.includesZero = true
            return chart.svg()
        }
        return s + Self.withVerdict(chart, verdict("clipping"))
    }

    func layerSection() -> String {
        var s = Self.heading("Gradients, updates and the residual stream per block", "每一层的梯度、更新量与残差流")
        guard let first = health.first else { return s + Self.note("No evaluation yet.", "还没有评估。") }
        let L = first.layers.count
        let columns = health.map { String($0.step) }
        func grid(_ value: (GradientHealthRecord, Int) -> Double, embeddings: (GradientHealthRecord) -> Double) -> [[Double?]] {
            (0..<L).reversed().map { l in health.map { $0.layers.count == L ? log10(value($0, l)) : nil } }
                + [health.map { log10(embeddings($0)) }]
        }
        func heatmap(_ values: [[Double?]], what: @escaping (Bool) -> String, zh: Bool) -> Heatmap {
            // Top block first, as the model is usually drawn; embeddings at the bottom.
            let rows = (0..<L).reversed().map { Self.block($0, zh) } + [zh ? "嵌入" : "embeddings"]
            var h = Heatmap(rowLabels: rows, columnLabels: columns.count > 40 ? columns.map { _ in "" } : columns,
                            values: values)
            h.labelsAreCharacters = false
            h.cellSize = max(10, min(40, 560 / Double(max(1, columns.count))))
            h.rowTitle = nil
            h.columnTitle = zh ? "步数" : "step"
            let finite = values.flatMap { $0.compactMap { $0 } }.filter(\.isFinite)
            if let lo = finite.min(), let hi = finite.max() { h.valueRange = lo...max(hi, lo + 1e-9) }
            h.describeCell = { i, j, v in
                zh ? "\(rows[i])，第 \(columns[j]) 步：\(what(true)) \(Markup.fixed(pow10(v), 6))（log₁₀ 为 \(Markup.fixed(v, 2))）"
                   : "\(rows[i]), step \(columns[j]): \(what(false)) \(Markup.fixed(pow10(v), 6)) (log₁₀ \(Markup.fixed(v, 2)))"
            }
            return h
        }
        let gradients = grid({ $0.layers[$1].gradNorm }, embeddings: { $0.kindGradNorms["embeddings"] ?? .nan })
        s += "<h3>\(Self.both("Gradient norm per block (log₁₀)", "每层梯度范数（取 log₁₀）"))</h3>"
        s += Self.note("Darker is a larger gradient. The chain rule carries the gradient from the loss at the top down through every block; if the lower rows fade, the lower blocks are learning less (vanishing gradients).",
                       "颜色越深，梯度越大。链式法则把梯度从顶部的损失一层层往下传；如果下面几行越来越淡，说明底层学得越来越少（梯度消失）。")
        s += Self.withVerdict(Self.perLanguage { zh in heatmap(gradients, what: { $0 ? "梯度范数" : "gradient norm" }, zh: zh).svg() },
                              verdict("vanishing-gradient"))
        let updates = grid({ $0.layers[$1].updateRatio }, embeddings: { $0.embeddingUpdateRatio })
        s += "<h3>\(Self.both("Update-to-weight ratio per block (log₁₀)", "每层更新量与权重之比（取 log₁₀）"))</h3>"
        s += Self.note("‖lr · step‖ / ‖θ‖ for the last step before each evaluation. Around 10⁻³ (−3) is the usual healthy size; far above, training is unstable; far below, the block hardly moves.",
                       "每次评估前最后一步的 ‖更新量‖ / ‖权重‖。一般在 10⁻³（即 −3）左右比较健康；远大于它训练会不稳，远小于它这一层几乎不动。")
        s += Self.withVerdict(Self.perLanguage { zh in heatmap(updates, what: { $0 ? "更新量/权重" : "update/weight" }, zh: zh).svg() },
                              verdict("learning-rate"))

        let names: [(ParameterKind, String, String)] = [(.attention, "attention", "注意力"), (.mlp, "MLP", "前馈层"),
                                                        (.layerNorm, "LayerNorm", "层归一化"), (.embeddings, "embeddings", "嵌入")]
        let charts = Self.perLanguage { zh in
            var kinds: [LineChart.Series] = []
            for (index, (kind, en, chinese)) in names.enumerated() {
                kinds.append(LineChart.Series(name: zh ? chinese : en,
                                              points: health.map { (Double($0.step), log10($0.kindGradNorms[kind.rawValue] ?? .nan)) },
                                              colour: ChartColours.series(index), drawsLine: true, drawsMarkers: health.count <= 40))
            }
            var byKind = LineChart(xTitle: zh ? "步数" : "step", yTitle: zh ? "梯度范数（log₁₀）" : "log₁₀ gradient norm", series: kinds)
            byKind.width = 520
            byKind.height = 300
            var residual: [LineChart.Series] = [
                LineChart.Series(name: zh ? "嵌入" : "embeddings", points: health.map { (Double($0.step), $0.embeddingRMS) }, colour: ChartColours.series(7))]
            for l in 0..<L {
                residual.append(LineChart.Series(name: Self.block(l, zh),
                                                 points: health.compactMap { $0.layers.count == L ? (Double($0.step), $0.layers[l].residualRMS) : nil },
                                                 colour: ChartColours.sequential(0.3 + 0.7 * Double(l + 1) / Double(L))))
            }
            var stream = LineChart(xTitle: zh ? "步数" : "step", yTitle: zh ? "残差流的均方根" : "RMS of the residual stream", series: residual)
            stream.width = 520
            stream.height = 300 + 22 * Double(max(0, (L + 1) / 5))
            stream.includesZero = true
            return "<div class=\"row\"><div><h3>\(zh ? "按参数种类的梯度范数" : "Gradient norm by kind of parameter")</h3>"
                + byKind.svg() + "</div><div><h3>\(zh ? "每层之后残差流的大小" : "The residual stream after each block")</h3>"
                + stream.svg() + "</div></div>"
        }
        s += charts + "\n"
        s += Self.note("Right: the root-mean-square size of the vector each position carries after every block, on fixed validation windows.",
                       "右图：在固定的验证窗口上，每个位置的向量经过每一层后的均方根大小。")
        return s
    }

    /// Generated text for a table cell: as it is, or, when it holds nothing visible (only
    /// spaces and line breaks), with its whitespace shown as symbols.
    static func sampleCell(_ text: String) -> String {
        if text.unicodeScalars.contains(where: { !$0.properties.isWhitespace && $0.properties.generalCategory != .format }) {
            return "<td class=\"text\" data-verbatim=\"yes\">\(Markup.escape(Markup.visibleKeepingLines(text)))</td>"
        }
        return "<td class=\"text blank\">\(Markup.escape(Markup.visible(text))) \(both("(whitespace only)", "（全是空白）"))</td>"
    }

    func timeLapseSection() -> String {
        var s = Self.heading("Time-lapse", "延时摄影：模型怎样学会写字")
        s += Self.note("At each evaluation the model continues the same probe: greedily (always the most likely character) and by sampling at temperature 1. Read top to bottom to watch noise turn into words.",
                       "每次评估时，模型都接着同一段提示往下写：一种是贪心（每次都选最可能的字符），一种是在温度 1 下随机抽样。从上往下读，可以看到乱码怎样慢慢变成词语。")
        guard let probe = timeLapse.first?.probe else { return s + Self.note("No evaluation yet.", "还没有评估。") }
        // The model sees only the last context-length characters of a longer probe: show those.
        let T = run?.config.contextLength ?? Int.max
        let scalars = Array(probe.unicodeScalars)
        var shown = probe
        if scalars.count > T {
            var tail = String.UnicodeScalarView()
            tail.append(contentsOf: scalars.suffix(T))
            shown = "…" + String(tail)
        }
        s += "<p>\(Self.both("Probe:", "提示：")) <span class=\"mono probe\" data-verbatim=\"yes\">\(Markup.escape(Markup.visibleKeepingLines(shown)))</span></p>"
        if scalars.count > T {
            s += Self.note("The probe has \(scalars.count) characters; the model sees only the last \(T) (its context length), so only those are shown.",
                           "提示共有 \(scalars.count) 个字符，模型只看得到最后 \(T) 个（它的上下文长度），所以这里只显示这些。")
        }
        s += "<table class=\"lapse\"><tr><th>\(Self.both("step", "步数"))</th><th>\(Self.both("greedy (T = 0)", "贪心（T = 0）"))</th><th>\(Self.both("sampled (T = 1)", "抽样（T = 1）"))</th><th>\(Self.both("next character", "下一个字符的概率"))</th></tr>"
        for r in timeLapse {
            let next = r.next.prefix(5).map { "\(Markup.visible($0.character)) \(Markup.fixed($0.probability * 100, 1))%" }.joined(separator: "  ")
            s += "<tr><td class=\"num\">\(r.step)</td>\(Self.sampleCell(r.greedy))\(Self.sampleCell(r.sampled))<td class=\"mono\" data-verbatim=\"yes\">\(Markup.escape(next))</td></tr>"
        }
        return s + "</table>\n"
    }
}

/// log₁₀, with −∞ for zero (drawn as "no data").
private func log10(_ x: Double) -> Double { x > 0 ? Foundation.log10(x) : -.infinity }
private func pow10(_ x: Double) -> Double { pow(10, x) }
