// The checkpoint file format, version 3: a 16-byte header, then tagged, length-prefixed,
// CRC32-checked sections, all little-endian. Docs/FORMAT.md documents it byte by byte. Version 2
// added the provenance section (writer version, lineage) and the frozen ranges in `optm`;
// version 3 the time budget (`minutes`) at the end of `tcfg`. Older files still read: version 1
// as checkpoints with no writer recorded, no lineage and nothing frozen, versions 1 and 2 with
// no time budget.
//
// Writing goes through AtomicFile (temporary file, fsync, rename) and streams: every section's
// length is known from the config before its payload, and its checksum is computed as the
// payload passes, so the weights and moments go to the file straight from where they live
// (CheckpointContents) without a copy the size of the model. Reading first walks the
// section frames, checking magic, version, every length against the bytes actually present and
// every checksum; only then does it decode, so a truncated, corrupt, foreign or future file gets
// a one-line error before anything is allocated from a size the file claims. Nothing wall-clock
// or path-dependent is stored: the same state always encodes to the same bytes.

/// Constants of the checkpoint format.
public enum CheckpointFormat {
    /// The first 8 bytes of every checkpoint: "TGPTCKPT".
    public static let magic: [UInt8] = Array("TGPTCKPT".utf8)
    /// The version this build writes, and the newest it reads.
    public static let version: UInt32 = 3

    /// Magic (8) + version (4) + section count (4).
    static let headerSize = 16
    /// Tag (4) + payload length (8) before a payload, CRC32 (4) after it.
    static let frameSize = 16

    /// The four ASCII bytes that open a section.
    enum Tag: String, CaseIterable {
        case config = "conf"
        case vocabulary = "voca"
        case parameters = "parm"
        case provenance = "prov"
        case settings = "tcfg"
        case optimizer = "optm"
        case progress = "prog"
        case history = "hist"
    }

    /// Every checkpoint holds these, in this order (a version-1 file has no `prov`)...
    static let modelSections: [Tag] = [.config, .vocabulary, .parameters, .provenance]
    /// ...and a training checkpoint these too, right after them.
    static let trainingSections: [Tag] = [.settings, .optimizer, .progress, .history]

    /// Payload sizes of the fixed-size sections.
    static let configSize = 44
    static let settingsSize = 96
    static let progressSize = 56
    static let historyEntrySize = 20

    /// Limits of the provenance section: writer version and lineage names in bytes of UTF-8,
    /// and lineage entries. A file past them is corrupt.
    static let maxWriterBytes = 64
    static let maxLineageNameBytes = 1024
    static let maxLineage = 1000
    /// Fixed bytes of one lineage entry: step, file CRC, loss, added characters, name length.
    static let lineageEntryFixedSize = 8 + 4 + 4 + 4 + 4

    /// The `tcfg` payload size of a file of `version`: before version 3 it ends at
    /// `validationFraction`, without `minutes`.
    static func settingsSize(version: UInt32) -> Int {
        version < 3 ? settingsSize - 8 : settingsSize
    }

    /// The model sections of a file of `version`.
    static func modelSections(version: UInt32) -> [Tag] {
        version == 1 ? [.config, .vocabulary, .parameters] : modelSections
    }

    /// The config's last u32, the architecture word: bits 0-7 the GELU form, bit 8 set when the
    /// blocks have no skip connections (`residual` false), every other bit zero. Files written
    /// before the residual ablation hold only the GELU form there, so they read as residual.
    static let noResidualBit: UInt32 = 1 << 8

    static func architectureWord(_ config: GPTConfig) -> UInt32 {
        UInt32(config.gelu.rawValue) | (config.residual ? 0 : noResidualBit)
    }

    /// Files up to this size are read whole before their sections are checked; a larger one
    /// has its frames checked against its length first (`Checkpoint(contentsOf:)`).
    static let preflightLimit = 64 << 20

    /// Bytes before the config payload, and through its checksum: all `peekConfig` reads.
    static let configPrefixSize = headerSize + frameSize + configSize
}

extension Checkpoint {
    // MARK: - Public interface

    /// The file's bytes. The checkpoint must be consistent (vocabulary and parameter counts
    /// match the config; every vocabulary entry is a Unicode scalar): `write(to:)` checks that
    /// with `validate()` first and throws instead.
    public func encoded() -> [UInt8] {
        withContents { $0.encoded() }
    }

