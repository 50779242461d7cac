// Where a model came from: the models a fine-tuning run started from, oldest first. A
// checkpoint stores them (IO/Checkpoint+Format.swift); a Trainer carries them on.

/// One model a fine-tuning run started from.
public struct LineageEntry: Equatable, Sendable {
    /// The source file's name with its folder (`fables/best.ckpt`), never a longer path.
    public var name: String
    /// CRC-32 of the source file's bytes, so a later reader can tell whether a file is that one.
    public var fileDigest: UInt32
    /// The source run's optimizer step (0 for weights only, e.g. an imported model).
    public var step: Int
    /// The source run's last measured validation loss, on its own text; NaN when unknown.
    public var validationLoss: Float
    /// Characters the fine-tuning text added to the source's vocabulary.
    public var addedCharacters: Int

    public init(name: String, fileDigest: UInt32, step: Int, validationLoss: Float, addedCharacters: Int) {
        self.name = name
        self.fileDigest = fileDigest
        self.step = step
        self.validationLoss = validationLoss
        self.addedCharacters = addedCharacters
    }

    /// NaN losses compare equal, so a decoded entry equals the one encoded.
    public static func == (a: LineageEntry, b: LineageEntry) -> Bool {
        a.name == b.name && a.fileDigest == b.fileDigest && a.step == b.step && a.addedCharacters == b.addedCharacters
            && a.validationLoss.bitPattern == b.validationLoss.bitPattern
    }

    /// "fables/best.ckpt (step 600, val loss 1.8123, CRC 1a2b3c4d, +5 characters)".
    public var summary: String {
        var parts = ["step \(step)"]
        if validationLoss.isFinite { parts.append("val loss \(formatLoss(validationLoss))") }
        parts.append("CRC \(hex8(fileDigest))")
        if addedCharacters > 0 { parts.append("+\(addedCharacters) character\(addedCharacters == 1 ? "" : "s")") }
        return "\(name) (\(parts.joined(separator: ", ")))"
    }

    private func formatLoss(_ x: Float) -> String {
        let scaled = (Double(x) * 10_000).rounded() / 10_000
        var text = "\(scaled)"
        if let dot = text.firstIndex(of: ".") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            if decimals < 4 { text += String(repeating: "0", count: 4 - decimals) }
        }
        return text
    }

    private func hex8(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
