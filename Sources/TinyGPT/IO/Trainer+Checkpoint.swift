// A trainer's checkpoints: resuming a run from one, and saving one, with the weights and
// AdamW moments streamed straight from the live buffers rather than copied.

extension Trainer {
    /// Continues the run saved in `checkpoint` on `tokens` (encoded with the checkpoint's
    /// vocabulary), for `steps` total steps if given.
    public convenience init(resuming checkpoint: Checkpoint, tokens: TokenIds, corpusName: String,
                            steps: Int? = nil, context: KernelContext = KernelContext()) throws {
        guard let state = checkpoint.training else {
            throw TinyGPTError.runtime("this checkpoint holds weights only (no optimizer state), so it cannot be resumed; start a new run instead")
        }
        try self.init(config: checkpoint.config, parameters: checkpoint.parameters,
                      tokenizer: try CharTokenizer(vocabulary: checkpoint.vocabulary), resuming: state,
                      tokens: tokens, corpusName: corpusName, steps: steps, lineage: checkpoint.lineage, context: context)
    }

    /// Everything needed to sample from this model or to resume this run exactly.
    public func checkpoint() -> Checkpoint {
        withCheckpointContents { Checkpoint(copying: $0) }
    }

    /// Writes `checkpoint()` atomically to each of `paths`, streaming the weights and moments
    /// straight from the live buffers rather than copying them. Throws, leaving any old files
    /// untouched, when the checkpoint could not be read back (e.g. NaN weights).
    public func writeCheckpoint(to paths: [String]) throws {
        try withCheckpointContents { try $0.write(to: paths) }
    }

    /// Calls `body` with the checkpoint contents, viewing the model's and optimizer's buffers.
    private func withCheckpointContents<R>(_ body: (CheckpointContents) throws -> R) rethrows -> R {
        let contents = CheckpointContents(config: model.config, vocabulary: tokenizer.scalars,
                                          parameters: UnsafeBufferPointer(model.parameters.buffer), training: state,
                                          lineage: lineage, writtenBy: TinyGPTVersion.string)
        return try withExtendedLifetime((model, optimizer)) { try body(contents) }
    }
}
