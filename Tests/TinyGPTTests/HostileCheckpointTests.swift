// Hostile checkpoint files, crafted in code: every section tag unknown or misplaced, lengths that
// claim terabytes, config fields at and just past their limits, malformed vocabularies, NaN,
// infinities and negative second moments sealed with valid checksums, random garbage of many
// sizes, and mutated files whose frames and checksums are then repaired. Each must be rejected
// with a TinyGPTError in well under a second and without a large allocation (Docs/FORMAT.md, "Reading:
// what is checked, and in what order"). CheckpointTests has the basic cases, truncation at every
// offset and single-bit flips; Tests/Fuzz runs the same reader under libFuzzer, and its seed
// corpus is checked here.

import Foundation
import XCTest
@testable import TinyGPT

final class HostileCheckpointTests: XCTestCase {
    typealias Fixtures = CheckpointTests

    /// Longest any single decode may take, in nanoseconds.
    static let timeLimit: UInt64 = 1_000_000_000
    /// How far the process's peak resident memory may rise during one test.
    static let memoryLimit = 64 << 20

    private var memoryBaseline = 0

    override func setUp() {
        super.setUp()
        memoryBaseline = PeakMemory.reset()
    }

    override func tearDown() {
        if let peak = PeakMemory.peak() {
            XCTAssertLessThan(peak - memoryBaseline, Self.memoryLimit,
                              "peak resident memory rose by \((peak - memoryBaseline) >> 20) MB while decoding hostile files")
        }
        super.tearDown()
    }

    // MARK: - Probe

    /// Decodes files one by one, timing each and tallying what happened.
    final class Probe {
        let name: String
        private(set) var tried = 0, rejected = 0, accepted = 0
        /// The slowest decode, in nanoseconds.
        private(set) var slowest: UInt64 = 0
        /// How many rejections came from the content checks, past magic, frames and checksums.
        private(set) var contentRejections = 0

        init(_ name: String) { self.name = name }

        /// The decoder's verdict on `bytes`: a checkpoint, a TinyGPTError, or any other error.
        func decode(_ bytes: [UInt8]) -> Result<Checkpoint, Error> {
            tried += 1
            let start = DispatchTime.now().uptimeNanoseconds
            let result = Result { try Checkpoint(decoding: bytes) }
            slowest = max(slowest, DispatchTime.now().uptimeNanoseconds - start)
            if case .success = result { accepted += 1 } else { rejected += 1 }
            if case .failure(let error as TinyGPTError) = result, Self.isContentError(error.message) { contentRejections += 1 }
            return result
        }

        /// Whether a message comes from pass 2 of the reader (Docs/FORMAT.md), not from the frames.
        static func isContentError(_ message: String) -> Bool {
            !["is empty", "not a tinygpt checkpoint", "format version", "sections;", "is truncated",
              "unknown section", "belongs", "checksum", "extra byte"].contains { message.contains($0) }
        }

        /// Prints the tally and checks the time limit.
        func finish(file: StaticString = #filePath, line: UInt = #line) {
            print("\(name): \(tried) files tried, \(rejected) rejected (\(contentRejections) by content checks), \(accepted) accepted; slowest \(Double(slowest) / 1e6) ms")
            XCTAssertLessThan(slowest, HostileCheckpointTests.timeLimit, "\(name): a decode took \(Double(slowest) / 1e9) s", file: file, line: line)
        }
    }

    /// Asserts that `bytes` are rejected with a runtime TinyGPTError whose message contains every
    /// fragment.
    func assertRejected(_ bytes: [UInt8], _ probe: Probe, containing fragments: String..., because what: String,
                        file: StaticString = #filePath, line: UInt = #line) {
        switch probe.decode(bytes) {
        case .success:
            XCTFail("\(what): the file was accepted", file: file, line: line)
        case .failure(let error as TinyGPTError):
            XCTAssertEqual(error.kind, .runtime, "\(what): \(error.message)", file: file, line: line)
            for fragment in fragments where !error.message.contains(fragment) {
                XCTFail("\(what): message \"\(error.message)\" lacks \"\(fragment)\"", file: file, line: line)
            }
        case .failure(let error):
            XCTFail("\(what): threw \(type(of: error)), not a TinyGPTError: \(error)", file: file, line: line)
        }
    }

