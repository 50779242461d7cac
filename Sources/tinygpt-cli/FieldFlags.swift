// The one table from the library's setting names to the command line's flag words. Library
// errors name a setting by its Swift field in backticks ("`contextLength` must be between 1
// and 65536"); everything the executable writes to stderr passes through `flagWords`, which
// puts the flag a user types in each field's place ("--context must be between 1 and 65536").

enum FieldFlags {
    /// Field name (as in GPTConfig, TrainingConfig, SamplingSettings, RunOptions) → flag word.
    static let table: [(field: String, flag: String)] = [
        // GPTConfig
        ("contextLength", "--context"),
        ("layerCount", "--layers"),
        ("headCount", "--heads"),
        ("modelWidth", "--width"),
        ("gelu", "--gelu"),
        ("residual", "--no-residual"),
        // TrainingConfig
        ("batchSize", "--batch"),
        ("steps", "--steps"),
        ("learningRate", "--lr"),
        ("minLearningRate", "--min-lr"),
        ("warmupSteps", "--warmup"),
        ("weightDecay", "--weight-decay"),
        ("gradClip", "--grad-clip"),
        ("dropout", "--dropout"),
        ("seed", "--seed"),
        ("evalInterval", "--eval-every"),
        ("evalWindows", "--eval-windows"),
        // RunOptions
        ("saveEvery", "--save-every"),
        ("keep", "--keep"),
        ("onNonFinite", "--on-nan"),
        // SamplingSettings
        ("temperature", "--temperature"),
        ("topK", "--top-k"),
        ("topP", "--top-p"),
    ]

    private static let flagOfField: [String: String] = Dictionary(uniqueKeysWithValues: table.map { ($0.field, $0.flag) })

    /// `message` with every "`field`" of the table replaced by its flag word; other text,
    /// including backticked words the table lacks, is left as it is.
    static func flagWords(_ message: String) -> String {
        guard message.contains("`") else { return message }
        var out = ""
        var rest = Substring(message)
        while let open = rest.firstIndex(of: "`"),
              let close = rest[rest.index(after: open)...].firstIndex(of: "`") {
            out += rest[..<open]
            let afterOpen = rest.index(after: open)
            let name = String(rest[afterOpen..<close])
            if let flag = flagOfField[name] {
                out += flag
            } else {
                out += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return out
    }
}
