// Loss curves from the training log as one SVG: train and validation loss against step,
// and the same against wall-clock time, with optional dashed baseline levels (e.g. the
// n-gram baselines) so the curves have something to be compared with.

import TinyGPT

/// Two line charts side by side: loss vs step and loss vs elapsed time.
public struct LossPlot {
    public var rows: [TrainingLogRow]
    /// Horizontal reference levels in nats per character, e.g. ("bigram", 2.45).
    public var baselines: [LineChart.ReferenceLine]
    public var title: String?
    /// Size of each of the two charts.
    public var chartWidth: Double = 560
    public var chartHeight: Double = 360
    /// The words on the charts.
    public var words = Words.english

    /// Every word the plot draws, so that a page can draw it in another language.
    public struct Words: Sendable {
        public var byStep, byTime, step, loss, train, validation, batch, noData: String
        /// What the whole plot is, for readers that cannot see it (aria-label).
        public var plotLabel: String
        /// "elapsed (UNIT)" for the unit "s", "min" or "h".
        public var elapsed: @Sendable (String) -> String
        /// A legend name with the number of windows its loss is the mean of.
        public var meanOf: @Sendable (String, Int) -> String

        public static let english = Words(
            byStep: "Loss by step", byTime: "Loss by wall time", step: "step", loss: "loss (nats per character)",
            train: "train", validation: "validation", batch: "one batch", noData: "no data yet", plotLabel: "Training loss",
            elapsed: { "elapsed (\($0))" }, meanOf: { "\($0) (mean of \($1) windows)" })
        public static let chinese = Words(
            byStep: "损失随步数的变化", byTime: "损失随用时的变化", step: "步数", loss: "损失（每字符奈特）",
            train: "训练集", validation: "验证集", batch: "单个批次", noData: "还没有数据", plotLabel: "训练损失",
            elapsed: { ["s": "用时（秒）", "min": "用时（分钟）", "h": "用时（小时）"][$0] ?? "用时（\($0)）" },
            meanOf: { "\($0)（\($1) 个窗口的平均）" })

        /// Legend names that say how each loss was measured: "train (200 windows)".
        public func measured(windows: Int?) -> Words {
            guard let windows else { return self }
            var w = self
            w.train = meanOf(train, windows)
            w.validation = meanOf(validation, windows)
            return w
        }
    }

    public init(rows: [TrainingLogRow], baselines: [LineChart.ReferenceLine] = [], title: String? = nil) {
        self.rows = rows
        self.baselines = baselines
        self.title = title
    }

    /// Seconds, minutes or hours, whichever keeps the axis numbers readable.
    static func timeUnit(forSeconds seconds: Double) -> (name: String, divisor: Double) {
        seconds >= 3 * 3600 ? ("h", 3600) : seconds >= 180 ? ("min", 60) : ("s", 1)
    }

    private func chart(title: String, xTitle: String, x: (TrainingLogRow) -> Double) -> LineChart {
        let batch = rows.map { (x: x($0), y: $0.batchLoss) }
        let train = rows.compactMap { row in row.trainLoss.map { (x: x(row), y: $0) } }
        let validation = rows.compactMap { row in row.validationLoss.map { (x: x(row), y: $0) } }
        // An older log has batch losses only: they are then the training curve.
        var series = [LineChart.Series(name: train.isEmpty ? words.train : words.batch, points: batch,
                                       colour: train.isEmpty ? ChartColours.series(0) : "#9ecae1")]
        if !train.isEmpty {
            series.append(LineChart.Series(name: words.train, points: train, colour: ChartColours.series(0),
                                           drawsLine: true, drawsMarkers: train.count <= 60))
        }
        if !validation.isEmpty {
            series.append(LineChart.Series(name: words.validation, points: validation, colour: ChartColours.series(1),
                                           drawsLine: true, drawsMarkers: validation.count <= 60))
        }
        var chart = LineChart(title: title, xTitle: xTitle, yTitle: words.loss, series: series)
        chart.emptyText = words.noData
        chart.referenceLines = baselines
        chart.width = chartWidth
        chart.height = chartHeight
        return chart
    }

    /// The plot as an `<svg>` element for embedding in a page.
    public func svg() -> String {
        let unit = Self.timeUnit(forSeconds: rows.map(\.elapsedSeconds).max() ?? 0)
        let byStep = chart(title: words.byStep, xTitle: words.step) { Double($0.step) }
        let byTime = chart(title: words.byTime, xTitle: words.elapsed(unit.name)) { $0.elapsedSeconds / unit.divisor }
        let top: Double = title == nil ? 0 : 30
        var w = SVGWriter()
        w.rect(x: 0, y: 0, width: 2 * chartWidth, height: chartHeight + top, fill: "#fff")
        if let title { w.text(title, x: 8, y: 21, size: 16, weight: "600") }
        w.raw(byStep.svg(x: 0, y: top))
        w.raw(byTime.svg(x: chartWidth, y: top))
        return w.element(width: 2 * chartWidth, height: chartHeight + top, label: title ?? words.plotLabel)
    }

    /// The plot as a standalone `.svg` file.
    public func document() -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg() + "\n"
    }
}
