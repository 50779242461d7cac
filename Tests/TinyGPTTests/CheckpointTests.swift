// Tests of the checkpoint format (Docs/FORMAT.md), CRC32 and atomic writes: exact round trips,
// deterministic bytes, and hostile files (truncated at every offset, every single-bit flip,
// foreign, future, huge claims, non-finite values) that must all give errors, never crashes.

import Foundation
import XCTest
@testable import TinyGPT

final class CheckpointTests: XCTestCase {
    // MARK: - Fixtures

    static let tinyConfig = GPTConfig(vocabSize: 2, contextLength: 2, layerCount: 1, headCount: 1, modelWidth: 2)
    static let smallConfig = GPTConfig(vocabSize: 9, contextLength: 8, layerCount: 2, headCount: 2, modelWidth: 8, gelu: .exact)

    /// A training configuration with every field away from its default.
    static var unusualSettings: TrainingConfig {
        var s = TrainingConfig()
        s.batchSize = 7
        s.steps = 321
        s.learningRate = 3e-3
        s.minLearningRate = 2e-5
        s.warmupSteps = 11
        s.weightDecay = 0.05
        s.beta1 = 0.85
        s.beta2 = 0.95
        s.epsilon = 1e-7
        s.gradClip = 0.5
        s.dropout = 0.2
        s.seed = 0xDEAD_BEEF_0123_4567
        s.evalInterval = 13
        s.evalWindows = 17
        s.validationFraction = 0.125
        return s
    }

    /// A checkpoint of random finite values; the vocabulary mixes 1- to 4-byte UTF-8.
    static func makeCheckpoint(_ config: GPTConfig, training: Bool, seed: UInt64 = 42) -> Checkpoint {
        var rng = RandomGenerator(seed: seed)
        let pool: [UInt32] = [0x0A, 0x20, 0x41, 0x61, 0x7A, 0xE9, 0x3B1, 0x4E2D, 0xFEFF, 0x1F600, 0x1F680]
        let vocabulary = Array(pool.prefix(config.vocabSize))
        let count = ParameterLayout(config).totalCount
        let parameters = (0..<count).map { _ in rng.nextNormal() * 0.1 }
        guard training else { return Checkpoint(config: config, vocabulary: vocabulary, parameters: parameters, training: nil) }
        let state = TrainingState(
            settings: unusualSettings, step: 123,
            adamM: (0..<count).map { _ in rng.nextNormal() * 1e-3 },
            adamV: (0..<count).map { _ in rng.nextFloat() * 1e-5 },
            rng: RandomGenerator(seed: seed &+ 1), tokensSeen: 123 * 7 * 8, bestValidationLoss: 1.875,
            corpusLength: 4096, corpusDigest: 0xCAFE_F00D,
            history: [HistoryEntry(step: 0, trainLoss: 2.5, validationLoss: .nan, learningRate: 1e-4),
                      HistoryEntry(step: 13, trainLoss: 2.25, validationLoss: 2.375, learningRate: 1e-3)])
        return Checkpoint(config: config, vocabulary: vocabulary, parameters: parameters, training: state)
    }

