// How much memory a training run of a given shape needs, checked before anything is
// allocated, so a shape too big for the computer is a clear error and not a failed allocation
// (or an Int overflow in the activation sizes).

import Foundation

/// A rough upper bound on the memory a training run allocates.
public enum MemoryEstimate {
    /// Bytes for parameters, gradients, AdamW's two moments, a checkpoint's bytes and arrays
    /// while resuming (ten floats per parameter), and one batch's activations. Both counts come
    /// from the layout tables (ParameterLayout, GPT's activation table); the activations are
    /// counted in Double, so an absurd shape cannot overflow. `config` must be valid.
    public static func trainingBytes(config: GPTConfig, batchSize: Int, dropout: Bool) -> Double {
        let parameters = Double(ParameterLayout(config).totalCount)
        let activations = GPT.activationFloatCount(config: config, B: batchSize, T: config.contextLength,
                                                   dropout: dropout, as: Double.self)
        return 4 * (10 * parameters + activations)
    }

    /// Throws a usage error when a run of this shape would need more memory than the computer has.
    public static func check(config: GPTConfig, batchSize: Int, dropout: Bool) throws {
        let needed = trainingBytes(config: config, batchSize: batchSize, dropout: dropout)
        let available = Double(Platform.physicalMemory)
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
