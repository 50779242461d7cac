// How much memory a training run of a given shape needs, checked before anything is
// allocated, so a shape too big for the computer is a clear error and not a failed allocation
// (or an Int overflow in the activation sizes).

import Foundation

/// A rough upper bound on the memory a training run allocates.
public enum MemoryEstimate {
    /// Bytes for parameters, gradients, AdamW's two moments, a checkpoint's bytes and arrays
    /// while resuming, and one batch's activations (at least the sizes GPT.activationBytes adds
    /// up, computed in Double so an absurd shape cannot overflow).
    public static func trainingBytes(config c: GPTConfig, batchSize: Int, dropout: Bool) -> Double {
        let C = Double(c.modelWidth), T = Double(c.contextLength), V = Double(c.vocabSize)
        let L = Double(c.layerCount), NH = Double(c.headCount), B = Double(batchSize), N = B * T
        let parameters = V * C + T * C + L * (12 * C * C + 13 * C) + 2 * C
        let perLayer = N * (18 * C + 4) + B * NH * T * T + (dropout ? 2 * N * C : 0)
        let activations = N * (V + 16 * C + 6) + L * perLayer
        return 4 * (10 * parameters + activations)
    }

    /// Throws a usage error when a run of this shape would need more memory than the computer has.
    public static func check(config: GPTConfig, batchSize: Int, dropout: Bool) throws {
        let needed = trainingBytes(config: config, batchSize: batchSize, dropout: dropout)
        let available = Double(ProcessInfo.processInfo.physicalMemory)
        guard available > 0, needed > available else { return }
        throw TinyGPTError.usage("training this shape needs about \(formatBytes(needed)) of memory but this computer has \(formatBytes(available)); use a smaller `modelWidth`, `layerCount`, `contextLength` or `batchSize`")
    }

    static func formatBytes(_ bytes: Double) -> String {
        let units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"]
        var value = bytes, unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(Int(value)) bytes" : String(format: "%.1f %@", value, units[unit])
    }
}
