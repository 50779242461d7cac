// A checkpoint's contents as encoding and its checks read them: the weights and optimizer
// moments as views of memory owned elsewhere (a Checkpoint's arrays, or a live Trainer's
// buffers), so a running trainer saves without copying them. Checkpoint+Format.swift turns
// these contents into bytes.

/// What a checkpoint file holds, with its float arrays borrowed.
struct CheckpointContents {
    var config: GPTConfig
    /// The tokenizer's scalars in id order.
    var vocabulary: [UInt32]
    /// All parameters in `ParameterLayout(config)` order.
    var parameters: UnsafeBufferPointer<Float>
    /// Nil for a weights-only checkpoint.
    var training: TrainingState<UnsafeBufferPointer<Float>>?
    /// The models this one was fine-tuned from, oldest first.
    var lineage: [LineageEntry]
    /// The version recorded as the writer.
    var writtenBy: String
}

extension Checkpoint {
    /// Calls `body` with this checkpoint's contents, viewing its arrays in place. A format-1
    /// checkpoint (no writer recorded) is written as written by this version.
    func withContents<R>(_ body: (CheckpointContents) throws -> R) rethrows -> R {
        let writer = writtenBy ?? TinyGPTVersion.string
        return try parameters.withUnsafeBufferPointer { parameters in
            guard let state = training else {
                return try body(CheckpointContents(config: config, vocabulary: vocabulary, parameters: parameters, training: nil,
                                                   lineage: lineage, writtenBy: writer))
            }
            return try state.adamM.withUnsafeBufferPointer { m in
                try state.adamV.withUnsafeBufferPointer { v in
                    try body(CheckpointContents(config: config, vocabulary: vocabulary, parameters: parameters,
                                                training: state.withMoments(m, v), lineage: lineage, writtenBy: writer))
                }
            }
        }
    }

    /// A checkpoint holding copies of `contents`.
    init(copying contents: CheckpointContents) {
        self.init(config: contents.config, vocabulary: contents.vocabulary, parameters: Array(contents.parameters),
                  training: contents.training.map { $0.withMoments(Array($0.adamM), Array($0.adamV)) },
                  lineage: contents.lineage, writtenBy: contents.writtenBy)
    }

    /// The first reason the contents are unusable, as a phrase, or nil.
    func contentProblem() -> String? {
        withContents { $0.problem() }
    }
}

// MARK: - Content checks

extension CheckpointContents {
    /// The first reason the contents could not be written and read back, as a phrase, or nil.
    func problem() -> String? {
        do {
            try config.validate()
        } catch let error as TinyGPTError {
            return "its model config is invalid (\(error.message))"
        } catch {
            return "its model config is invalid"
        }
        guard vocabulary.count == config.vocabSize else {
            return "its vocabulary has \(vocabulary.count) characters but the config says \(config.vocabSize)"
        }
        do {
            try CharTokenizer.validate(vocabulary: vocabulary)
        } catch let error as TinyGPTError {
            return "its vocabulary is invalid (\(error.message))"
        } catch {
            return "its vocabulary is invalid"
        }
        let count = ParameterLayout(config).totalCount
        guard parameters.count == count else {
            return "it has \(parameters.count) parameters but its config needs \(count)"
        }
        if let i = Self.firstNonFinite(parameters) {
            return "parameter \(i) (\(parameterName(at: i))) is \(parameters[i]) (the run diverged; retrain with a lower `learningRate`)"
        }
        if let problem = provenanceProblem() { return problem }
        guard let training else { return nil }
        let s = training.settings
        do {
            try s.validate()
            guard s.epsilon.isFinite && s.epsilon > 0 else {
                throw TinyGPTError.usage("AdamW epsilon must be positive, got \(s.epsilon)")
            }
        } catch let error as TinyGPTError {
            return "its training settings are invalid (\(error.message))"
        } catch {
            return "its training settings are invalid"
        }
        guard training.step >= 0, training.tokensSeen >= 0, training.corpusLength >= 0 else {
            return "its step, token or corpus count is negative"
        }
        guard training.adamM.count == count && training.adamV.count == count else {
            return "its optimizer moments hold \(training.adamM.count) and \(training.adamV.count) values, not \(count)"
        }
        if let i = Self.firstNonFinite(training.adamM) {
            return "AdamW first moment \(i) (\(parameterName(at: i))) is \(training.adamM[i])"
        }
        if let i = Self.firstNonFinite(training.adamV) ?? training.adamV.firstIndex(where: { $0 < 0 }) {
            return "AdamW second moment \(i) (\(parameterName(at: i))) is \(training.adamV[i]); it must be finite and not negative"
        }
        guard !training.bestValidationLoss.isNaN else { return "its best validation loss is NaN" }
        let state = training.rng.state
        guard state.0 | state.1 | state.2 | state.3 != 0 else {
            return "its random generator state is all zeros, which xoshiro256** cannot leave"
        }
        if let entry = training.history.first(where: { $0.step < 0 }) {
            return "its history holds a negative step (\(entry.step))"
        }
        if let problem = TrainingState<[Float]>.frozenRangesProblem(training.frozen, count: count) { return problem }
        return nil
    }

    /// The first reason the writer version or the lineage could not be stored, or nil.
    func provenanceProblem() -> String? {
        if let problem = Self.textProblem(writtenBy, limit: CheckpointFormat.maxWriterBytes) {
            return "its writer version \(problem)"
        }
        guard lineage.count <= CheckpointFormat.maxLineage else {
            return "its lineage lists \(lineage.count) models, more than \(CheckpointFormat.maxLineage)"
        }
        for (k, entry) in lineage.enumerated() {
            if let problem = Self.textProblem(entry.name, limit: CheckpointFormat.maxLineageNameBytes) {
                return "the name of lineage entry \(k + 1) \(problem)"
            }
            guard entry.step >= 0, entry.addedCharacters >= 0, entry.addedCharacters <= config.vocabSize else {
                return "lineage entry \(k + 1) holds a step or added-character count out of range"
            }
        }
        return nil
    }

    /// Why `text` cannot be stored as a provenance string: empty, longer than `limit` bytes of
    /// UTF-8, or holding a control character. Nil when it can.
    static func textProblem(_ text: String, limit: Int) -> String? {
        let bytes = text.utf8.count
        guard bytes >= 1 && bytes <= limit else { return "is \(bytes) bytes long; it must be 1 to \(limit)" }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            return "holds a control character"
        }
        return nil
    }


    /// Index of the first NaN or infinity, or nil.
    static func firstNonFinite(_ values: UnsafeBufferPointer<Float>) -> Int? {
        for i in values.indices where !values[i].isFinite { return i }
        return nil
    }

    /// The name of the tensor holding parameter `index`, for error messages.
    private func parameterName(at index: Int) -> String {
        ParameterLayout(config).tensors.first { index >= $0.offset && index < $0.offset + $0.count }?.name ?? "unknown tensor"
    }
}
