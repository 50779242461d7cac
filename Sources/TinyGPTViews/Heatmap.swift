// A heatmap as SVG: a matrix of coloured cells with row and column labels, a colour scale,
// and each cell's value in a <title> tooltip. Cells that do not apply (nil), such as future
// positions under a causal mask, are left grey.

import TinyGPT

/// A matrix drawn as coloured cells on a white-to-dark-blue scale.
public struct Heatmap {
    public var title: String?
    public var rowLabels: [String]
    public var columnLabels: [String]
    /// values[row][column]; nil marks a cell that does not apply.
    public var values: [[Double?]]
    /// Values mapped to the ends of the colour scale; 0...max(values) when nil.
    public var valueRange: ClosedRange<Double>?
    /// Side of one cell in pixels.
    public var cellSize: Double = 16
    /// What rows and columns stand for, written along the axes.
    public var rowTitle: String?
    public var columnTitle: String?
    /// Labels are characters: show whitespace visibly.
    public var labelsAreCharacters: Bool = true
    public var showsColourScale: Bool = true
    /// Tooltip text for the cell at (row, column) holding `value`; "row → column: value" when nil.
    public var describeCell: ((_ row: Int, _ column: Int, _ value: Double) -> String)?

    public init(title: String? = nil, rowLabels: [String], columnLabels: [String], values: [[Double?]]) {
        precondition(values.count == rowLabels.count, "one row of values per row label")
        precondition(values.allSatisfy { $0.count == columnLabels.count }, "one value per column label in every row")
        self.title = title
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.values = values
    }

    private var fontSize: Double { min(14, max(7, cellSize * 0.72)) }
    private func label(_ text: String) -> String { labelsAreCharacters ? Markup.visible(text) : text }

    private var layout: (left: Double, top: Double, gridWidth: Double, gridHeight: Double, width: Double, height: Double) {
        let widest = rowLabels.map { TerminalText.displayWidth(label($0)) }.max() ?? 1
        let left = (rowTitle == nil ? 6 : 24) + Double(widest) * fontSize * 0.62 + 8
        let top = (title == nil ? 4 : 26) + (columnTitle == nil ? 0 : 18) + fontSize + 8
        let gridWidth = Double(columnLabels.count) * cellSize
        let gridHeight = Double(rowLabels.count) * cellSize
        let scaleWidth = showsColourScale ? 64.0 : 8
        let width = max(left + gridWidth + scaleWidth, title.map { Double(TerminalText.displayWidth($0)) * 7.5 + 12 } ?? 0)
        let height = top + max(gridHeight, showsColourScale ? 80 : 0) + 8
        return (left, top, gridWidth, gridHeight, width, height)
    }

    public var width: Double { layout.width }
    public var height: Double { layout.height }

    /// The heatmap as an `<svg>` element for embedding (nested at x, y when given).
    public func svg(x: Double? = nil, y: Double? = nil) -> String {
        var w = SVGWriter()
        let (left, top, gridWidth, gridHeight, width, height) = layout
        let finite = values.flatMap { $0.compactMap { $0 } }.filter(\.isFinite)
        let range = valueRange ?? 0...max(finite.max() ?? 1, 1e-12)
        let span = max(range.upperBound - range.lowerBound, 1e-12)

        if let title { w.text(title, x: 4, y: 17, size: 13, weight: "600") }
        if let columnTitle {
            w.text(columnTitle, x: left + gridWidth / 2, y: (title == nil ? 4 : 26) + 12, size: 11, anchor: "middle", fill: "#555")
        }
        if let rowTitle {
            w.text(rowTitle, x: 12, y: top + gridHeight / 2, size: 11, anchor: "middle", fill: "#555", rotate: -90)
        }
        for (j, text) in columnLabels.enumerated() {
            w.text(label(text), x: left + (Double(j) + 0.5) * cellSize, y: top - 6, size: fontSize, anchor: "middle")
        }
        for (i, text) in rowLabels.enumerated() {
            w.text(label(text), x: left - 6, y: top + (Double(i) + 0.5) * cellSize + fontSize * 0.36, size: fontSize, anchor: "end")
        }

        w.rect(x: left, y: top, width: gridWidth, height: gridHeight, fill: "#eeeeee")
        for (i, row) in values.enumerated() {
            for (j, value) in row.enumerated() {
                guard let value else { continue }
                let t = value.isFinite ? (value - range.lowerBound) / span : 0
                let tooltip = describeCell?(i, j, value)
                    ?? "\(label(rowLabels[i])) → \(label(columnLabels[j])): \(Markup.fixed(value, 3))"
                w.rect(x: left + Double(j) * cellSize, y: top + Double(i) * cellSize, width: cellSize, height: cellSize,
                       fill: value.isFinite ? ChartColours.sequential(t) : "#ff00ff", title: tooltip)
            }
        }
        w.rect(x: left, y: top, width: gridWidth, height: gridHeight, fill: "none", stroke: "#999")

        if showsColourScale {
            let barX = left + gridWidth + 14, barHeight = max(80, gridHeight), steps = 24
            for k in 0..<steps {
                let t = 1 - (Double(k) + 0.5) / Double(steps)
                w.rect(x: barX, y: top + Double(k) * barHeight / Double(steps), width: 12,
                       height: barHeight / Double(steps) + 0.5, fill: ChartColours.sequential(t))
            }
            w.rect(x: barX, y: top, width: 12, height: barHeight, fill: "none", stroke: "#999")
            for (value, fraction) in [(range.upperBound, 0.0), ((range.lowerBound + range.upperBound) / 2, 0.5), (range.lowerBound, 1.0)] {
                w.text(Markup.fixed(value, 2), x: barX + 16, y: top + fraction * barHeight + 4, size: 10, fill: "#555")
            }
        }
        return w.element(width: width, height: height, x: x, y: y, label: title)
    }

    /// The heatmap as a standalone `.svg` file.
    public func document() -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg() + "\n"
    }
}