    /// Decodes checkpoint bytes, validating everything (see the file comment).
    public init(decoding bytes: [UInt8]) throws {
        self = try bytes.withUnsafeBytes { try CheckpointDecoder(label: "checkpoint").decode($0) }
    }

    /// Writes the checkpoint to `path` atomically: the old file stays whole until the new one
    /// is complete on disk. Throws, leaving any old file untouched, if the checkpoint could not
    /// be read back (e.g. NaN weights from a diverged run), or if the output rule refuses
    /// `path` (Support/OutputFile.swift): as `runCheckpoint` it may replace a checkpoint, as
    /// `checkpoint` (what `import` writes) no file at all.
    public func write(to path: String, as kind: OutputKind = .runCheckpoint, inputs: [String] = []) throws {
        try write(to: [path], as: kind, inputs: inputs)
    }

    /// Writes the same bytes atomically to each of `paths`, validating once.
    public func write(to paths: [String], as kind: OutputKind = .runCheckpoint, inputs: [String] = []) throws {
        try withContents { try $0.write(to: paths, as: kind, inputs: inputs) }
    }

    /// Reads and validates the checkpoint at `path`. The header, and every section's declared
    /// length, are checked against the file's length and the model config before the rest is
    /// read (`CheckpointDecoder.preflight`), so a foreign, lying or huge file is refused after
    /// a few small reads, and memory stays bounded by the model the file declares.
    public init(contentsOf path: String) throws {
        let (fd, size) = try AtomicFile.openRegular(path, kind: "checkpoint")
        defer { Platform.close(fd) }
        let decoder = CheckpointDecoder(label: "checkpoint \(path)")
        try decoder.preflight(size: size) { offset, count in
            try AtomicFile.read(fd, path: path, kind: "checkpoint", from: offset, count: count)
        }
        let bytes = try AtomicFile.read(fd, path: path, kind: "checkpoint", from: 0, count: size)
        self = try bytes.withUnsafeBytes { try decoder.decode($0) }
    }

    /// The model config of the checkpoint at `path`, reading only the first 76 bytes (header
    /// and config section, checksum included).
    public static func peekConfig(contentsOf path: String) throws -> GPTConfig {
        let bytes = try AtomicFile.read(path, kind: "checkpoint", limit: CheckpointFormat.configPrefixSize)
        return try bytes.withUnsafeBytes { try CheckpointDecoder(label: "checkpoint \(path)").decodeConfigOnly($0) }
    }

    /// Throws a runtime error naming the first reason this checkpoint could not be written and
    /// read back: an invalid config, a vocabulary or parameter count that does not match it,
    /// non-finite weights or moments, or training state out of range.
    public func validate() throws {
        if let problem = contentProblem() { throw TinyGPTError.runtime("the checkpoint is invalid: \(problem)") }
    }
}

// MARK: - Writing

extension CheckpointContents {
    /// Validates the contents, then writes the same bytes atomically to each of `paths`,
    /// streaming them: nothing the size of the weights is allocated.
    func write(to paths: [String], as kind: OutputKind = .runCheckpoint, inputs: [String] = []) throws {
        if let problem = problem() {
            throw TinyGPTError.runtime("refusing to write \(paths.first ?? "a checkpoint"): \(problem); the previous file, if any, is untouched")
        }
        for path in paths { try OutputFile.write(to: path, as: kind, inputs: inputs) { emit in try encode(emit) } }
    }