    /// A folder under the system's temporary folder, removed after the test.
    func makeTemporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "tinygpt-ckpt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Asserts that decoding throws a runtime error whose message contains `fragment`.
    func assertRejects(_ bytes: [UInt8], containing fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try Checkpoint(decoding: bytes)
            XCTFail("decoding succeeded; expected an error containing \"\(fragment)\"", file: file, line: line)
        } catch let error as TinyGPTError {
            XCTAssertEqual(error.kind, .runtime, file: file, line: line)
            XCTAssertTrue(error.message.contains(fragment), "message \"\(error.message)\" lacks \"\(fragment)\"", file: file, line: line)
        } catch {
            XCTFail("unexpected error type: \(error)", file: file, line: line)
        }
    }

    // MARK: - Independent frame walker for crafting hostile files

    struct Frame { var tag: String; var lengthOffset: Int; var payload: Range<Int> }

    /// The sections of a well-formed file, walked without the library's decoder.
    static func frames(_ bytes: [UInt8]) -> [Frame] {
        var frames: [Frame] = []
        var offset = 16
        while offset < bytes.count {
            let tag = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
            let length = (0..<8).reduce(0) { $0 | Int(bytes[offset + 4 + $1]) << (8 * $1) }
            frames.append(Frame(tag: tag, lengthOffset: offset + 4, payload: offset + 12..<offset + 12 + length))
            offset += 16 + length
        }
        return frames
    }

    /// `bytes` with section `tag`'s payload replaced by `edit(payload)`, length and CRC redone.
    static func resealed(_ bytes: [UInt8], _ tag: String, _ edit: (inout [UInt8]) -> Void) -> [UInt8] {
        guard let frame = frames(bytes).first(where: { $0.tag == tag }) else { preconditionFailure("no section \(tag)") }
        var payload = Array(bytes[frame.payload])
        edit(&payload)
        var out = Array(bytes[..<frame.lengthOffset])
        out += littleEndian(UInt64(payload.count))
        out += payload
        out += littleEndian(CRC32.checksum(payload))
        out += bytes[(frame.payload.upperBound + 4)...]
        return out
    }

    static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    static func put<T: FixedWidthInteger>(_ value: T, into bytes: inout [UInt8], at offset: Int) {
        bytes.replaceSubrange(offset..<offset + MemoryLayout<T>.size, with: littleEndian(value))
    }

    // MARK: - CRC32

    /// Bit-at-a-time CRC-32, straight from the definition, to check the sliced tables against.
    static func referenceCRC(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
        }
        return ~crc
    }

    func testCRC32KnownVectors() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([]), 0)
        XCTAssertEqual(CRC32.checksum(Array("a".utf8)), 0xE8B7_BE43)
        XCTAssertEqual(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)), 0x414F_A339)
    }

    func testCRC32MatchesBitwiseReferenceAtEveryLengthAndAlignment() {
        var rng = RandomGenerator(seed: 7)
        let data = (0..<300).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        for start in 0..<9 {
            for end in stride(from: start, through: data.count, by: 7) {
                let slice = Array(data[start..<end])
                XCTAssertEqual(CRC32.checksum(slice), Self.referenceCRC(slice), "bytes \(start)..<\(end)")
            }
        }
        var running = CRC32()
        running.update(Array(data[..<101]))
        running.update(Array(data[101...]))
        XCTAssertEqual(running.value, Self.referenceCRC(data))
    }

    // MARK: - Round trips

    /// The layout's count, against the formula V·C + T·C + L·(12C² + 13C) + 2C worked out by hand.
    func testParameterCountMatchesLayout() {
        for config in [Self.tinyConfig, Self.smallConfig, GPTConfig(vocabSize: 65),
                       GPTConfig(vocabSize: 300, contextLength: 256, layerCount: 6, headCount: 6, modelWidth: 384)] {
            let V = config.vocabSize, T = config.contextLength, L = config.layerCount, C = config.modelWidth
            XCTAssertEqual(ParameterLayout(config).totalCount, V * C + T * C + L * (12 * C * C + 13 * C) + 2 * C)
        }
        // The largest valid shape stays far from overflowing the optimizer section's 8 + 8·count.
        let widest = GPTConfig(vocabSize: GPTConfig.maxVocabSize, contextLength: GPTConfig.maxContextLength,
                               layerCount: GPTConfig.maxLayerCount, headCount: 1, modelWidth: GPTConfig.maxModelWidth)
        XCTAssertLessThan(ParameterLayout(widest).totalCount, 1 << 43)
    }

    func testWeightsOnlyRoundTripIsBitExact() throws {
        let original = Self.makeCheckpoint(Self.smallConfig, training: false)
        let decoded = try Checkpoint(decoding: original.encoded())
        XCTAssertEqual(decoded, original)
        XCTAssertEqual(decoded.parameters.map(\.bitPattern), original.parameters.map(\.bitPattern))
        XCTAssertNil(decoded.training)
    }

    /// `residual` rides in bit 8 of the config's last word: a model without skip connections
    /// round-trips, and a file from before the flag (GELU code only) loads with them.
    func testNoResidualRoundTripsAndOldFilesLoadWithSkipConnections() throws {
        var config = Self.smallConfig
        config.residual = false
        let original = Self.makeCheckpoint(config, training: true)
        let bytes = original.encoded()
        let decoded = try Checkpoint(decoding: bytes)
        XCTAssertFalse(decoded.config.residual)
        XCTAssertEqual(decoded.config, config)
        func word(_ b: [UInt8]) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[0x44 + $1]) << (8 * $1) } }
        XCTAssertEqual(word(bytes), 0x101, "exact GELU (1) with the no-residual bit")
        let old = Self.makeCheckpoint(Self.smallConfig, training: false).encoded()
        XCTAssertEqual(word(old), 1, "a model with skip connections writes what files always held")
        XCTAssertTrue(try Checkpoint(decoding: old).config.residual)
    }

    func testTrainingRoundTripIsBitExact() throws {
        let original = Self.makeCheckpoint(Self.smallConfig, training: true)
        let decoded = try Checkpoint(decoding: original.encoded())
        XCTAssertEqual(decoded.config, original.config)
        XCTAssertEqual(decoded.vocabulary, original.vocabulary)
        XCTAssertEqual(decoded.parameters.map(\.bitPattern), original.parameters.map(\.bitPattern))
        let a = try XCTUnwrap(decoded.training), b = try XCTUnwrap(original.training)
        XCTAssertEqual(a.settings, b.settings)
        XCTAssertEqual(a.settings, Self.unusualSettings)
        XCTAssertEqual(a.step, b.step)
        XCTAssertEqual(a.adamM.map(\.bitPattern), b.adamM.map(\.bitPattern))
        XCTAssertEqual(a.adamV.map(\.bitPattern), b.adamV.map(\.bitPattern))
        XCTAssertEqual(a.rng, b.rng)
        XCTAssertEqual(a.tokensSeen, b.tokensSeen)
        XCTAssertEqual(a.bestValidationLoss, b.bestValidationLoss)
        XCTAssertEqual(a.corpusLength, b.corpusLength)
        XCTAssertEqual(a.corpusDigest, b.corpusDigest)
        // History may hold NaN ("not measured"); compare bit patterns.
        func bits(_ h: [HistoryEntry]) -> [[UInt64]] {
            h.map { [UInt64($0.step), UInt64($0.trainLoss.bitPattern), UInt64($0.validationLoss.bitPattern), UInt64($0.learningRate.bitPattern)] }
        }
        XCTAssertEqual(bits(a.history), bits(b.history))
        XCTAssertTrue(a.history[0].validationLoss.isNaN)
    }

    func testInfiniteBestLossAndEmptyHistoryRoundTrip() throws {
        var original = Self.makeCheckpoint(Self.tinyConfig, training: true)
        original.training?.bestValidationLoss = .infinity
        original.training?.history = []
        original.training?.step = 0
        XCTAssertEqual(try Checkpoint(decoding: original.encoded()), original)
    }

    func testEncodingIsDeterministic() throws {
        let first = Self.makeCheckpoint(Self.smallConfig, training: true).encoded()
        let second = Self.makeCheckpoint(Self.smallConfig, training: true).encoded()
        XCTAssertEqual(first, second)
        XCTAssertEqual(try Checkpoint(decoding: first).encoded(), first)
        XCTAssertNotEqual(Self.makeCheckpoint(Self.smallConfig, training: true, seed: 43).encoded(), first)
    }

    func testHeaderAndSectionLayoutMatchFormatDocument() {
        let checkpoint = Self.makeCheckpoint(Self.tinyConfig, training: true)
        let bytes = checkpoint.encoded()
        XCTAssertEqual(Array(bytes[0..<8]), Array("TGPTCKPT".utf8))
        XCTAssertEqual(Array(bytes[8..<16]), [3, 0, 0, 0, 8, 0, 0, 0])
        let frames = Self.frames(bytes)
        XCTAssertEqual(frames.map(\.tag), ["conf", "voca", "parm", "prov", "tcfg", "optm", "prog", "hist"])
        let writer = TinyGPTVersion.string.utf8.count
        XCTAssertEqual(frames.map(\.payload.count), [44, 2, 86 * 4, 4 + writer + 4, 96, 16 + 8 * 86, 56, 8 + 2 * 20])
        XCTAssertEqual(frames.last?.payload.upperBound.advanced(by: 4), bytes.count)
        XCTAssertEqual(Array(bytes[frames[1].payload]), [0x0A, 0x20])
        XCTAssertEqual(Array(bytes[frames[3].payload].dropFirst(4).prefix(writer)), Array(TinyGPTVersion.string.utf8),
                       "the writer's version is recorded")
        XCTAssertEqual(Self.frames(Self.makeCheckpoint(Self.tinyConfig, training: false).encoded()).map(\.tag), ["conf", "voca", "parm", "prov"])
    }

    /// The model of the worked example in Docs/FORMAT.md: V = 2, T = 2, L = 1, C = 2, standing
    /// after step 3 of 10, fine-tuned from "fables/best.ckpt" with its embeddings frozen.
    static var workedExample: Checkpoint {
        let config = GPTConfig(vocabSize: 2, contextLength: 2, layerCount: 1, headCount: 1, modelWidth: 2)
        var settings = TrainingConfig()
        settings.batchSize = 4
        settings.steps = 10
        settings.warmupSteps = 2
        settings.evalInterval = 5
        settings.evalWindows = 8
        let training = TrainingState(
            settings: settings, step: 3, adamM: [Float](repeating: 0.25, count: 86), adamV: [Float](repeating: 0.0625, count: 86),
            rng: RandomGenerator(seed: 1337), tokensSeen: 24, bestValidationLoss: .infinity, corpusLength: 100,
            corpusDigest: CRC32.checksum(Array("abba".utf8)),
            history: [HistoryEntry(step: 2, trainLoss: 0.75, validationLoss: .nan, learningRate: 0.001)], frozen: [0..<8])
        return Checkpoint(config: config, vocabulary: [0x61, 0xE9], parameters: (0..<86).map(Float.init), training: training,
                          lineage: [LineageEntry(name: "fables/best.ckpt", fileDigest: 0x1A2B_3C4D, step: 600, validationLoss: 1.875,
                                                 addedCharacters: 1)],
                          writtenBy: "1.0.0")
    }

    /// The worked example in Docs/FORMAT.md, rebuilt: its size, checksums and weights-only prefix.
    func testWorkedExampleOfFormatDocument() throws {
        var example = Self.workedExample
        let bytes = example.encoded()
        XCTAssertEqual(bytes.count, 1488)
        func word(_ offset: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) } }
        let documented: [(Int, UInt32)] = [(0x48, 0xAE0D_E177), (0x5B, 0xF989_E7C4), (0x1C3, 0xB1EF_CC8F), (0x208, 0x1089_EB09),
                                           (0x278, 0x2ECD_DA4F), (0x558, 0x982C_1F2D), (0x5A0, 0x5BBD_C091), (0x5CC, 0xE416_1F00)]
        for (offset, value) in documented { XCTAssertEqual(word(offset), value, "offset \(offset)") }
        XCTAssertEqual(Array(bytes[0x58..<0x5B]), [0x61, 0xC3, 0xA9])
        XCTAssertEqual(Array(bytes[0x1D7..<0x1DC]), Array("1.0.0".utf8))
        XCTAssertEqual(Array(bytes[0x270..<0x278]), [UInt8](repeating: 0, count: 8), "minutes 0.0")
        // The same file in version 2, as Docs/FORMAT.md gives it: 1480 bytes, tcfg's old checksum.
        let two = Self.versionTwo(example)
        XCTAssertEqual(two.count, 1480)
        XCTAssertEqual((0..<4).reduce(0) { $0 | UInt32(two[0x270 + $1]) << (8 * $1) }, 0x411A_ADA0)
        let decoded = try Checkpoint(decoding: bytes)
        XCTAssertEqual(decoded.lineage, example.lineage)
        XCTAssertEqual(decoded.training?.frozen, [0..<8])
        XCTAssertEqual(decoded.writtenBy, "1.0.0")
        XCTAssertEqual(decoded.encoded(), bytes)
        example.training = nil
        var weightsOnly = Array(bytes[..<0x20C])
        weightsOnly[12] = 4
        XCTAssertEqual(example.encoded(), weightsOnly)
    }

    /// The version-2 bytes of a checkpoint with no time budget: `tcfg` without `minutes`.
    static func versionTwo(_ checkpoint: Checkpoint) -> [UInt8] {
        precondition((checkpoint.training?.settings.minutes ?? 0) == 0)
        var bytes = checkpoint.encoded()
        put(UInt32(2), into: &bytes, at: 8)
        if checkpoint.training != nil {
            bytes = resealed(bytes, "tcfg") { $0.removeLast(8) }
        }
        return bytes
    }

    /// The version-1 bytes of a checkpoint with no lineage, nothing frozen, no time budget: no
    /// `prov` section, no frozen-range count in `optm`, no `minutes` in `tcfg`.
    static func versionOne(_ checkpoint: Checkpoint) -> [UInt8] {
        precondition(checkpoint.lineage.isEmpty && (checkpoint.training?.frozen ?? []).isEmpty)
        var bytes = versionTwo(checkpoint)
        let prov = frames(bytes)[3]
        bytes.removeSubrange(prov.lengthOffset - 4..<prov.payload.upperBound + 4)
        put(UInt32(1), into: &bytes, at: 8)
        put(UInt32(checkpoint.training == nil ? 3 : 7), into: &bytes, at: 12)
        if checkpoint.training != nil {
            bytes = resealed(bytes, "optm") { $0.removeSubrange(8..<16) }
        }
        return bytes
    }

    /// Format-1 files (before provenance) still read: the old worked example's exact bytes
    /// decode to the same model, with no writer recorded; written again, they are format 3.
    func testVersionOneFilesStillRead() throws {
        var example = Self.workedExample
        example.lineage = []
        example.training?.frozen = []
        let old = Self.versionOne(example)
        XCTAssertEqual(old.count, 1387, "the size Docs/FORMAT.md gave for format 1")
        func word(_ offset: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(old[offset + $1]) << (8 * $1) } }
        let documented: [(Int, UInt32)] = [(0x48, 0xAE0D_E177), (0x5B, 0xF989_E7C4), (0x1C3, 0xB1EF_CC8F), (0x22B, 0x411A_ADA0),
                                           (0x4F3, 0x3695_08E8), (0x537, 0x84F3_08DF), (0x53B, 0x5BBD_C091), (0x567, 0xE416_1F00)]
        for (offset, value) in documented { XCTAssertEqual(word(offset), value, "format-1 offset \(offset)") }
        let decoded = try Checkpoint(decoding: old)
        XCTAssertNil(decoded.writtenBy)
        XCTAssertEqual(decoded.lineage, [])
        XCTAssertNil(decoded.training?.frozen.first)
        // History holds NaN, so the checkpoints are compared by their bytes as this tinygpt writes them.
        example.writtenBy = nil
        XCTAssertEqual(decoded.encoded(), example.encoded())
        let rewritten = decoded.encoded()
        XCTAssertEqual(rewritten[8], 3)
        XCTAssertEqual(try Checkpoint(decoding: rewritten).writtenBy, TinyGPTVersion.string, "written again by this tinygpt")
        for training in [false, true] {
            let original = Self.makeCheckpoint(Self.smallConfig, training: training)
            let decoded = try Checkpoint(decoding: Self.versionOne(original))
            XCTAssertNil(decoded.writtenBy)
            XCTAssertEqual(decoded.encoded(), original.encoded())
        }
    }

    /// Format-2 files (before the time budget) still read, as runs without one; written again,
    /// they are format 3. A budget round-trips; a negative one is refused.
    func testVersionTwoFilesStillReadAndTheBudgetRoundTrips() throws {
        for training in [false, true] {
            var original = Self.makeCheckpoint(Self.smallConfig, training: training)
            original.lineage = [LineageEntry(name: "a.ckpt", fileDigest: 7, step: 3, validationLoss: 2, addedCharacters: 0)]
            let old = Self.versionTwo(original)
            XCTAssertEqual(old[8], 2)
            let decoded = try Checkpoint(decoding: old)
            XCTAssertEqual(decoded.training?.settings.minutes ?? 0, 0)
            XCTAssertEqual(decoded.encoded(), original.encoded())
            // A version-2 file with a version-3 settings section is corrupt, and the other way round.
            if training {
                var wrong = Self.versionTwo(original)
                Self.put(UInt32(3), into: &wrong, at: 8)
                assertRejects(wrong, containing: "section 'tcfg' holds 88 bytes where 96 belong")
                var long = original.encoded()
                Self.put(UInt32(2), into: &long, at: 8)
                assertRejects(long, containing: "section 'tcfg' holds 96 bytes where 88 belong")
            }
        }
        var budgeted = Self.makeCheckpoint(Self.smallConfig, training: true)
        budgeted.training?.settings.minutes = 0.5
        let bytes = budgeted.encoded()
        XCTAssertEqual(try Checkpoint(decoding: bytes).training?.settings.minutes, 0.5)
        let tcfg = Self.frames(bytes).first { $0.tag == "tcfg" }!
        XCTAssertEqual(Array(bytes[tcfg.payload.suffix(8)]), Self.littleEndian((0.5 as Double).bitPattern), "minutes last, as f64")
        assertRejects(Self.resealed(bytes, "tcfg") { Self.put((-1.0 as Double).bitPattern, into: &$0, at: 88) },
                      containing: "`minutes` must be greater than 0")
    }

    func testProvenanceRoundTripsAndBadProvenanceIsRefused() throws {
        var original = Self.makeCheckpoint(Self.smallConfig, training: true)
        original.lineage = [LineageEntry(name: "fables/best.ckpt", fileDigest: 1, step: 600, validationLoss: 1.5, addedCharacters: 3),
                            LineageEntry(name: "Über/中.safetensors", fileDigest: 0xFFFF_FFFF, step: 0, validationLoss: .nan, addedCharacters: 0)]
        original.training?.frozen = [0..<8, 100..<164]
        original.writtenBy = "2.5.1-beta+7"
        let bytes = original.encoded()
        let decoded = try Checkpoint(decoding: bytes)
        XCTAssertEqual(decoded.lineage, original.lineage)
        XCTAssertEqual(decoded.training?.frozen, original.training?.frozen)
        XCTAssertEqual(decoded.writtenBy, "2.5.1-beta+7")
        XCTAssertEqual(decoded.encoded(), bytes)
        for (what, edit) in [("overlapping ranges", { (c: inout Checkpoint) in c.training?.frozen = [0..<8, 4..<10] }),
                             ("touching ranges", { $0.training?.frozen = [0..<8, 8..<10] }),
                             ("a range past the end", { $0.training?.frozen = [0..<1_000_000] }),
                             ("an empty name", { $0.lineage[0].name = "" }),
                             ("a newline in a name", { $0.lineage[0].name = "a\nb" }),
                             ("a negative step", { $0.lineage[1].step = -1 }),
                             ("a long writer", { $0.writtenBy = String(repeating: "9", count: 65) })] {
            var bad = original
            edit(&bad)
            XCTAssertThrowsError(try bad.validate(), what)
        }
        // Hostile bytes: a lineage count that cannot fit, a name length past the payload.
        let prov = Self.frames(bytes).first { $0.tag == "prov" }!
        let countOffset = 4 + "2.5.1-beta+7".utf8.count
        assertRejects(Self.resealed(bytes, "prov") { Self.put(UInt32.max, into: &$0, at: countOffset) }, containing: "lineage entries")
        assertRejects(Self.resealed(bytes, "prov") { Self.put(UInt32(2000), into: &$0, at: countOffset + 4 + 20) },
                      containing: "a lineage name claims 2000 bytes")
        assertRejects(Self.resealed(bytes, "prov") { $0.append(0) }, containing: "after its last field")
        XCTAssertEqual(prov.payload.count, countOffset + 4 + 2 * 24 + "fables/best.ckpt".utf8.count + "Über/中.safetensors".utf8.count)
        assertRejects(Self.resealed(bytes, "optm") { Self.put(UInt64(1) << 60, into: &$0, at: 8) }, containing: "frozen ranges")
    }

    /// Fails when a field is added to a saved type without the format saving it.
    func testEverySavedTypeHasTheFieldsTheFormatStores() {
        let checkpoint = Self.makeCheckpoint(Self.tinyConfig, training: true)
        let message = "a field was added: save it in Checkpoint+Format.swift, document it in Docs/FORMAT.md, then update this count"
        XCTAssertEqual(Mirror(reflecting: checkpoint.config).children.count, 7, message)
        XCTAssertEqual(Mirror(reflecting: TrainingConfig()).children.count, 16, message)
        XCTAssertEqual(Mirror(reflecting: checkpoint.training!).children.count, 11, message)
        XCTAssertEqual(Mirror(reflecting: checkpoint.training!.history[0]).children.count, 4, message)
        XCTAssertEqual(Mirror(reflecting: checkpoint).children.count, 6, message)
        XCTAssertEqual(Mirror(reflecting: LineageEntry(name: "a", fileDigest: 0, step: 0, validationLoss: 0, addedCharacters: 0)).children.count,
                       5, message)
        checkpoint.withContents { contents in
            XCTAssertEqual(Mirror(reflecting: contents).children.count, 6, "a field was added: mirror it in CheckpointContents too")
        }
    }

    // MARK: - Hostile files

    func testTruncationAtEveryOffsetIsRejected() {
        for training in [false, true] {
            let bytes = Self.makeCheckpoint(Self.tinyConfig, training: training).encoded()
            var rejected = 0
            for length in 0..<bytes.count {
                do {
                    _ = try Checkpoint(decoding: Array(bytes[..<length]))
                } catch let error as TinyGPTError {
                    let expected = length == 0 ? "is empty" : "is truncated"
                    if error.message.contains(expected) { rejected += 1 } else { XCTFail("length \(length): \(error.message)") }
                } catch {
                    XCTFail("length \(length): unexpected error \(error)")
                }
            }
            XCTAssertEqual(rejected, bytes.count, "every proper prefix of the \(bytes.count)-byte file must be rejected")
        }
    }

    func testEverySingleBitFlipOfATinyCheckpointIsRejected() {
        let bytes = Self.makeCheckpoint(Self.tinyConfig, training: true).encoded()
        var rejected = 0
        for bit in 0..<bytes.count * 8 {
            var flipped = bytes
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            if (try? Checkpoint(decoding: flipped)) == nil { rejected += 1 } else { XCTFail("flip of bit \(bit) was accepted") }
        }
        XCTAssertEqual(rejected, bytes.count * 8)
    }

    func testRandomBitFlipsOfALargerCheckpointAreRejected() {
        let bytes = Self.makeCheckpoint(Self.smallConfig, training: true).encoded()
        var rng = RandomGenerator(seed: 2024)
        var rejected = 0
        for _ in 0..<400 {
            let bit = rng.nextInt(below: bytes.count * 8)
            var flipped = bytes
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            if (try? Checkpoint(decoding: flipped)) == nil { rejected += 1 } else { XCTFail("flip of bit \(bit) was accepted") }
        }
        XCTAssertEqual(rejected, 400)
    }

    func testChecksumMismatchNamesTheSection() {
        var bytes = Self.makeCheckpoint(Self.tinyConfig, training: false).encoded()
        let parm = Self.frames(bytes)[2]
        bytes[parm.payload.lowerBound + 5] ^= 0x10
        assertRejects(bytes, containing: "section 'parm' fails its checksum")
    }

    func testForeignFilesAreRejected() {
        assertRejects([], containing: "is empty")
        assertRejects(Array("hello, world: not a checkpoint at all".utf8), containing: "not a tinygpt checkpoint")
        assertRejects([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D], containing: "not a tinygpt checkpoint")
        var bytes = Self.makeCheckpoint(Self.tinyConfig, training: false).encoded()
        bytes[0] = UInt8(ascii: "X")
        assertRejects(bytes, containing: "not a tinygpt checkpoint")
    }

    func testFutureAndInvalidVersionsAreRejected() {
        var bytes = Self.makeCheckpoint(Self.tinyConfig, training: false).encoded()
        Self.put(UInt32(4), into: &bytes, at: 8)
        assertRejects(bytes, containing: "format version 4, which is newer than this tinygpt supports (3); update tinygpt")
        Self.put(UInt32(0), into: &bytes, at: 8)
        assertRejects(bytes, containing: "format version 0")
        Self.put(UInt32(3), into: &bytes, at: 8)
        Self.put(UInt32(5), into: &bytes, at: 12)
        assertRejects(bytes, containing: "lists 5 sections; a version-3 checkpoint has 4 or 8")
        Self.put(UInt32(1), into: &bytes, at: 8)
        Self.put(UInt32(4), into: &bytes, at: 12)
        assertRejects(bytes, containing: "lists 4 sections; a version-1 checkpoint has 3 or 7")
    }

    func testUnknownMisplacedAndTrailingSectionsAreRejected() {
        let bytes = Self.makeCheckpoint(Self.tinyConfig, training: true).encoded()
        let frames = Self.frames(bytes)
        var unknown = bytes
        unknown.replaceSubrange(frames[3].lengthOffset - 4..<frames[3].lengthOffset, with: Array("xtra".utf8))
        assertRejects(unknown, containing: "unknown section 'xtra' where 'prov' belongs")
        var swapped = bytes
        swapped.replaceSubrange(frames[0].lengthOffset - 4..<frames[0].lengthOffset, with: Array("voca".utf8))
        assertRejects(swapped, containing: "'voca' where 'conf' belongs")
        assertRejects(bytes + [0], containing: "1 extra byte follow")
        var fewer = bytes
        Self.put(UInt32(4), into: &fewer, at: 12)
        assertRejects(fewer, containing: "extra bytes follow")
    }

    func testHugeClaimsAreRejectedQuicklyWithoutAllocating() {
        let start = Date()
        let bytes = Self.makeCheckpoint(Self.tinyConfig, training: true).encoded()
        let frames = Self.frames(bytes)

        // A parameter section claiming 2^40 floats.
        var hugeSection = bytes
        Self.put(UInt64(1) << 42, into: &hugeSection, at: frames[2].lengthOffset)
        assertRejects(hugeSection, containing: "claims 4398046511104 bytes")
        var maxSection = bytes
        Self.put(UInt64.max, into: &maxSection, at: frames[2].lengthOffset)
        assertRejects(maxSection, containing: "is truncated")

        // Config fields out of range, with valid checksums.
        func config(_ field: Int, _ value: Int64) -> [UInt8] {
            Self.resealed(bytes, "conf") { Self.put(value, into: &$0, at: 8 * field) }
        }
        assertRejects(config(4, 1 << 20), containing: "`modelWidth` must be between")
        assertRejects(config(0, 1 << 40), containing: "vocabulary size")
        assertRejects(config(0, Int64.max), containing: "vocabulary size")
        assertRejects(config(2, -1), containing: "`layerCount`")
        assertRejects(config(3, 0), containing: "`headCount`")
        assertRejects(Self.resealed(bytes, "conf") { Self.put(UInt32(9), into: &$0, at: 40) }, containing: "GELU form 9")
        assertRejects(Self.resealed(bytes, "conf") { Self.put(UInt32(0x400), into: &$0, at: 40) }, containing: "model options 0x400")

        // The largest shapes the limits allow: neither their vocabulary nor their parameters
        // can be in a small file.
        assertRejects(config(0, Int64(GPTConfig.maxVocabSize)), containing: "cannot be 2097152 UTF-8 characters")
        let largest = Self.resealed(bytes, "conf") {
            for (field, value) in [2, GPTConfig.maxContextLength, GPTConfig.maxLayerCount, 1, GPTConfig.maxModelWidth].enumerated() {
                Self.put(Int64(value), into: &$0, at: 8 * field)
            }
        }
        let largestCount = ParameterLayout(GPTConfig(
            vocabSize: 2, contextLength: GPTConfig.maxContextLength, layerCount: GPTConfig.maxLayerCount, headCount: 1,
            modelWidth: GPTConfig.maxModelWidth)).totalCount
        XCTAssertGreaterThan(largestCount, 1 << 41)
        assertRejects(largest, containing: "the model config needs \(largestCount) parameters")

        // A history count that would overflow count · 20.
        assertRejects(Self.resealed(bytes, "hist") { Self.put(UInt64(1) << 62, into: &$0, at: 0) },
                      containing: "cannot be 4611686018427387904 entries")
        XCTAssertLessThan(Date().timeIntervalSince(start), 2, "hostile headers must be rejected at once")
    }

    func testNonFiniteAndOutOfRangeValuesAreRejected() {
        var nanWeights = Self.makeCheckpoint(Self.tinyConfig, training: false)
        nanWeights.parameters[5] = .nan
        assertRejects(nanWeights.encoded(), containing: "parameter 5 (transformer.wpe.weight) is nan")
        var infWeights = Self.makeCheckpoint(Self.tinyConfig, training: false)
        infWeights.parameters[85] = -.infinity
        assertRejects(infWeights.encoded(), containing: "parameter 85 (transformer.ln_f.bias) is -inf")

        var moments = Self.makeCheckpoint(Self.tinyConfig, training: true)
        moments.training?.adamM[3] = .infinity
        assertRejects(moments.encoded(), containing: "first moment 3")
        moments = Self.makeCheckpoint(Self.tinyConfig, training: true)
        moments.training?.adamV[4] = -1
        assertRejects(moments.encoded(), containing: "second moment 4")

        var state = Self.makeCheckpoint(Self.tinyConfig, training: true)
        state.training?.rng = RandomGenerator(state: (0, 0, 0, 0))
        assertRejects(state.encoded(), containing: "all zeros")
        state = Self.makeCheckpoint(Self.tinyConfig, training: true)
        state.training?.bestValidationLoss = .nan
        assertRejects(state.encoded(), containing: "best validation loss is NaN")
        state = Self.makeCheckpoint(Self.tinyConfig, training: true)
        state.training?.settings.batchSize = 0
        assertRejects(state.encoded(), containing: "training settings are invalid")
        state = Self.makeCheckpoint(Self.tinyConfig, training: true)
        state.training?.settings.epsilon = .nan
        assertRejects(state.encoded(), containing: "epsilon")
        state = Self.makeCheckpoint(Self.tinyConfig, training: true)
        state.training?.tokensSeen = -5
        assertRejects(state.encoded(), containing: "negative")
    }

    func testBadVocabulariesAreRejected() {
        let bytes = Self.makeCheckpoint(Self.tinyConfig, training: false).encoded()
        assertRejects(Self.resealed(bytes, "voca") { $0 = [0x20, 0x0A] }, containing: "strictly increasing")
        assertRejects(Self.resealed(bytes, "voca") { $0 = [0xED, 0xA0] }, containing: "not valid UTF-8")
        assertRejects(Self.resealed(bytes, "voca") { $0 = [0xC1, 0x81] }, containing: "not valid UTF-8")
        assertRejects(Self.resealed(bytes, "voca") { $0 = [0x41, 0x42, 0x43] }, containing: "3 characters but the config says 2")
        assertRejects(Self.resealed(bytes, "voca") { $0 = [0x41] }, containing: "cannot be 2 UTF-8 characters")
        // A leading U+FEFF is an ordinary character here, not a byte-order mark.
        var bom = Self.makeCheckpoint(Self.tinyConfig, training: false)
        bom.vocabulary = [0xFEFF, 0x1F600]
        XCTAssertEqual(try? Checkpoint(decoding: bom.encoded()), bom)
    }

    func testParameterSectionOfTheWrongSizeIsRejected() {
        let bytes = Self.makeCheckpoint(Self.tinyConfig, training: false).encoded()
        assertRejects(Self.resealed(bytes, "parm") { $0.removeLast(4) }, containing: "needs 86 parameters")
        assertRejects(Self.resealed(bytes, "parm") { $0.append(0) }, containing: "needs 86 parameters")
    }

    // MARK: - Files

    func testAtomicWriteReplacesTheFileAndLeavesNoTemporaryFile() throws {
        let folder = try makeTemporaryFolder()
        let path = folder + "/model.ckpt"
        // An older (here torn) checkpoint: the output rule lets a checkpoint replace only one.
        try (CheckpointFormat.magic + Array("old contents".utf8)).write(toFile: path)
        let checkpoint = Self.makeCheckpoint(Self.smallConfig, training: true)
        try checkpoint.write(to: path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["model.ckpt"])
        XCTAssertEqual(try AtomicFile.read(path), checkpoint.encoded())
        let loaded = try Checkpoint(contentsOf: path)
        XCTAssertEqual(loaded.parameters, checkpoint.parameters)
        XCTAssertEqual(try Checkpoint.peekConfig(contentsOf: path), Self.smallConfig)

        let smaller = Self.makeCheckpoint(Self.tinyConfig, training: false)
        try smaller.write(to: path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["model.ckpt"])
        XCTAssertEqual(try Checkpoint(contentsOf: path), smaller)
    }

    func testStreamedWritesGiveTheEncodedBytes() throws {
        let folder = try makeTemporaryFolder()
        for training in [false, true] {
            let checkpoint = Self.makeCheckpoint(Self.smallConfig, training: training)
            let paths = [folder + "/a.ckpt", folder + "/b.ckpt"]
            try checkpoint.write(to: paths)
            for path in paths { XCTAssertEqual(try AtomicFile.read(path), checkpoint.encoded(), "training \(training)") }
            checkpoint.withContents { XCTAssertEqual($0.encodedSize, checkpoint.encoded().count) }
        }
        // Pieces of any size, including empty ones, land in order.
        let path = folder + "/pieces.bin"
        try AtomicFile.write(to: path) { emit in
            for piece: [UInt8] in [[1, 2], [], [3], [4, 5, 6]] { try piece.withUnsafeBytes { try emit($0) } }
        }
        XCTAssertEqual(try AtomicFile.read(path), [1, 2, 3, 4, 5, 6])
    }

    func testAFailingProducerKeepsTheOldFileAndLeavesNoTemporaryFile() throws {
        struct Interrupted: Error {}
        let folder = try makeTemporaryFolder()
        let path = folder + "/model.ckpt"
        try AtomicFile.write([7, 7, 7], to: path)
        XCTAssertThrowsError(try AtomicFile.write(to: path) { emit in
            try [UInt8](repeating: 1, count: 1000).withUnsafeBytes { try emit($0) }
            throw Interrupted()
        }) { error in
            XCTAssertTrue(error is Interrupted, "the producer's own error comes through: \(error)")
        }
        XCTAssertEqual(try AtomicFile.read(path), [7, 7, 7])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["model.ckpt"])
    }

    func testAtomicWriteKeepsPermissionsAndWorksInTheCurrentFolder() throws {
        let folder = try makeTemporaryFolder()
        let path = folder + "/weights.bin"
        try AtomicFile.write([1, 2, 3], to: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        try AtomicFile.write([4, 5], to: path)
        let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        XCTAssertEqual(permissions, 0o600)
        XCTAssertEqual(try AtomicFile.read(path), [4, 5])
        XCTAssertEqual(try AtomicFile.read(path, limit: 1), [4])
    }

    func testWritingIntoAMissingFolderThrows() throws {
        let folder = try makeTemporaryFolder()
        let path = folder + "/no/such/folder/model.ckpt"
        XCTAssertThrowsError(try Self.makeCheckpoint(Self.tinyConfig, training: false).write(to: path)) { error in
            XCTAssertTrue("\(error)".contains("cannot write \(path): no such folder \(folder)/no/such/folder"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
        XCTAssertThrowsError(try AtomicFile.write([1], to: folder)) { error in
            XCTAssertTrue("\(error)".contains("is a folder"), "\(error)")
        }
        XCTAssertThrowsError(try AtomicFile.write([1], to: folder + "/")) { error in
            XCTAssertTrue("\(error)".contains("names a folder"), "\(error)")
        }
    }

    func testWritingNonFiniteWeightsIsRefusedAndKeepsTheOldFile() throws {
        let folder = try makeTemporaryFolder()
        let path = folder + "/model.ckpt"
        let good = Self.makeCheckpoint(Self.tinyConfig, training: true)
        try good.write(to: path)
        var diverged = good
        diverged.parameters[0] = .nan
        XCTAssertThrowsError(try diverged.write(to: path)) { error in
            XCTAssertTrue("\(error)".contains("refusing to write \(path): parameter 0 (transformer.wte.weight) is nan"), "\(error)")
        }
        XCTAssertThrowsError(try diverged.validate())
        XCTAssertNoThrow(try good.validate())
        XCTAssertEqual(try AtomicFile.read(path), good.encoded())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["model.ckpt"])
    }

    func testReadingErrorsNameThePath() throws {
        let folder = try makeTemporaryFolder()
        XCTAssertThrowsError(try Checkpoint(contentsOf: folder + "/missing.ckpt")) { error in
            XCTAssertTrue("\(error)".contains("checkpoint not found: \(folder)/missing.ckpt"), "\(error)")
        }
        XCTAssertThrowsError(try Checkpoint(contentsOf: folder)) { error in
            XCTAssertTrue("\(error)".contains("is a folder"), "\(error)")
        }
        let path = folder + "/cut.ckpt"
        let bytes = Self.makeCheckpoint(Self.tinyConfig, training: false).encoded()
        try Array(bytes[..<100]).write(toFile: path)
        XCTAssertThrowsError(try Checkpoint(contentsOf: path)) { error in
            XCTAssertTrue("\(error)".contains("checkpoint \(path) is truncated"), "\(error)")
        }
        try Array(bytes[..<50]).write(toFile: path)
        XCTAssertThrowsError(try Checkpoint.peekConfig(contentsOf: path)) { error in
            XCTAssertTrue("\(error)".contains("is truncated"), "\(error)")
        }
        XCTAssertThrowsError(try Checkpoint(contentsOf: "/dev/zero")) { error in
            XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
        }
    }
}

private extension Array where Element == UInt8 {
    func write(toFile path: String) throws {
        try Data(self).write(to: URL(fileURLWithPath: path))
    }
}
