// A line chart as SVG: several series on linear x and y axes with ticks, grid lines, axis
// titles, a legend, and optional dashed horizontal reference lines (e.g. baseline losses).

import TinyGPT

/// Series of (x, y) points drawn on shared linear axes.
public struct LineChart {
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// A fixed colour; the palette colour for its position when nil.
        public var colour: String?
        public var drawsLine: Bool
        public var drawsMarkers: Bool
        /// A dashed line (e.g. the training loss beside a solid validation loss of the same run).
        public var dashed: Bool = false

        public init(name: String, points: [(x: Double, y: Double)], colour: String? = nil,
                    drawsLine: Bool = true, drawsMarkers: Bool = false, dashed: Bool = false) {
            self.name = name
            self.points = points
            self.colour = colour
            self.drawsLine = drawsLine
            self.drawsMarkers = drawsMarkers
            self.dashed = dashed
        }
    }

    /// A dashed horizontal line across the plot at `y`, labelled at its right end.
    public struct ReferenceLine {
        public var label: String
        public var y: Double

        public init(label: String, y: Double) {
            self.label = label
            self.y = y
        }
    }

    public var title: String?
    public var xTitle: String
    public var yTitle: String
    public var series: [Series]
    public var referenceLines: [ReferenceLine] = []
    public var width: Double = 600
    public var height: Double = 360
    /// Force the y axis to include 0.
    public var includesZero: Bool = false
    /// Shown in the empty plot when no series has a point.
    public var emptyText = "no data yet"
    /// Legend entries per row before the legend wraps to another row.
    public var legendWrapWidth: Double? = nil

    public init(title: String? = nil, xTitle: String, yTitle: String, series: [Series]) {
        self.title = title
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.series = series
    }

    /// The chart as an `<svg>` element for embedding (nested at x, y when given).
    public func svg(x: Double? = nil, y: Double? = nil) -> String {
        var w = SVGWriter()
        let finite = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let left = 62.0, right = referenceLines.isEmpty ? 20.0 : 110.0
        let top = title == nil ? 16.0 : 36.0
        let legendLayout = legendPositions(left: left)
        let legendRows = series.isEmpty ? 0 : (legendLayout.map(\.row).max() ?? 0) + 1
        let bottom = 48.0 + Double(legendRows) * 22
        let plotWidth = max(40, width - left - right), plotHeight = max(40, height - top - bottom)

        if let title { w.text(title, x: left, y: 22, size: 14, weight: "600") }
        w.rect(x: left, y: top, width: plotWidth, height: plotHeight, fill: "#fbfbfc", stroke: "#ccc")
        guard !finite.isEmpty else {
            w.text(emptyText, x: left + plotWidth / 2, y: top + plotHeight / 2, size: 13, anchor: "middle", fill: "#888")
            return w.element(width: width, height: height, x: x, y: y, label: title)
        }

        var yValues = finite.map(\.y) + referenceLines.map(\.y).filter(\.isFinite)
        if includesZero { yValues.append(0) }
        let xTicks = AxisTicks(low: finite.map(\.x).min() ?? 0, high: finite.map(\.x).max() ?? 1)
        let yTicks = AxisTicks(low: yValues.min() ?? 0, high: yValues.max() ?? 1)
        func px(_ v: Double) -> Double { left + (v - xTicks.lower) / (xTicks.upper - xTicks.lower) * plotWidth }
        func py(_ v: Double) -> Double { top + plotHeight - (v - yTicks.lower) / (yTicks.upper - yTicks.lower) * plotHeight }

        // Grid and ticks.
        for t in yTicks.values {
            w.line(x1: left, y1: py(t), x2: left + plotWidth, y2: py(t), stroke: "#e4e6ea")
            w.text(yTicks.label(t), x: left - 6, y: py(t) + 4, size: 11, anchor: "end", fill: "#555")
        }
        for t in xTicks.values {
            w.line(x1: px(t), y1: top, x2: px(t), y2: top + plotHeight, stroke: "#e4e6ea")
            w.line(x1: px(t), y1: top + plotHeight, x2: px(t), y2: top + plotHeight + 4, stroke: "#888")
            w.text(xTicks.label(t), x: px(t), y: top + plotHeight + 17, size: 11, anchor: "middle", fill: "#555")
        }
        w.line(x1: left, y1: top + plotHeight, x2: left + plotWidth, y2: top + plotHeight, stroke: "#888")
        w.line(x1: left, y1: top, x2: left, y2: top + plotHeight, stroke: "#888")
        w.text(xTitle, x: left + plotWidth / 2, y: top + plotHeight + 36, size: 12, anchor: "middle")
        w.text(yTitle, x: 16, y: top + plotHeight / 2, size: 12, anchor: "middle", rotate: -90)

        let lines = referenceLines.filter(\.y.isFinite)
        let labelY = Self.spreadLabels(lines.map { py($0.y) + 4 }, gap: 13)
        for (line, y) in zip(lines, labelY) {
            w.line(x1: left, y1: py(line.y), x2: left + plotWidth, y2: py(line.y), stroke: "#777", dashed: true)
            w.text("\(line.label) \(Markup.fixed(line.y, 2))", x: left + plotWidth + 5, y: y, size: 11,
                   fill: "#555", title: "\(line.label): \(Markup.fixed(line.y, 4))")
        }

        for (index, s) in series.enumerated() {
            let colour = s.colour ?? ChartColours.series(index)
            // A non-finite point breaks the line rather than dragging it off the chart.
            var run: [(x: Double, y: Double)] = []
            for p in s.points {
                if p.x.isFinite && p.y.isFinite {
                    run.append((px(p.x), py(p.y)))
                } else {
                    if s.drawsLine { w.polyline(run, stroke: colour, dashed: s.dashed) }
                    run.removeAll()
                }
            }
            if s.drawsLine { w.polyline(run, stroke: colour, dashed: s.dashed) }
            if s.drawsMarkers || (s.drawsLine && s.points.count == 1) {
                for p in s.points where p.x.isFinite && p.y.isFinite {
                    w.circle(x: px(p.x), y: py(p.y), radius: 3.5, fill: colour,
                             title: "\(s.name): \(xTitle) \(Markup.fixed(p.x, xTicks.decimals)), \(yTitle) \(Markup.fixed(p.y, 4))")
                }
            }
        }

        // Legend: rows under the x-axis title.
        for ((index, s), place) in zip(series.enumerated(), legendLayout) {
            let colour = s.colour ?? ChartColours.series(index)
            let legendX = place.x, legendY = height - 14 - Double(legendRows - 1 - place.row) * 22
            if s.drawsLine {
                w.line(x1: legendX, y1: legendY - 4, x2: legendX + 22, y2: legendY - 4, stroke: colour, width: 2.5, dashed: s.dashed)
            }
            if s.drawsMarkers { w.circle(x: legendX + 11, y: legendY - 4, radius: 3.5, fill: colour) }
            w.text(s.name, x: legendX + 28, y: legendY, size: 12)
        }
        return w.element(width: width, height: height, x: x, y: y, label: title)
    }

    /// Where each legend entry starts: left to right, wrapping when the next would pass the
    /// chart's right edge.
    private func legendPositions(left: Double) -> [(x: Double, row: Int)] {
        var x = left, row = 0, places: [(x: Double, row: Int)] = []
        let limit = legendWrapWidth ?? (width - 8)
        for s in series {
            let w = 40 + Double(TerminalText.displayWidth(s.name)) * 7
            if x > left && x + w - 12 > limit {
                x = left
                row += 1
            }
            places.append((x, row))
            x += w
        }
        return places
    }

    /// Label positions at least `gap` apart in the wishes' order, each at its wish or pushed
    /// down just enough (labels of close reference lines must not overlap).
    static func spreadLabels(_ wishes: [Double], gap: Double) -> [Double] {
        let order = wishes.indices.sorted { wishes[$0] < wishes[$1] }
        var placed = [Double](repeating: 0, count: wishes.count)
        var previous = -Double.infinity
        for i in order {
            placed[i] = max(wishes[i], previous + gap)
            previous = placed[i]
        }
        return placed
    }

    /// The chart as a standalone `.svg` file.
    public func document() -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg() + "\n"
    }
}