    /// The file's bytes in one array (see `encode`).
    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(encodedSize)
        encode { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// The length of the file.
    var encodedSize: Int {
        let count = parameters.count
        var size = CheckpointFormat.headerSize + CheckpointFormat.frameSize + CheckpointFormat.configSize
            + CheckpointFormat.frameSize + vocabulary.reduce(0) { $0 + (Unicode.Scalar($1)?.utf8.count ?? 0) }
            + CheckpointFormat.frameSize + 4 * count
            + CheckpointFormat.frameSize + 8 + writtenBy.utf8.count
            + lineage.reduce(0) { $0 + CheckpointFormat.lineageEntryFixedSize + $1.name.utf8.count }
        if let training {
            size += 4 * CheckpointFormat.frameSize + CheckpointFormat.settingsSize + 16 + 16 * training.frozen.count + 8 * count
                + CheckpointFormat.progressSize + 8 + CheckpointFormat.historyEntrySize * training.history.count
        }
        return size
    }

    /// Passes the file's bytes to `emit` in order, in pieces: the small fields built in memory,
    /// the weights and moments straight from where they live. The contents must be consistent
    /// (vocabulary and parameter counts match the config; every vocabulary entry is a Unicode
    /// scalar): `write(to:)` checks that first and throws instead.
    func encode(_ emit: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let count = parameters.count
        precondition(vocabulary.count == config.vocabSize, "vocabulary size does not match the config")
        precondition(ParameterLayout(config).totalCount == count, "parameter count does not match the config")
        if let training {
            precondition(training.adamM.count == count && training.adamV.count == count,
                         "optimizer moments do not match the parameter count")
        }
        var header = BinaryWriter(reservingCapacity: CheckpointFormat.headerSize)
        header.append(contentsOf: CheckpointFormat.magic)
        header.append(CheckpointFormat.version)
        header.append(UInt32(CheckpointFormat.modelSections.count
            + (training == nil ? 0 : CheckpointFormat.trainingSections.count)))
        try header.bytes.withUnsafeBytes { try emit($0) }

        try Self.emitSection(.config, emit) { w in
            w.append(Int64(config.vocabSize))
            w.append(Int64(config.contextLength))
            w.append(Int64(config.layerCount))
            w.append(Int64(config.headCount))
            w.append(Int64(config.modelWidth))
            w.append(CheckpointFormat.architectureWord(config))
        }
        try Self.emitSection(.vocabulary, emit) { w in
            for value in vocabulary {
                guard let scalar = Unicode.Scalar(value) else {
                    preconditionFailure("vocabulary entry 0x\(String(value, radix: 16)) is not a Unicode scalar")
                }
                for byte in scalar.utf8 { w.append(byte) }
            }
        }
        try Self.emitSection(.parameters, then: [parameters], emit)
        try Self.emitSection(.provenance, emit) { w in
            let writer = Array(writtenBy.utf8)
            w.append(UInt32(writer.count))
            w.append(contentsOf: writer)
            w.append(UInt32(lineage.count))
            for entry in lineage {
                let name = Array(entry.name.utf8)
                w.append(Int64(entry.step))
                w.append(entry.fileDigest)
                w.append(entry.validationLoss)
                w.append(UInt32(entry.addedCharacters))
                w.append(UInt32(name.count))
                w.append(contentsOf: name)
            }
        }
        guard let training else { return }

        try Self.emitSection(.settings, emit) { w in
            let s = training.settings
            w.append(Int64(s.batchSize))
            w.append(Int64(s.steps))
            w.append(s.learningRate)
            w.append(s.minLearningRate)
            w.append(Int64(s.warmupSteps))
            w.append(s.weightDecay)
            w.append(s.beta1)
            w.append(s.beta2)
            w.append(s.epsilon)
            w.append(s.gradClip)
            w.append(s.dropout)
            w.append(s.seed)
            w.append(Int64(s.evalInterval))
            w.append(Int64(s.evalWindows))
            w.append(s.validationFraction)
            w.append(s.minutes)
        }
        try Self.emitSection(.optimizer, then: [training.adamM, training.adamV], emit) { w in
            w.append(Int64(training.step))
            w.append(UInt64(training.frozen.count))
            for range in training.frozen {
                w.append(UInt64(range.lowerBound))
                w.append(UInt64(range.count))
            }
        }
        try Self.emitSection(.progress, emit) { w in
            let state = training.rng.state
            w.append(state.0)
            w.append(state.1)
            w.append(state.2)
            w.append(state.3)
            w.append(Int64(training.tokensSeen))
            w.append(Int64(training.corpusLength))
            w.append(training.bestValidationLoss)
            w.append(training.corpusDigest)
        }
        try Self.emitSection(.history, emit) { w in
            w.append(UInt64(training.history.count))
            for entry in training.history {
                w.append(Int64(entry.step))
                w.append(entry.trainLoss)
                w.append(entry.validationLoss)
                w.append(entry.learningRate)
            }
        }
    }

    /// Emits one section: tag, payload length, the payload (the fields `fields` writes, then
    /// the `floats`), and the payload's CRC32.
    private static func emitSection(_ tag: CheckpointFormat.Tag, then floats: [UnsafeBufferPointer<Float>] = [],
                                    _ emit: (UnsafeRawBufferPointer) throws -> Void,
                                    fields: (inout BinaryWriter) -> Void = { _ in }) rethrows {
        var payload = BinaryWriter(reservingCapacity: 0)
        fields(&payload)
        var frame = BinaryWriter(reservingCapacity: 12)
        frame.append(contentsOf: Array(tag.rawValue.utf8))
        frame.append(UInt64(payload.count + floats.reduce(0) { $0 + 4 * $1.count }))
        try frame.bytes.withUnsafeBytes { try emit($0) }
        var checksum = CRC32()
        try payload.bytes.withUnsafeBytes { bytes in
            checksum.update(bytes)
            try emit(bytes)
        }
        for values in floats {
            try BinaryWriter.forEachLittleEndianPiece(of: values) { bytes in
                checksum.update(bytes)
                try emit(bytes)
            }
        }
        var trailer = BinaryWriter(reservingCapacity: 4)
        trailer.append(checksum.value)
        try trailer.bytes.withUnsafeBytes { try emit($0) }
    }
}

// MARK: - Reading

/// Decodes checkpoint bytes; `label` ("checkpoint PATH") opens every error message.
private struct CheckpointDecoder {
    typealias Tag = CheckpointFormat.Tag
    let label: String