    /// Asserts that `bytes` are accepted and encode back to themselves.
    func assertAccepted(_ bytes: [UInt8], _ probe: Probe, because what: String, file: StaticString = #filePath, line: UInt = #line) {
        switch probe.decode(bytes) {
        case .success(let checkpoint):
            XCTAssertEqual(checkpoint.encoded(), bytes, "\(what): accepted but encodes differently", file: file, line: line)
        case .failure(let error):
            XCTFail("\(what): rejected: \(error)", file: file, line: line)
        }
    }

    // MARK: - Fixtures

    static var tinyWeights: [UInt8] { Fixtures.makeCheckpoint(Fixtures.tinyConfig, training: false).encoded() }
    static var tinyTraining: [UInt8] { Fixtures.makeCheckpoint(Fixtures.tinyConfig, training: true).encoded() }

    /// `bytes` with the 4-byte value at `offset` of section `tag`'s payload replaced, checksum redone.
    static func patched<T: FixedWidthInteger>(_ bytes: [UInt8], _ tag: String, at offset: Int, _ value: T) -> [UInt8] {
        Fixtures.resealed(bytes, tag) { Fixtures.put(value, into: &$0, at: offset) }
    }

    /// `bytes` with section `tag`'s payload replaced by `payload` (length and checksum redone).
    static func withPayload(_ bytes: [UInt8], _ tag: String, _ payload: [UInt8]) -> [UInt8] {
        Fixtures.resealed(bytes, tag) { $0 = payload }
    }

