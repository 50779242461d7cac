// An interval of real numbers, each end open or closed, possibly unbounded: the valid range of
// a floating-point setting, read by the settings table, its validation and the command line.

/// An interval of allowed floating-point values, each end open or closed, possibly unbounded.
public struct FloatRange: Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    public var includesLower: Bool
    public var includesUpper: Bool

    public init(lower: Double, upper: Double, includesLower: Bool, includesUpper: Bool) {
        precondition(lower <= upper, "FloatRange: lower bound above upper bound")
        self.lower = lower
        self.upper = upper
        self.includesLower = includesLower
        self.includesUpper = includesUpper
    }

    /// [lower, upper]
    public static func closed(_ lower: Double, _ upper: Double) -> FloatRange {
        FloatRange(lower: lower, upper: upper, includesLower: true, includesUpper: true)
    }
    /// [lower, upper)
    public static func halfOpen(_ lower: Double, _ upper: Double) -> FloatRange {
        FloatRange(lower: lower, upper: upper, includesLower: true, includesUpper: false)
    }
    /// (lower, upper]
    public static func openClosed(_ lower: Double, _ upper: Double) -> FloatRange {
        FloatRange(lower: lower, upper: upper, includesLower: false, includesUpper: true)
    }
    /// (lower, upper)
    public static func open(_ lower: Double, _ upper: Double) -> FloatRange {
        FloatRange(lower: lower, upper: upper, includesLower: false, includesUpper: false)
    }
    /// [lower, ∞)
    public static func atLeast(_ lower: Double) -> FloatRange {
        FloatRange(lower: lower, upper: .infinity, includesLower: true, includesUpper: false)
    }
    /// (lower, ∞)
    public static func greaterThan(_ lower: Double) -> FloatRange {
        FloatRange(lower: lower, upper: .infinity, includesLower: false, includesUpper: false)
    }
    /// Any finite value.
    public static let finite = FloatRange(lower: -.infinity, upper: .infinity, includesLower: false, includesUpper: false)

    public func contains(_ value: Double) -> Bool {
        (includesLower ? value >= lower : value > lower) && (includesUpper ? value <= upper : value < upper)
    }

    /// The range in words, for messages: "in [0, 1)", "at least 0", "greater than 0".
    public var phrase: String {
        switch (lower.isFinite, upper.isFinite) {
        case (true, true):
            return "in \(includesLower ? "[" : "(")\(FloatRange.number(lower)), \(FloatRange.number(upper))\(includesUpper ? "]" : ")")"
        case (true, false):
            return includesLower ? "at least \(FloatRange.number(lower))" : "greater than \(FloatRange.number(lower))"
        case (false, true):
            return includesUpper ? "at most \(FloatRange.number(upper))" : "less than \(FloatRange.number(upper))"
        case (false, false):
            return "finite"
        }
    }

    /// A number as a person writes it: "0", "10", "0.5", "1e-08".
    public static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
