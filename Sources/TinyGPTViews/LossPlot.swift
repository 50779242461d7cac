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
        let train = rows.map { (x: x($0), y: $0.trainLoss) }
        let validation = rows.compactMap { row in row.validationLoss.map { (x: x(row), y: $0) } }
        var series = [LineChart.Series(name: "train", points: train, colour: ChartColours.series(0))]
        if !validation.isEmpty {
            series.append(LineChart.Series(name: "validation", points: validation, colour: ChartColours.series(1),
                                           drawsLine: true, drawsMarkers: validation.count <= 60))
        }
        var chart = LineChart(title: title, xTitle: xTitle, yTitle: "loss (nats per character)", series: series)
        chart.referenceLines = baselines
        chart.width = chartWidth
        chart.height = chartHeight
        return chart
    }

    /// The plot as an `<svg>` element for embedding in a page.
    public func svg() -> String {
        let unit = Self.timeUnit(forSeconds: rows.map(\.elapsedSeconds).max() ?? 0)
        let byStep = chart(title: "Loss by step", xTitle: "step") { Double($0.step) }
        let byTime = chart(title: "Loss by wall time", xTitle: "elapsed (\(unit.name))") { $0.elapsedSeconds / unit.divisor }
        let top: Double = title == nil ? 0 : 30
        var w = SVGWriter()
        w.rect(x: 0, y: 0, width: 2 * chartWidth, height: chartHeight + top, fill: "#fff")
        if let title { w.text(title, x: 8, y: 21, size: 16, weight: "600") }
        w.raw(byStep.svg(x: 0, y: top))
        w.raw(byTime.svg(x: chartWidth, y: top))
        return w.element(width: 2 * chartWidth, height: chartHeight + top, label: title ?? "Training loss")
    }

    /// The plot as a standalone `.svg` file.
    public func document() -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg() + "\n"
    }
}
