// A horizontal bar chart as SVG: one labelled bar per category, its value printed at the end.
// Used for next-character probabilities, where labels are single characters.

import TinyGPT

/// Horizontal bars on a linear scale from 0 to `maxValue`.
public struct BarChart {
    public struct Bar {
        public var label: String
        public var value: Double
        /// Shown on hover; defaults to "label: value".
        public var tooltip: String?

        public init(label: String, value: Double, tooltip: String? = nil) {
            self.label = label
            self.value = value
            self.tooltip = tooltip
        }
    }

    public var title: String?
    public var bars: [Bar]
    /// The value a full-length bar stands for; the largest value when nil. Give the same
    /// value to charts shown side by side so their bars compare.
    public var maxValue: Double?
    /// Total width in pixels.
    public var width: Double = 300
    public var barHeight: Double = 18
    /// Decimals of the printed values.
    public var decimals: Int = 2
    public var colour: String = ChartColours.series(0)
    /// Labels are characters: show whitespace visibly and use a larger font.
    public var labelsAreCharacters: Bool = false

    public init(title: String? = nil, bars: [Bar], maxValue: Double? = nil) {
        self.title = title
        self.bars = bars
        self.maxValue = maxValue
    }

    /// Height in pixels for the current bars.
    public var height: Double { top + Double(bars.count) * (barHeight + gap) + 6 }

    private var gap: Double { 4 }
    private var top: Double { title == nil ? 6 : 28 }
    private var labelFontSize: Double { labelsAreCharacters ? 15 : 12 }

    private func shownLabel(_ bar: Bar) -> String {
        labelsAreCharacters ? Markup.visible(bar.label) : bar.label
    }

    /// The chart as an `<svg>` element for embedding (nested at x, y when given).
    public func svg(x: Double? = nil, y: Double? = nil) -> String {
        var w = SVGWriter()
        let widest = bars.map { TerminalText.displayWidth(shownLabel($0)) }.max() ?? 1
        let labelWidth = min(width * 0.4, max(24, Double(widest) * labelFontSize * 0.62 + 12))
        let valueWidth = Double(decimals + 3) * 7.5 + 8
        let barArea = max(10, width - labelWidth - valueWidth)
        let finiteValues = bars.map(\.value).filter { $0.isFinite }
        let scale = maxValue ?? max(finiteValues.max() ?? 1, 1e-12)

        if let title {
            w.text(title, x: 4, y: 18, size: 13, weight: "600")
        }
        for (i, bar) in bars.enumerated() {
            let rowTop = top + Double(i) * (barHeight + gap)
            let middle = rowTop + barHeight / 2
            let tooltip = bar.tooltip ?? "\(shownLabel(bar)): \(Markup.fixed(bar.value, decimals + 2))"
            w.text(shownLabel(bar), x: labelWidth - 8, y: middle + labelFontSize * 0.36,
                   size: labelFontSize, anchor: "end", title: tooltip)
            w.rect(x: labelWidth, y: rowTop, width: barArea, height: barHeight, fill: "#f0f2f5")
            let fraction = bar.value.isFinite && scale > 0 ? min(1, max(0, bar.value / scale)) : 0
            w.rect(x: labelWidth, y: rowTop, width: barArea * fraction, height: barHeight, fill: colour, title: tooltip)
            w.text(Markup.fixed(bar.value, decimals), x: labelWidth + barArea + 6, y: middle + 4, size: 11, fill: "#444")
        }
        w.line(x1: labelWidth, y1: top - 2, x2: labelWidth, y2: height - 4, stroke: "#888")
        return w.element(width: width, height: height, x: x, y: y, label: title)
    }

    /// The chart as a standalone `.svg` file.
    public func document() -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg() + "\n"
    }
}