    func decode(_ raw: UnsafeRawBufferPointer) throws -> Checkpoint {
        // Pass 1: frames, lengths and checksums. Nothing is allocated from a claimed size.
        var reader = BinaryReader(raw)
        let (version, sectionCount) = try readHeader(&reader)
        let modelSections = CheckpointFormat.modelSections(version: version)
        let tags = modelSections + (sectionCount == modelSections.count ? [] : CheckpointFormat.trainingSections)
        var payloads: [UnsafeRawBufferPointer] = []
        for (index, tag) in tags.enumerated() {
            payloads.append(try readSection(&reader, expecting: tag, index: index, of: tags.count))
        }
        guard reader.remaining == 0 else {
            let extra = reader.remaining
            throw corrupt("\(extra) extra byte\(extra == 1 ? "" : "s") follow its last section")
        }

        // Pass 2: contents. Every payload's size is checked against the config before use.
        let config = try decodeConfig(payloads[0])
        // A valid config's parameter count is below 2^43 (GPTConfig's limits), so nothing overflows.
        let count = ParameterLayout(config).totalCount
        let vocabulary = try decodeVocabulary(payloads[1], size: config.vocabSize)
        let parameters = try decodeParameters(payloads[2], count: count)
        let m = modelSections.count
        let (writtenBy, lineage) = version == 1 ? (nil, []) : try decodeProvenance(payloads[3])
        var training: TrainingState<[Float]>?
        if sectionCount > m {
            training = try decodeTraining(settings: payloads[m], optimizer: payloads[m + 1], progress: payloads[m + 2],
                                          history: payloads[m + 3], count: count, version: version)
        }
        let checkpoint = Checkpoint(config: config, vocabulary: vocabulary, parameters: parameters, training: training,
                                    lineage: lineage, writtenBy: writtenBy)
        if let problem = checkpoint.contentProblem() {
            throw TinyGPTError.runtime("\(label) cannot be used: \(problem)")
        }
        return checkpoint
    }