    /// Recomputes every section checksum in place, as far as the frames fit; with `redrawLengths`,
    /// first sets each length so the payload ends 4 bytes before the next expected tag (the
    /// repair the fuzzer's smart modes do, written again here).
    static func repairFrames(_ bytes: inout [UInt8], redrawLengths: Bool) {
        let tags = ["conf", "voca", "parm", "prov", "tcfg", "optm", "prog", "hist"].map { Array($0.utf8) }
        func find(_ needle: [UInt8], from start: Int) -> Int? {
            guard start + 4 <= bytes.count else { return nil }
            return (start...(bytes.count - 4)).first { bytes[$0..<$0 + 4].elementsEqual(needle) }
        }
        var offset = 16, index = 0
        while bytes.count - offset >= 16 {
            let start = offset + 12
            if redrawLengths {
                let next = index + 1 < tags.count ? find(tags[index + 1], from: start + 4) : nil
                Fixtures.put(UInt64((next ?? bytes.count) - 4 - start), into: &bytes, at: offset + 4)
            }
            let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + 4 + $1]) << (8 * UInt64($1)) }
            guard length <= UInt64(bytes.count - start - 4) else { return }
            let end = start + Int(length)
            Fixtures.put(CRC32.checksum(Array(bytes[start..<end])), into: &bytes, at: end)
            offset = end + 4
            index += 1
        }
    }

    // MARK: - Frames

    func testEverySectionTagUnknownOrMisplacedIsRejected() {
        let probe = Probe("tags")
        let known = CheckpointFormat.Tag.allCases.map(\.rawValue)
        let unknown: [[UInt8]] = [Array("xtra".utf8), Array("CONF".utf8), [0, 0, 0, 0], [0xFF, 0xFE, 0x80, 0x01], Array("con\u{7F}".utf8)]
        for bytes in [Self.tinyWeights, Self.tinyTraining] {
            let frames = Fixtures.frames(bytes)
            for (position, frame) in frames.enumerated() {
                let tagRange = frame.lengthOffset - 4..<frame.lengthOffset
                for tag in unknown {
                    var file = bytes
                    file.replaceSubrange(tagRange, with: tag)
                    assertRejected(file, probe, containing: "unknown section", "where '\(frame.tag)' belongs", "newer tinygpt",
                                   because: "tag \(tag) at section \(position + 1)")
                }
                for other in known where other != frame.tag {
                    var file = bytes
                    file.replaceSubrange(tagRange, with: Array(other.utf8))
                    assertRejected(file, probe, containing: "'\(other)' where '\(frame.tag)' belongs", because: "tag \(other) at section \(position + 1)")
                }
            }
        }
        // A header that promises training sections the file does not hold.
        var promised = Self.tinyWeights
        Fixtures.put(UInt32(8), into: &promised, at: 12)
        assertRejected(promised, probe, containing: "is truncated", "ends after section 4 of 8", because: "8 sections promised, 4 present")
        XCTAssertEqual(probe.tried, 4 * 12 + 8 * 12 + 1)
        probe.finish()
    }

    func testSectionLengthsClaimingTerabytesAreRejected() {
        let probe = Probe("lengths")
        let bytes = Self.tinyTraining
        for frame in Fixtures.frames(bytes) {
            let remaining = UInt64(bytes.count - frame.payload.lowerBound)
            let claims: [UInt64] = [1 << 40, 1 << 50, 1 << 62, UInt64(Int64.max), UInt64(Int64.max) + 1,
                                    UInt64.max - 15, UInt64.max, remaining - 3, remaining]
            for claim in claims {
                var file = bytes
                Fixtures.put(claim, into: &file, at: frame.lengthOffset)
                assertRejected(file, probe, containing: "is truncated", "section '\(frame.tag)'", because: "'\(frame.tag)' claiming \(claim) bytes")
            }
            // One byte short or long of the truth: the checksum lands elsewhere.
            for delta in [-1, 1] {
                var file = bytes
                Fixtures.put(UInt64(frame.payload.count + delta), into: &file, at: frame.lengthOffset)
                assertRejected(file, probe, because: "'\(frame.tag)' length off by \(delta)")
            }
        }
        XCTAssertEqual(probe.tried, 8 * 11)
        probe.finish()
    }

    // MARK: - Config

    func testConfigFieldsAtAndJustOverTheirLimitsAreRejected() {
        let probe = Probe("config limits")
        let bytes = Self.tinyTraining
        func config(_ field: Int, _ value: Int64) -> [UInt8] { Self.patched(bytes, "conf", at: 8 * field, value) }
        let limits: [(field: Int, name: String, limit: Int)] = [
            (0, "vocabulary size", GPTConfig.maxVocabSize), (1, "`contextLength`", GPTConfig.maxContextLength),
            (2, "`layerCount`", GPTConfig.maxLayerCount), (4, "`modelWidth`", GPTConfig.maxModelWidth),
        ]
        for (field, name, limit) in limits {
            // At the limit the config is valid, but a small file cannot hold what it implies.
            switch probe.decode(config(field, Int64(limit))) {
            case .failure(let error as TinyGPTError):
                XCTAssertFalse(error.message.contains("out of range"), "\(name) at its limit \(limit): \(error.message)")
                XCTAssertTrue(error.message.contains("section 'voca'") || error.message.contains("section 'parm'"),
                              "\(name) at its limit \(limit): \(error.message)")
            case let other:
                XCTFail("\(name) at its limit \(limit): \(other)")
            }
            for value in [Int64(limit) + 1, Int64(limit) * 2, 0, -1, Int64.min, Int64.max] {
                assertRejected(config(field, value), probe, containing: "out of range", name, because: "\(name) \(value)")
            }
        }
        // Heads: at most the width (here 2), and a divisor of it.
        assertAccepted(config(3, 2), probe, because: "2 heads of width 1")
        for heads: Int64 in [0, -1, 3, Int64.min] {
            assertRejected(config(3, heads), probe, containing: "out of range", "`headCount`", because: "\(heads) heads")
        }
        // The architecture word: GELU codes 0 and 1 exist, bit 8 is "no skip connections",
        // every other bit is unknown.
        assertAccepted(Self.patched(bytes, "conf", at: 40, UInt32(1)), probe, because: "exact GELU")
        assertAccepted(Self.patched(bytes, "conf", at: 40, UInt32(0x101)), probe, because: "exact GELU, no residual")
        for code: UInt32 in [2, 0xFF] {
            assertRejected(Self.patched(bytes, "conf", at: 40, code), probe, containing: "GELU form \(code)", because: "GELU code \(code)")
            assertRejected(Self.patched(bytes, "conf", at: 40, code | 0x100), probe, containing: "GELU form \(code)",
                           because: "GELU code \(code), no residual")
        }
        for (word, unknown) in [(UInt32(0x200), "0x200"), (0x1_0000, "0x10000"), (UInt32.max, "0xfffffe00")] {
            assertRejected(Self.patched(bytes, "conf", at: 40, word), probe, containing: "model options \(unknown)",
                           because: "architecture word \(word)")
        }
        // Every field at its limit at once: about 2^43 parameters, still counted without overflow.
        let largest = Fixtures.resealed(bytes, "conf") {
            for (field, value) in [GPTConfig.maxVocabSize, GPTConfig.maxContextLength, GPTConfig.maxLayerCount, 1, GPTConfig.maxModelWidth].enumerated() {
                Fixtures.put(Int64(value), into: &$0, at: 8 * field)
            }
        }
        assertRejected(largest, probe, containing: "section 'voca'", because: "every field at its limit")
        probe.finish()
    }

    // MARK: - Vocabulary

    func testMalformedVocabulariesAreRejected() {
        let probe = Probe("vocabulary")
        let bytes = Self.tinyWeights
        let invalidUTF8: [(String, [UInt8])] = [
            ("high surrogate", [0x61, 0xED, 0xA0, 0x80]), ("low surrogate", [0x61, 0xED, 0xBF, 0xBF]),
            ("CESU-8 pair", [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]), ("above U+10FFFF", [0x61, 0xF4, 0x90, 0x80, 0x80]),
            ("lead F5", [0x61, 0xF5, 0x80, 0x80, 0x80]), ("lead FF", [0x61, 0xFF]), ("5-byte form", [0xF8, 0x88, 0x80, 0x80, 0x80, 0x61]),
            ("overlong NUL", [0xC0, 0x80, 0x61]), ("overlong 2-byte", [0xC1, 0xBF, 0x61]), ("overlong 3-byte", [0xE0, 0x9F, 0xBF, 0x61]),
            ("overlong 4-byte", [0xF0, 0x8F, 0xBF, 0xBF, 0x61]), ("lone continuation", [0x80, 0x61]),
            ("cut 2-byte", [0x61, 0xC3]), ("cut 3-byte", [0x61, 0xE4, 0xB8]), ("cut 4-byte", [0x61, 0xF0, 0x9F, 0x98]),
            ("ASCII as continuation", [0xC3, 0x41]),
        ]
        for (what, payload) in invalidUTF8 {
            assertRejected(Self.withPayload(bytes, "voca", payload), probe, containing: "section 'voca' is not valid UTF-8", because: what)
        }
        let badOrder: [(String, [UInt8])] = [
            ("duplicate ASCII", [0x61, 0x61]), ("duplicate 2-byte", [0xC3, 0xA9, 0xC3, 0xA9]),
            ("duplicate 4-byte", [0xF0, 0x9F, 0x98, 0x80, 0xF0, 0x9F, 0x98, 0x80]), ("descending", [0xC3, 0xA9, 0x61]),
            ("descending 4-byte", [0xF4, 0x8F, 0xBF, 0xBF, 0x00]),
        ]
        for (what, payload) in badOrder {
            assertRejected(Self.withPayload(bytes, "voca", payload), probe, containing: "strictly increasing", because: what)
        }
        assertRejected(Self.withPayload(bytes, "voca", []), probe, containing: "cannot be 2 UTF-8 characters", because: "empty")
        assertRejected(Self.withPayload(bytes, "voca", [0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69]), probe,
                       containing: "cannot be 2 UTF-8 characters", because: "9 bytes for 2 characters")
        assertRejected(Self.withPayload(bytes, "voca", [0x61, 0x62, 0x63]), probe, containing: "3 characters", because: "one too many")
        // The ends of the scalar range, and noncharacters, are ordinary vocabulary entries.
        let ordinary: [(String, [UInt8])] = [
            ("U+0000 and U+10FFFF", [0x00, 0xF4, 0x8F, 0xBF, 0xBF]), ("U+FFFE and U+FFFF", [0xEF, 0xBF, 0xBE, 0xEF, 0xBF, 0xBF]),
            ("U+D7FF and U+E000", [0xED, 0x9F, 0xBF, 0xEE, 0x80, 0x80]),
        ]
        for (what, payload) in ordinary {
            assertAccepted(Self.withPayload(bytes, "voca", payload), probe, because: what)
        }
        probe.finish()
    }

    // MARK: - Values sealed with valid checksums

    func testNonFiniteValuesAndNegativeSecondMomentsAreRejected() {
        let probe = Probe("values")
        let bytes = Self.tinyTraining
        let layout = ParameterLayout(Fixtures.tinyConfig)
        let P = layout.totalCount
        let nonFinite: [UInt32] = [0x7FC0_0000, 0x7F80_0001, 0xFFC0_0000, 0x7FFF_FFFF, 0x7F80_0000, 0xFF80_0000]
        for tensor in layout.tensors {
            for index in [tensor.offset, tensor.offset + tensor.count - 1] {
                for bits in nonFinite {
                    let value = Float(bitPattern: bits)
                    assertRejected(Self.patched(bytes, "parm", at: 4 * index, bits), probe,
                                   containing: "parameter \(index) (\(tensor.name)) is \(value)", because: "\(value) in \(tensor.name)")
                    assertRejected(Self.patched(bytes, "optm", at: 16 + 4 * index, bits), probe,
                                   containing: "AdamW first moment \(index) (\(tensor.name))", because: "\(value) in m of \(tensor.name)")
                    assertRejected(Self.patched(bytes, "optm", at: 16 + 4 * P + 4 * index, bits), probe,
                                   containing: "AdamW second moment \(index) (\(tensor.name))", because: "\(value) in v of \(tensor.name)")
                }
            }
        }
        for negative: Float in [-1, -.leastNonzeroMagnitude, -.leastNormalMagnitude, -.greatestFiniteMagnitude] {
            for index in [0, P / 2, P - 1] {
                assertRejected(Self.patched(bytes, "optm", at: 16 + 4 * P + 4 * index, negative.bitPattern), probe,
                               containing: "AdamW second moment \(index)", "must be finite and not negative", because: "v[\(index)] = \(negative)")
            }
        }
        // -0.0 compares equal to 0: a harmless second moment.
        assertAccepted(Self.patched(bytes, "optm", at: 16 + 4 * P, (-0.0 as Float).bitPattern), probe, because: "v[0] = -0.0")

        // Training settings: every float field NaN or infinite, the f64 fraction too.
        for offset in [16, 20, 32, 36, 40, 44, 48, 52] {
            for bits: UInt32 in [0x7FC0_0000, 0x7F80_0000, 0xFF80_0000] {
                assertRejected(Self.patched(bytes, "tcfg", at: offset, bits), probe, containing: "training settings are invalid",
                               because: "tcfg float at \(offset) = \(Float(bitPattern: bits))")
            }
        }
        for bits: UInt64 in [0x7FF8_0000_0000_0000, 0x7FF0_0000_0000_0000, 0, 0x3FF0_0000_0000_0000] {
            assertRejected(Self.patched(bytes, "tcfg", at: 80, bits), probe, containing: "`validationFraction` must be in (0, 1)",
                           because: "validation fraction \(Double(bitPattern: bits))")
        }
        for (offset, value) in [(0, Int64.min), (0, 0), (8, -1), (24, Int64.min), (64, 0), (72, Int64.max)] {
            assertRejected(Self.patched(bytes, "tcfg", at: offset, value), probe, containing: "training settings are invalid",
                           because: "tcfg integer at \(offset) = \(value)")
        }
        // Progress and history: NaN best loss, negative counters, an all-zero generator.
        for bits: UInt32 in [0x7FC0_0000, 0xFFFF_FFFF] {
            assertRejected(Self.patched(bytes, "prog", at: 48, bits), probe, containing: "best validation loss is NaN", because: "best loss NaN")
        }
        assertRejected(Fixtures.resealed(bytes, "prog") { $0.replaceSubrange(0..<32, with: [UInt8](repeating: 0, count: 32)) }, probe,
                       containing: "all zeros", because: "zero generator state")
        assertRejected(Self.patched(bytes, "optm", at: 0, Int64(-1)), probe, containing: "negative", because: "step -1")
        assertRejected(Self.patched(bytes, "prog", at: 32, Int64.min), probe, containing: "negative", because: "tokensSeen")
        assertRejected(Self.patched(bytes, "prog", at: 40, Int64(-1)), probe, containing: "negative", because: "corpusLength")
        assertRejected(Self.patched(bytes, "hist", at: 28, Int64.min), probe, containing: "negative step", because: "history step")
        probe.finish()
    }

    // MARK: - Garbage and mutants

    func testRandomGarbageOfManySizesIsRejected() {
        let probe = Probe("garbage")
        var rng = RandomGenerator(seed: 0xBAD_F11E)
        let training = Self.tinyTraining
        let header = Array(training[0..<16])
        let headerAndConfig = Array(training[0..<Fixtures.frames(training)[1].lengthOffset - 4])
        let sizes = Array(0..<160) + [255, 256, 257, 1000, 1387, 4096, 65_536, 1 << 20]
        for size in sizes {
            let noise = (0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            assertRejected(noise, probe, because: "\(size) random bytes")
            assertRejected(header + noise, probe, because: "a valid header and \(size) random bytes")
            assertRejected(headerAndConfig + noise, probe, because: "a valid header and config and \(size) random bytes")
            // The same noise with every frame it forms repaired.
            var framed = headerAndConfig + noise
            Self.repairFrames(&framed, redrawLengths: size % 2 == 0)
            assertRejected(framed, probe, because: "a valid header and config and \(size) random bytes, frames repaired")
        }
        XCTAssertEqual(probe.tried, 4 * sizes.count)
        probe.finish()
    }

    func testMutatedFilesWithRepairedChecksumsAreRejectedOrRoundTrip() {
        let probe = Probe("mutants")
        var rng = RandomGenerator(seed: 0x5EED)
        let bases = [Self.tinyWeights, Self.tinyTraining, Fixtures.makeCheckpoint(Fixtures.smallConfig, training: false).encoded()]
            + Self.corpusFiles("checkpoint").map(\.bytes)
        let interesting: [UInt64] = [0, 1, 2, 3, 7, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
                                     0x7FC0_0000, 0x7F80_0000, 1 << 21, 1 << 40, UInt64(Int64.max), UInt64.max]
        let mutantCount = 600
        for n in 0..<mutantCount {
            var file = bases[n % bases.count]
            for _ in 0...rng.nextInt(below: 4) {
                let at = rng.nextInt(below: file.count)
                switch rng.nextInt(below: 6) {
                case 0: file[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: file[at] ^= 1 << UInt8(rng.nextInt(below: 8))
                case 2:
                    let value = interesting[rng.nextInt(below: interesting.count)]
                    let width = [1, 2, 4, 8][rng.nextInt(below: 4)]
                    for k in 0..<min(width, file.count - at) { file[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
                case 3: file.insert(contentsOf: (0..<1 + rng.nextInt(below: 8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
                case 4: file.removeSubrange(at..<min(file.count, at + 1 + rng.nextInt(below: 8)))
                default:
                    let from = rng.nextInt(below: file.count)
                    file.insert(contentsOf: file[from..<min(file.count, from + 1 + rng.nextInt(below: 16))], at: at)
                }
                if file.isEmpty { file = [0] }
            }
            Self.repairFrames(&file, redrawLengths: n % 2 == 1)
            switch probe.decode(file) {
            case .success(let checkpoint) where UInt32(file[8]) < CheckpointFormat.version:
                // An older file (a seed kept from format 1 or 2) is written back in this version.
                let upgraded = checkpoint.encoded()
                XCTAssertEqual(try? Checkpoint(decoding: upgraded).encoded(), upgraded, "mutant \(n): its upgraded form reads back differently")
            case .success(let checkpoint):
                XCTAssertEqual(checkpoint.encoded(), file, "mutant \(n) was accepted but encodes differently")
            case .failure(let error as TinyGPTError):
                XCTAssertEqual(error.kind, .runtime, "mutant \(n): \(error.message)")
            case .failure(let error):
                XCTFail("mutant \(n) threw \(type(of: error)), not a TinyGPTError: \(error)")
            }
        }
        XCTAssertEqual(probe.tried, mutantCount)
        XCTAssertGreaterThan(probe.rejected, mutantCount / 2)
        // The repair is what lets mutants reach the content checks behind the checksums.
        XCTAssertGreaterThan(probe.contentRejections, mutantCount / 5, "too few mutants got past the frame checks")
        probe.finish()
    }

    // MARK: - The fuzzer's seed corpus

    /// The files in Tests/Fuzz/corpus/`target`, by name.
    static func corpusFiles(_ target: String) -> [(name: String, bytes: [UInt8])] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/corpus/\(target)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().compactMap { name in
            (try? Data(contentsOf: folder.appendingPathComponent(name))).map { (name, [UInt8]($0)) }
        }
    }

    func testFuzzSeedCorpusIsValidAndSmall() throws {
        let regenerate = "regenerate it with: bash Tests/Fuzz/run-fuzzer.sh --write-seeds"
        let checkpoints = Self.corpusFiles("checkpoint")
        XCTAssertGreaterThanOrEqual(checkpoints.count, 4, "Tests/Fuzz/corpus/checkpoint is missing seeds; \(regenerate)")
        var withTraining = 0
        for (name, bytes) in checkpoints {
            XCTAssertLessThan(bytes.count, 4000, "\(name) is too large for the fuzzer's -max_len")
            do {
                let checkpoint = try Checkpoint(decoding: bytes)
                if name.hasPrefix("v1-") || name.hasPrefix("v2-") {
                    // Kept from format 1 or 2: still read, and written back in this version.
                    XCTAssertEqual(String(bytes[8]), String(name.dropFirst().prefix(1)), "\(name) should be a file of that version")
                    if name.hasPrefix("v1-") { XCTAssertNil(checkpoint.writtenBy) }
                    XCTAssertEqual(checkpoint.training?.settings.minutes ?? 0, 0, "no time budget before version 3")
                    XCTAssertEqual(try Checkpoint(decoding: checkpoint.encoded()).encoded(), checkpoint.encoded())
                } else {
                    XCTAssertEqual(checkpoint.encoded(), bytes, "\(name) does not re-encode to itself; \(regenerate)")
                }
                if checkpoint.training != nil { withTraining += 1 }
            } catch {
                XCTFail("seed \(name) no longer decodes (\(error)); \(regenerate)")
            }
        }
        XCTAssertGreaterThan(withTraining, 0)
        XCTAssertLessThan(withTraining, checkpoints.count)

        // Safetensors inputs: a mode byte, the sidecar's u16 length, the sidecar, the weights.
        let safetensors = Self.corpusFiles("safetensors")
        XCTAssertGreaterThanOrEqual(safetensors.count, 2, "Tests/Fuzz/corpus/safetensors is missing seeds; \(regenerate)")
        for (name, bytes) in safetensors {
            XCTAssertLessThan(bytes.count, 8000, "\(name) is too large for the fuzzer's -max_len")
            guard bytes.count > 3 else { XCTFail("\(name) is too short"); continue }
            let sidecarEnd = 3 + (Int(bytes[1]) | Int(bytes[2]) << 8)
            XCTAssertEqual(bytes[0], 0, "\(name) should be stored with mode byte 0")
            XCTAssertLessThanOrEqual(sidecarEnd, bytes.count, "\(name): the sidecar length runs past the end")
            do {
                let checkpoint = try ModelExport.checkpoint(safetensors: Array(bytes[min(sidecarEnd, bytes.count)...]),
                                                            sidecar: Array(bytes[3..<min(sidecarEnd, bytes.count)]))
                XCTAssertNoThrow(try checkpoint.validate(), name)
            } catch {
                XCTFail("seed \(name) no longer imports (\(error)); \(regenerate)")
            }
        }
        print("fuzz seed corpus: \(checkpoints.count) checkpoints (\(withTraining) with training state), \(safetensors.count) safetensors inputs")
    }
}

// MARK: - Peak memory

/// The process's peak resident memory, from /proc on Linux or getrusage on Darwin.
enum PeakMemory {
    /// Resets the peak to the current resident size where the system allows it (Linux 4.0 and
    /// later: writing 5 to /proc/self/clear_refs), and returns the value to measure growth from:
    /// the current size after a reset, else the peak so far.
    static func reset() -> Int {
        if FileManager.default.isWritableFile(atPath: "/proc/self/clear_refs"),
           (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil,
           let current = statusField("VmRSS:") {
            return current
        }
        return peak() ?? 0
    }

    /// The peak resident size in bytes, or nil where it cannot be read.
    static func peak() -> Int? {
        if let value = statusField("VmHWM:") { return value }
        #if canImport(Darwin)
        var usage = rusage()
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return nil }
        return Int(usage.ru_maxrss)  // bytes on Darwin
        #else
        return nil
        #endif
    }

    /// A "Name:   123 kB" line of /proc/self/status, in bytes.
    private static func statusField(_ name: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(name) {
            return line.split(separator: " ").compactMap { Int($0) }.first.map { $0 * 1024 }
        }
        return nil
    }
}
