// A small SVG writer (rectangles, lines, text, polylines with tooltips) and the pieces every
// chart shares: the colour palette (Pages/theme.css), a sequential colour scale and "nice" axis ticks.
// Elements follow SVG 1.1; tick spacing follows Heckbert, "Nice numbers for graph labels"
// (Graphics Gems, 1990): steps of 1, 2 or 5 times a power of ten.

import Foundation
import TinyGPT

/// Accumulates SVG elements as text; `element(width:height:)` wraps them in an `<svg>`.
public struct SVGWriter {
    public private(set) var body = ""

    public init() {}

    /// Appends raw markup (already escaped), e.g. another chart's `<svg>` element.
    public mutating func raw(_ markup: String) {
        body += markup
        body += "\n"
    }

    public mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String,
                              stroke: String? = nil, title: String? = nil, extra: String = "") {
        var s = "<rect x=\"\(c(x))\" y=\"\(c(y))\" width=\"\(c(max(0, width)))\" height=\"\(c(max(0, height)))\" fill=\"\(fill)\""
        if let stroke { s += " stroke=\"\(stroke)\"" }
        if !extra.isEmpty { s += " " + extra }
        if let title { s += "><title>\(Markup.escape(title))</title></rect>" } else { s += "/>" }
        raw(s)
    }

    public mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String,
                              width: Double = 1, dashed: Bool = false) {
        var s = "<line x1=\"\(c(x1))\" y1=\"\(c(y1))\" x2=\"\(c(x2))\" y2=\"\(c(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(c(width))\""
        if dashed { s += " stroke-dasharray=\"5 4\"" }
        raw(s + "/>")
    }

    /// Text at (x, y); `anchor` is start, middle or end. The text is escaped here.
    public mutating func text(_ content: String, x: Double, y: Double, size: Double = 12,
                              anchor: String = "start", fill: String = "#222", weight: String? = nil,
                              rotate: Double? = nil, title: String? = nil) {
        var s = "<text x=\"\(c(x))\" y=\"\(c(y))\" font-size=\"\(c(size))\" text-anchor=\"\(anchor)\" fill=\"\(fill)\""
        if let weight { s += " font-weight=\"\(weight)\"" }
        if let rotate { s += " transform=\"rotate(\(c(rotate)) \(c(x)) \(c(y)))\"" }
        s += ">"
        if let title { s += "<title>\(Markup.escape(title))</title>" }
        raw(s + Markup.escape(content) + "</text>")
    }

    public mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, width: Double = 1.8,
                                  dashed: Bool = false) {
        guard points.count >= 2 else { return }
        let list = points.map { "\(c($0.x)),\(c($0.y))" }.joined(separator: " ")
        var s = "<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(c(width))\" stroke-linejoin=\"round\""
        if dashed { s += " stroke-dasharray=\"5 4\"" }
        raw(s + "/>")
    }

    public mutating func circle(x: Double, y: Double, radius: Double, fill: String, title: String? = nil) {
        let s = "<circle cx=\"\(c(x))\" cy=\"\(c(y))\" r=\"\(c(radius))\" fill=\"\(fill)\" stroke=\"#fff\" stroke-width=\"1\""
        if let title { raw(s + "><title>\(Markup.escape(title))</title></circle>") } else { raw(s + "/>") }
    }

    /// An `<svg>` element holding everything written so far. With `x`/`y` it can be nested
    /// inside another SVG; the outermost element carries the namespace and the font list.
    public func element(width: Double, height: Double, x: Double? = nil, y: Double? = nil,
                        label: String? = nil) -> String {
        var s = "<svg"
        if let x, let y {
            s += " x=\"\(c(x))\" y=\"\(c(y))\""
        } else {
            s += " xmlns=\"http://www.w3.org/2000/svg\" font-family=\"\(Markup.sansFonts)\""
        }
        s += " width=\"\(c(width))\" height=\"\(c(height))\" viewBox=\"0 0 \(c(width)) \(c(height))\""
        if let label { s += " role=\"img\" aria-label=\"\(Markup.escape(label))\"" }
        return s + ">\n" + body + "</svg>"
    }

    /// A standalone `.svg` file: XML declaration (UTF-8) and the outermost `<svg>` element.
    public func document(width: Double, height: Double, label: String? = nil) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + element(width: width, height: height, label: label) + "\n"
    }

    private func c(_ value: Double) -> String { Markup.coordinate(value) }
}

// MARK: - Colours

/// Colours shared by the charts: the palette of Pages/theme.css, which the pages' CSS and
/// script read too.
public enum ChartColours {
    /// Distinguishable line colours, used in order for series 0, 1, 2, … (`--series-N`).
    public static let palette = Theme.numbered("series-")

    public static func series(_ index: Int) -> String { palette[index % palette.count] }

    /// The sequential scale's stops (`--scale-N`) as (red, green, blue).
    static let stops: [(Double, Double, Double)] = Theme.numbered("scale-").map { hex in
        let digits = Array(hex.utf8.dropFirst())
        precondition(hex.hasPrefix("#") && digits.count == 6, "theme.css: a scale colour is #rrggbb")
        func channel(_ i: Int) -> Double { Double(Int(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16)!) }
        return (channel(0), channel(2), channel(4))
    }

    /// A sequential white-to-dark-blue scale: 0 → almost white, 1 → dark blue.
    public static func sequential(_ t: Double) -> String {
        let clamped = t.isFinite ? min(1, max(0, t)) : 0
        let position = clamped * Double(stops.count - 1)
        let i = min(stops.count - 2, Int(position))
        let f = position - Double(i)
        let a = stops[i], b = stops[i + 1]
        func mix(_ u: Double, _ v: Double) -> Int { Int((u + (v - u) * f).rounded()) }
        return String(format: "#%02x%02x%02x", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }
}

// MARK: - Axis ticks

/// Tick positions for a linear axis.
public struct AxisTicks: Equatable {
    /// Axis range after rounding out to whole steps.
    public var lower: Double
    public var upper: Double
    public var step: Double
    /// Tick values from `lower` to `upper`.
    public var values: [Double]
    /// Decimals needed to print a tick without losing its value.
    public var decimals: Int

    /// About `target` ticks covering `low...high` (swapped if reversed; widened if empty).
    public init(low: Double, high: Double, target: Int = 6) {
        var lo = low.isFinite ? low : 0, hi = high.isFinite ? high : 1
        if lo > hi { swap(&lo, &hi) }
        if hi - lo < 1e-12 {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad
            hi += pad
        }
        let step = AxisTicks.niceNumber((hi - lo) / Double(max(1, target - 1)))
        lower = (lo / step).rounded(.down) * step
        upper = (hi / step).rounded(.up) * step
        self.step = step
        var ticks: [Double] = []
        var k = 0
        while lower + Double(k) * step <= upper + step * 1e-9 {
            ticks.append(lower + Double(k) * step)
            k += 1
        }
        values = ticks
        decimals = max(0, -Int(floor(log10(step) + 1e-9)))
    }

    /// The number of the form 1, 2 or 5 × 10^k nearest to `x` (Heckbert's rounding thresholds).
    static func niceNumber(_ x: Double) -> Double {
        let exponent = floor(log10(x))
        let fraction = x / pow(10, exponent)
        let nice: Double = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        return nice * pow(10, exponent)
    }

    /// `value` printed with this axis's decimals.
    public func label(_ value: Double) -> String { Markup.fixed(value, decimals) }
}