    /// Checks a file of `size` bytes from a few small reads (`read(offset, count)`) before the
    /// whole of it is read: the header (the same errors as `decode`, from the first 16 bytes),
    /// then, for a file too large to read on trust (above `preflightLimit`), every section
    /// frame's declared length against the bytes that remain, the weights and moments against
    /// the config, and the other sections against a bound, so nothing is read or allocated
    /// from a size the file merely claims. A smaller file is read whole and `decode` names
    /// its problem exactly.
    func preflight(size: Int, read: (_ offset: Int, _ count: Int) throws -> [UInt8]) throws {
        let head = try read(0, min(size, CheckpointFormat.headerSize))
        let (version, sectionCount) = try head.withUnsafeBytes { raw -> (UInt32, Int) in
            var r = BinaryReader(raw)
            return try readHeader(&r)
        }
        guard size > CheckpointFormat.preflightLimit else { return }
        let modelSections = CheckpointFormat.modelSections(version: version)
        let tags = modelSections + (sectionCount == modelSections.count ? [] : CheckpointFormat.trainingSections)
        var offset = CheckpointFormat.headerSize
        var config: GPTConfig?
        var otherBytes = 0
        for (index, tag) in tags.enumerated() {
            let remaining = size - offset
            guard remaining >= 12 else {
                throw truncated(remaining == 0 ? "it ends after section \(index) of \(tags.count)"
                                               : "it ends inside the frame of section \(index + 1) of \(tags.count)")
            }
            let frame = try read(offset, 12)
            let found = Self.describeTag(frame.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[0..<4]) })
            if found != tag.rawValue {
                if Tag(rawValue: found) != nil { throw corrupt("section \(index + 1) is '\(found)' where '\(tag.rawValue)' belongs") }
                throw TinyGPTError.runtime(
                    "\(label) holds an unknown section \(found.count == 4 ? "'\(found)'" : found) where '\(tag.rawValue)' belongs; it was written by a newer tinygpt or is corrupt; update tinygpt")
            }
            let length = frame.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt64.self).littleEndian }
            let available = max(0, remaining - 12 - 4)
            guard length <= UInt64(available) else {
                throw truncated("section '\(tag.rawValue)' (\(index + 1) of \(tags.count)) claims \(length) bytes plus a 4-byte checksum, but only \(remaining - 12) bytes remain")
            }
            let count = Int(length)
            switch tag {
            case .config:
                let payload = try read(offset + 12, count)
                config = try payload.withUnsafeBytes { try decodeConfig($0) }
            case .parameters, .optimizer:
                if let config {
                    let parameters = ParameterLayout(config).totalCount
                    // Version 2 puts the frozen-range count (and the ranges) before the moments.
                    var head = 8
                    if tag == .optimizer && version >= 2 {
                        guard count >= 16 else { throw corrupt("section 'optm' holds \(count) bytes, fewer than its 16-byte head") }
                        let ranges = try read(offset + 12 + 8, 8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian }
                        guard ranges <= UInt64(count - 16) / 16 else {
                            throw corrupt("section 'optm' lists \(ranges) frozen ranges, which cannot fit in its \(count) bytes")
                        }
                        head = 16 + 16 * Int(ranges)
                    }
                    let expected = tag == .parameters ? 4 * parameters : head + 8 * parameters
                    guard count == expected else {
                        throw corrupt("section '\(tag.rawValue)' holds \(count) bytes, but the model config needs \(expected) (\(parameters) parameters)")
                    }
                }
            default:
                otherBytes += count
                let bound = CheckpointFormat.preflightLimit + 4 * (config?.vocabSize ?? 0)
                guard otherBytes <= bound else {
                    throw corrupt("section '\(tag.rawValue)' claims \(count) bytes, more than a checkpoint of this model holds")
                }
            }
            offset += 12 + count + 4
        }
        guard offset == size else {
            let extra = size - offset
            throw corrupt("\(extra) extra byte\(extra == 1 ? "" : "s") follow its last section")
        }
    }

    /// Header and config section only, from a prefix of the file.
    func decodeConfigOnly(_ raw: UnsafeRawBufferPointer) throws -> GPTConfig {
        var reader = BinaryReader(raw)
        let (_, sectionCount) = try readHeader(&reader)
        return try decodeConfig(try readSection(&reader, expecting: .config, index: 0, of: sectionCount))
    }

    // MARK: Frames

    /// Checks magic, version and section count; returns the version and the section count
    /// (3 or 7 in version 1, 4 or 8 from version 2).
    private func readHeader(_ reader: inout BinaryReader) throws -> (version: UInt32, sections: Int) {
        let magic = CheckpointFormat.magic
        if reader.bytes.isEmpty {
            throw TinyGPTError.runtime("\(label) is empty (0 bytes); give a checkpoint written by tinygpt")
        }
        let present = min(magic.count, reader.bytes.count)
        guard reader.bytes.prefix(present).elementsEqual(magic.prefix(present)) else {
            throw TinyGPTError.runtime("\(label) is not a tinygpt checkpoint (it does not start with TGPTCKPT); give a file written by tinygpt")
        }
        guard reader.bytes.count >= CheckpointFormat.headerSize else {
            throw truncated("it ends inside its \(CheckpointFormat.headerSize)-byte header, after \(reader.bytes.count) bytes")
        }
        do {
            _ = try reader.readBytes(magic.count)
            let version = try reader.read(UInt32.self)
            if version > CheckpointFormat.version {
                throw TinyGPTError.runtime(
                    "\(label) has format version \(version), which is newer than this tinygpt supports (\(CheckpointFormat.version)); update tinygpt")
            }
            if version == 0 { throw corrupt("its header says format version 0, which does not exist") }
            let sectionCount = try reader.read(UInt32.self)
            let model = CheckpointFormat.modelSections(version: version).count
            let full = model + CheckpointFormat.trainingSections.count
            guard sectionCount == model || sectionCount == full else {
                throw corrupt("its header lists \(sectionCount) sections; a version-\(version) checkpoint has \(model) or \(full)")
            }
            return (version, Int(sectionCount))
        } catch is BinaryReader.Failure {
            throw truncated("it ends inside its header")
        }
    }

    /// Reads one section's frame, checks its tag, its length against the bytes that remain,
    /// and its checksum; returns a view of the payload.
    private func readSection(_ reader: inout BinaryReader, expecting tag: Tag, index: Int, of total: Int) throws -> UnsafeRawBufferPointer {
        guard reader.remaining >= 12 else {
            throw truncated(reader.remaining == 0
                ? "it ends after section \(index) of \(total)"
                : "it ends inside the frame of section \(index + 1) of \(total)")
        }
        do {
            let tagBytes = try reader.readBytes(4)
            let length = try reader.read(UInt64.self)
            let found = Self.describeTag(tagBytes)
            if found != tag.rawValue {
                if Tag(rawValue: found) != nil {
                    throw corrupt("section \(index + 1) is '\(found)' where '\(tag.rawValue)' belongs")
                }
                throw TinyGPTError.runtime(
                    "\(label) holds an unknown section \(found.count == 4 ? "'\(found)'" : found) where '\(tag.rawValue)' belongs; it was written by a newer tinygpt or is corrupt; update tinygpt")
            }
            let available = max(0, reader.remaining - 4)
            guard length <= UInt64(available) else {
                throw truncated("section '\(tag.rawValue)' (\(index + 1) of \(total)) claims \(length) bytes plus a 4-byte checksum, but only \(reader.remaining) bytes remain")
            }
            let payload = try reader.readBytes(Int(length))
            let stored = try reader.read(UInt32.self)
            guard CRC32.checksum(payload) == stored else {
                throw corrupt("section '\(tag.rawValue)' fails its checksum")
            }
            return payload
        } catch is BinaryReader.Failure {
            throw truncated("it ends inside section '\(tag.rawValue)'")
        }
    }

    /// A tag as text when it is four printable ASCII bytes, else as hex.
    private static func describeTag(_ bytes: UnsafeRawBufferPointer) -> String {
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return String(decoding: bytes, as: UTF8.self) }
        return "0x" + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    // MARK: Sections

    /// Runs `body` on a reader over `payload` after checking its exact size.
    private func parse<T>(_ tag: Tag, _ payload: UnsafeRawBufferPointer, size: Int,
                          _ body: (inout BinaryReader) throws -> T) throws -> T {
        guard payload.count == size else {
            throw corrupt("section '\(tag.rawValue)' holds \(payload.count) bytes where \(size) belong")
        }
        var reader = BinaryReader(payload)
        do {
            return try body(&reader)
        } catch BinaryReader.Failure.outOfRange {
            throw corrupt("section '\(tag.rawValue)' holds a number this computer cannot represent")
        } catch is BinaryReader.Failure {
            throw corrupt("section '\(tag.rawValue)' is shorter than its fields")
        }
    }

    private func decodeConfig(_ payload: UnsafeRawBufferPointer) throws -> GPTConfig {
        let config = try parse(.config, payload, size: CheckpointFormat.configSize) { r -> GPTConfig in
            let vocabSize = try r.readInt(), contextLength = try r.readInt(), layerCount = try r.readInt()
            let headCount = try r.readInt(), modelWidth = try r.readInt()
            let word = try r.read(UInt32.self)
            let geluCode = word & 0xFF, unknown = word & ~(0xFF | CheckpointFormat.noResidualBit)
            guard unknown == 0 else {
                throw TinyGPTError.runtime("\(label) uses model options 0x\(String(unknown, radix: 16)), which this tinygpt does not know; update tinygpt")
            }
            guard let gelu = UInt8(exactly: geluCode).flatMap(GELUForm.init(rawValue:)) else {
                throw TinyGPTError.runtime("\(label) uses GELU form \(geluCode), which this tinygpt does not know; update tinygpt")
            }
            return GPTConfig(vocabSize: vocabSize, contextLength: contextLength, layerCount: layerCount,
                             headCount: headCount, modelWidth: modelWidth, gelu: gelu,
                             residual: word & CheckpointFormat.noResidualBit == 0)
        }
        do {
            try config.validate()
        } catch let error as TinyGPTError {
            throw corrupt("its model config is out of range (\(error.message))")
        }
        return config
    }

    /// UTF-8 of exactly `size` scalars, strictly decoded (no byte-order mark is special).
    private func decodeVocabulary(_ payload: UnsafeRawBufferPointer, size: Int) throws -> [UInt32] {
        guard payload.count >= size && payload.count <= 4 * size else {
            throw corrupt("section 'voca' holds \(payload.count) bytes, which cannot be \(size) UTF-8 characters")
        }
        var scalars: [UInt32] = []
        scalars.reserveCapacity(size)
        do {
            try TextFile.forEachScalar(payload.bindMemory(to: UInt8.self), name: "section 'voca'",
                                       skippingByteOrderMark: false) { scalars.append($0) }
        } catch {
            throw corrupt("section 'voca' is not valid UTF-8")
        }
        guard scalars.count == size else {
            throw corrupt("section 'voca' holds \(scalars.count) characters but the config says \(size)")
        }
        return scalars
    }

    private func decodeParameters(_ payload: UnsafeRawBufferPointer, count: Int) throws -> [Float] {
        guard payload.count / 4 == count && payload.count % 4 == 0 else {
            throw corrupt("section 'parm' holds \(payload.count) bytes, but the model config needs \(count) parameters of 4 bytes")
        }
        return try parse(.parameters, payload, size: payload.count) { try $0.readFloats(count) }
    }

    /// Writer version and lineage (version 2 on).
    private func decodeProvenance(_ payload: UnsafeRawBufferPointer) throws -> (String, [LineageEntry]) {
        try parse(.provenance, payload, size: payload.count) { r in
            let writer = try text(&r, limit: CheckpointFormat.maxWriterBytes, what: "its writer version")
            let count = try r.read(UInt32.self)
            // Each entry takes at least its fixed bytes, so a huge count fails here, not in a loop.
            guard count <= CheckpointFormat.maxLineage,
                  Int(count) * CheckpointFormat.lineageEntryFixedSize <= r.remaining else {
                throw corrupt("section 'prov' lists \(count) lineage entries, which cannot fit in its \(payload.count) bytes")
            }
            var lineage: [LineageEntry] = []
            for _ in 0..<count {
                let step = try r.readInt(), digest = try r.read(UInt32.self), loss = try r.readFloat()
                let added = try r.read(UInt32.self)
                let name = try text(&r, limit: CheckpointFormat.maxLineageNameBytes, what: "a lineage name")
                lineage.append(LineageEntry(name: name, fileDigest: digest, step: step, validationLoss: loss,
                                            addedCharacters: Int(added)))
            }
            guard r.remaining == 0 else { throw corrupt("section 'prov' holds \(r.remaining) bytes after its last field") }
            return (writer, lineage)
        }
    }

    /// A u32 byte count, then that many bytes of strict UTF-8 (1 to `limit` bytes).
    private func text(_ r: inout BinaryReader, limit: Int, what: String) throws -> String {
        let length = try r.read(UInt32.self)
        guard length >= 1 && length <= limit else {
            throw corrupt("\(what) claims \(length) bytes; it must be 1 to \(limit)")
        }
        let bytes = try r.readBytes(Int(length))
        var scalars = String.UnicodeScalarView()
        do {
            try TextFile.forEachScalar(bytes.bindMemory(to: UInt8.self), name: "section 'prov'",
                                       skippingByteOrderMark: false) { scalars.append(Unicode.Scalar($0)!) }
        } catch {
            throw corrupt("\(what) is not valid UTF-8")
        }
        return String(scalars)
    }

    private func decodeTraining(settings: UnsafeRawBufferPointer, optimizer: UnsafeRawBufferPointer,
                                progress: UnsafeRawBufferPointer, history: UnsafeRawBufferPointer,
                                count: Int, version: UInt32) throws -> TrainingState<[Float]> {
        let s = try parse(.settings, settings, size: CheckpointFormat.settingsSize(version: version)) { r -> TrainingConfig in
            var s = TrainingConfig()
            s.batchSize = try r.readInt()
            s.steps = try r.readInt()
            s.learningRate = try r.readFloat()
            s.minLearningRate = try r.readFloat()
            s.warmupSteps = try r.readInt()
            s.weightDecay = try r.readFloat()
            s.beta1 = try r.readFloat()
            s.beta2 = try r.readFloat()
            s.epsilon = try r.readFloat()
            s.gradClip = try r.readFloat()
            s.dropout = try r.readFloat()
            s.seed = try r.read(UInt64.self)
            s.evalInterval = try r.readInt()
            s.evalWindows = try r.readInt()
            s.validationFraction = try r.readDouble()
            if version >= 3 { s.minutes = try r.readDouble() }
            return s
        }
        var frozen: [Range<Int>] = []
        var rangeCount = 0
        if version >= 2 {
            // The frozen-range count sits between the step and the moments; check it against the
            // payload's size before reading the ranges.
            guard optimizer.count >= 16 else { throw corrupt("section 'optm' holds \(optimizer.count) bytes, fewer than its 16-byte head") }
            let claimed = optimizer.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian
            guard claimed <= UInt64(optimizer.count - 16) / 16 else {
                throw corrupt("section 'optm' lists \(claimed) frozen ranges, which cannot fit in its \(optimizer.count) bytes")
            }
            rangeCount = Int(claimed)
        }
        let head = version >= 2 ? 16 + 16 * rangeCount : 8
        let (step, m, v) = try parse(.optimizer, optimizer, size: head + 8 * count) { r in
            let step = try r.readInt()
            if version >= 2 {
                _ = try r.read(UInt64.self)
                for _ in 0..<rangeCount {
                    let start = try r.read(UInt64.self), length = try r.read(UInt64.self)
                    guard start <= UInt64(count), length <= UInt64(count) - start else {
                        throw corrupt("section 'optm' holds a frozen range outside the \(count) parameters")
                    }
                    frozen.append(Int(start)..<Int(start + length))
                }
            }
            return (step, try r.readFloats(count), try r.readFloats(count))
        }
        let (rng, tokensSeen, corpusLength, best, digest) = try parse(.progress, progress, size: CheckpointFormat.progressSize) { r in
            (RandomGenerator(state: (try r.read(UInt64.self), try r.read(UInt64.self), try r.read(UInt64.self), try r.read(UInt64.self))),
             try r.readInt(), try r.readInt(), try r.readFloat(), try r.read(UInt32.self))
        }
        guard history.count >= 8 else { throw corrupt("section 'hist' holds \(history.count) bytes, fewer than its 8-byte count") }
        let entryCount = history.loadUnaligned(as: UInt64.self).littleEndian
        let entrySize = UInt64(CheckpointFormat.historyEntrySize)
        guard entryCount <= UInt64(history.count - 8) / entrySize, UInt64(history.count - 8) == entryCount * entrySize else {
            throw corrupt("section 'hist' holds \(history.count) bytes, which cannot be \(entryCount) entries of \(entrySize) bytes")
        }
        let entries = try parse(.history, history, size: history.count) { r -> [HistoryEntry] in
            _ = try r.read(UInt64.self)
            var entries: [HistoryEntry] = []
            entries.reserveCapacity(Int(entryCount))
            for _ in 0..<entryCount {
                entries.append(HistoryEntry(step: try r.readInt(), trainLoss: try r.readFloat(),
                                            validationLoss: try r.readFloat(), learningRate: try r.readFloat()))
            }
            return entries
        }
        return TrainingState(settings: s, step: step, adamM: m, adamV: v, rng: rng, tokensSeen: tokensSeen,
                             bestValidationLoss: best, corpusLength: corpusLength, corpusDigest: digest,
                             history: entries, frozen: frozen)
    }

    // MARK: Helpers

    private func corrupt(_ what: String) -> TinyGPTError {
        TinyGPTError.runtime("\(label) is corrupt: \(what); use another copy or retrain")
    }

    private func truncated(_ what: String) -> TinyGPTError {
        TinyGPTError.runtime("\(label) is truncated: \(what); the file was cut short, so copy or save it again")
    }
}
