// Tests for safetensors export and import (IO/Safetensors.swift, IO/ModelExport.swift):
// round trips keep every weight bit and every logit; an independent reader written here from
// the format's description (github.com/huggingface/safetensors) validates exported files;
// nanoGPT's variants (bias=False, _orig_mod. prefix, causal-mask buffers, head stored only as
// lm_head.weight) import; damaged or foreign files give one-line errors naming the problem.
//
// With TINYGPT_EXPORT_DIR set, `testExportsComparisonModels` leaves two models, their prompts
// and their logits there for Tests/Interop/compare_with_pytorch.py.

import Foundation
import XCTest
@testable import TinyGPT

final class SafetensorsTests: XCTestCase {
    // MARK: - Fixtures

    /// Scalars in increasing order, with a control character, a newline, JSON's special
    /// characters, and letters from outside ASCII and outside the BMP.
    static let vocabulary: [UInt32] = [0x07, 0x0A, 0x20, 0x21, 0x22, 0x5C, 0x61, 0x62, 0xE9, 0x4E2D, 0x1F600]

    static func config(gelu: GELUForm = .tanh) -> GPTConfig {
        GPTConfig(vocabSize: vocabulary.count, contextLength: 16, layerCount: 2, headCount: 2, modelWidth: 16, gelu: gelu)
    }

    /// A checkpoint whose every parameter is random and distinct from GPT-2's init (nonzero
    /// biases, LayerNorm gains away from 1), so a tensor that goes astray changes the logits.
    static func checkpoint(gelu: GELUForm = .tanh, seed: UInt64 = 7) -> Checkpoint {
        let config = config(gelu: gelu)
        var rng = RandomGenerator(seed: seed)
        let layout = ParameterLayout(config)
        var parameters = [Float](repeating: 0, count: layout.totalCount)
        for tensor in layout.tensors {
            let isGain = tensor.name.hasSuffix("ln_1.weight") || tensor.name.hasSuffix("ln_2.weight")
                || tensor.name.hasSuffix("ln_f.weight")
            for i in tensor.offset..<tensor.offset + tensor.count {
                parameters[i] = (isGain ? 1 : 0) + 0.3 * rng.nextNormal()
            }
        }
        return Checkpoint(config: config, vocabulary: vocabulary, parameters: parameters, training: nil)
    }

    /// The prompt the logit comparisons run: every vocabulary character at least once.
    static let prompt: [Int32] = [1, 6, 7, 8, 2, 9, 10, 0, 3, 4, 5, 6, 1]

    /// Logits (T, V) of `checkpoint` on `prompt`, through the library's own forward pass.
    static func logits(_ checkpoint: Checkpoint, prompt: [Int32] = prompt) -> [Float] {
        let model = GPT(config: checkpoint.config, parameters: checkpoint.parameters)
        prompt.withUnsafeBufferPointer { model.forward(tokens: $0.baseAddress!, B: 1, T: prompt.count) }
        let V = checkpoint.config.vocabSize
        return (0..<prompt.count).flatMap { t in Array(UnsafeBufferPointer(start: model.logits(row: t), count: V)) }
    }

    static func sidecarBytes(_ json: String) -> [UInt8] { Array(json.utf8) }

    /// A fresh empty folder, removed when the test ends.
    func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("SafetensorsTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    // MARK: - Round trips

    func testRoundTripKeepsEveryWeightBitAndEveryLogit() throws {
        for gelu in GELUForm.allCases {
            let original = Self.checkpoint(gelu: gelu)
            let bytes = try ModelExport.safetensorsBytes(original)
            let sidecar = try ModelExport.sidecarJSON(original)
            let restored = try ModelExport.checkpoint(safetensors: bytes, sidecar: Array(sidecar.utf8))
            XCTAssertEqual(restored.config, original.config)
            XCTAssertEqual(restored.vocabulary, original.vocabulary)
            XCTAssertNil(restored.training)
            XCTAssertEqual(restored.parameters.map(\.bitPattern), original.parameters.map(\.bitPattern))

            let before = Self.logits(original), after = Self.logits(restored)
            XCTAssertEqual(before.count, Self.prompt.count * Self.vocabulary.count)
            XCTAssertEqual(after.map(\.bitPattern), before.map(\.bitPattern), "logits changed after a round trip (\(gelu))")
        }
    }

    func testFileRoundTripWritesSidecarBesideTheWeights() throws {
        let folder = try temporaryFolder()
        let path = folder.appendingPathComponent("model.safetensors").path
        let original = Self.checkpoint(gelu: .exact)
        try ModelExport.exportSafetensors(original, to: path)
        XCTAssertEqual(ModelExport.sidecarPath(for: path), folder.appendingPathComponent("model.json").path)
        XCTAssertEqual(ModelExport.sidecarPath(for: "weights.bin"), "weights.bin.json")
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.json").path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".tmp") }
        XCTAssertEqual(leftovers, [], "temporary files were left behind")
        XCTAssertEqual(try ModelExport.importSafetensors(path: path), original)

        // Overwriting keeps one file with the new contents.
        let other = Self.checkpoint(gelu: .exact, seed: 99)
        try ModelExport.exportSafetensors(other, to: path)
        XCTAssertEqual(try ModelExport.importSafetensors(path: path), other)
    }

    func testSidecarHoldsConfigAndVocabularyAsJSONStrings() throws {
        let original = Self.checkpoint()
        let json = try ModelExport.sidecarJSON(original)
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let vocab = try XCTUnwrap(root["vocab"] as? [String])
        XCTAssertEqual(vocab.map { $0.unicodeScalars.map(\.value) }, Self.vocabulary.map { [$0] })
        XCTAssertEqual(vocab[1], "\n")
        let config = try XCTUnwrap(root["config"] as? [String: Any])
        XCTAssertEqual(config["n_layer"] as? Int, 2)
        XCTAssertEqual(config["n_head"] as? Int, 2)
        XCTAssertEqual(config["n_embd"] as? Int, 16)
        XCTAssertEqual(config["block_size"] as? Int, 16)
        XCTAssertEqual(config["vocab_size"] as? Int, Self.vocabulary.count)
        XCTAssertEqual(config["bias"] as? Bool, true)
        XCTAssertEqual(config["gelu"] as? String, "tanh")
    }

    // MARK: - Independent reader

    /// Reads a safetensors file with nothing but the format's description: the 8-byte
    /// little-endian header length, the JSON header, and the data buffer.
    struct MinimalReader {
        var metadata: [String: String] = [:]
        /// (name, shape, begin, end), in data order.
        var tensors: [(name: String, shape: [Int], begin: Int, end: Int)] = []
        var headerLength = 0
        var data: [UInt8] = []

        init(_ bytes: [UInt8]) throws {
            XCTAssertGreaterThanOrEqual(bytes.count, 8)
            var n = 0
            for i in 0..<8 { n += Int(bytes[i]) << (8 * i) }
            headerLength = n
            XCTAssertLessThanOrEqual(8 + n, bytes.count)
            let object = try JSONSerialization.jsonObject(with: Data(bytes[8..<8 + n]))
            let header = try XCTUnwrap(object as? [String: Any])
            data = Array(bytes[(8 + n)...])
            for (name, value) in header {
                if name == "__metadata__" {
                    metadata = try XCTUnwrap(value as? [String: String])
                    continue
                }
                let info = try XCTUnwrap(value as? [String: Any])
                XCTAssertEqual(info["dtype"] as? String, "F32", name)
                let shape = try XCTUnwrap(info["shape"] as? [Int])
                let offsets = try XCTUnwrap(info["data_offsets"] as? [Int])
                XCTAssertEqual(offsets.count, 2)
                tensors.append((name, shape, offsets[0], offsets[1]))
            }
            tensors.sort { $0.begin < $1.begin }
        }

        /// The float32 values of tensor `name`, assembled byte by byte.
        func values(_ name: String) -> [Float]? {
            guard let t = tensors.first(where: { $0.name == name }) else { return nil }
            return stride(from: t.begin, to: t.end, by: 4).map { i in
                Float(bitPattern: UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24)
            }
        }
    }

    func testExportedFileSatisfiesAnIndependentReader() throws {
        let checkpoint = Self.checkpoint()
        let layout = ParameterLayout(checkpoint.config)
        let bytes = try ModelExport.safetensorsBytes(checkpoint)
        let file = try MinimalReader(bytes)

        XCTAssertEqual(file.headerLength % 8, 0, "the header is not padded to a multiple of 8")
        XCTAssertEqual(file.tensors.map(\.name), layout.tensors.map(\.name) + ["lm_head.weight"],
                       "tensors are not in layout order with the head last")
        var expectedBegin = 0
        for t in file.tensors {
            XCTAssertEqual(t.begin, expectedBegin, "\(t.name) does not start where the previous tensor ends")
            XCTAssertEqual(t.end - t.begin, 4 * t.shape.reduce(1, *), "\(t.name): byte size is not 4 · prod(shape)")
            expectedBegin = t.end
        }
        XCTAssertEqual(expectedBegin, file.data.count, "the tensors do not cover the data buffer exactly")

        for tensor in layout.tensors {
            let t = try XCTUnwrap(file.tensors.first { $0.name == tensor.name })
            XCTAssertEqual(t.shape, tensor.shape, tensor.name)
            XCTAssertEqual(file.values(tensor.name)?.map(\.bitPattern),
                           checkpoint.parameters[tensor.offset..<tensor.offset + tensor.count].map(\.bitPattern), tensor.name)
        }
        XCTAssertEqual(file.values("lm_head.weight")?.map(\.bitPattern), file.values("transformer.wte.weight")?.map(\.bitPattern))
        XCTAssertEqual(file.tensors.first { $0.name == "transformer.h.1.mlp.c_fc.weight" }?.shape, [64, 16])
        XCTAssertEqual(file.tensors.first { $0.name == "transformer.h.0.mlp.c_proj.weight" }?.shape, [16, 64])

        XCTAssertEqual(file.metadata["format"], "pt")
        XCTAssertEqual(file.metadata["n_layer"], "2")
        XCTAssertEqual(file.metadata["n_head"], "2")
        XCTAssertEqual(file.metadata["n_embd"], "16")
        XCTAssertEqual(file.metadata["block_size"], "16")
        XCTAssertEqual(file.metadata["vocab_size"], "\(Self.vocabulary.count)")
        XCTAssertEqual(file.metadata["bias"], "true")
        XCTAssertEqual(file.metadata["gelu"], "tanh")
    }

    func testEncodeDecodeKeepsNamesShapesAndValues() throws {
        let values: [Float] = [1, -2, 3.5, .infinity, -0.0, Float(bitPattern: 1)]
        let tensors = [
            SafetensorsTensor(name: "a \"quoted\" name", shape: [2, 3], values: values[...]),
            SafetensorsTensor(name: "empty", shape: [0, 4], values: [][...]),
            SafetensorsTensor(name: "scalar", shape: [], values: [42][...]),
        ]
        let decoded = try Safetensors.decode(Safetensors.encode(tensors, metadata: [("k", "v\n")]))
        XCTAssertEqual(Set(decoded.keys), ["a \"quoted\" name", "empty", "scalar"])
        XCTAssertEqual(decoded["a \"quoted\" name"]?.shape, [2, 3])
        XCTAssertEqual(decoded["a \"quoted\" name"]?.data.map(\.bitPattern), values.map(\.bitPattern))
        XCTAssertEqual(decoded["empty"]?.shape, [0, 4])
        XCTAssertEqual(decoded["empty"]?.data, [])
        XCTAssertEqual(decoded["scalar"]?.shape, [])
        XCTAssertEqual(decoded["scalar"]?.data, [42])
        XCTAssertEqual(try SafetensorsFile(bytes: Safetensors.encode(tensors, metadata: [("k", "v\n")])).metadata, ["k": "v\n"])
    }

    // MARK: - nanoGPT variants

    /// A nanoGPT state dict for `checkpoint`: optionally without biases, with torch.compile's
    /// prefix, with the causal-mask buffers, and with or without each copy of the tied head.
    static func nanoGPTFile(_ checkpoint: Checkpoint, biases: Bool, prefix: String = "", masks: Bool = false,
                            wte: Bool = true, head: Bool = true) -> [UInt8] {
        let config = checkpoint.config, T = config.contextLength
        let layout = ParameterLayout(config)
        var tensors: [SafetensorsTensor] = []
        for tensor in layout.tensors where biases || !tensor.name.hasSuffix(".bias") {
            if tensor.offset == layout.tokenEmbedding && !wte { continue }
            tensors.append(SafetensorsTensor(name: prefix + tensor.name, shape: tensor.shape,
                                             values: checkpoint.parameters[tensor.offset..<tensor.offset + tensor.count]))
        }
        if masks {
            var mask = [Float](repeating: 0, count: T * T)
            for i in 0..<T { for j in 0...i { mask[i * T + j] = 1 } }
            for l in 0..<config.layerCount {
                tensors.append(SafetensorsTensor(name: prefix + "transformer.h.\(l).attn.bias", shape: [1, 1, T, T], values: mask[...]))
            }
        }
        if head {
            let embedding = layout.tensors[0]
            tensors.append(SafetensorsTensor(name: prefix + "lm_head.weight", shape: embedding.shape,
                                             values: checkpoint.parameters[0..<embedding.count]))
        }
        return Safetensors.encode(tensors)
    }

    /// The vocabulary as a minimal sidecar: n_head and the characters, nothing else.
    static let minimalSidecar: [UInt8] = {
        let characters = vocabulary.map { JSONText.quote(String(Character(Unicode.Scalar($0)!))) }
        return sidecarBytes("{\"config\": {\"n_head\": 2}, \"vocab\": [\(characters.joined(separator: ","))]}")
    }()

    func testBiasFreeCompiledNanoGPTFileImportsWithZeroBiases() throws {
        let source = Self.checkpoint()
        let bytes = Self.nanoGPTFile(source, biases: false, prefix: "_orig_mod.", masks: true)
        let imported = try ModelExport.checkpoint(safetensors: bytes, sidecar: Self.minimalSidecar)

        XCTAssertEqual(imported.config, Self.config(gelu: .exact), "nanoGPT's GELU is exact when the file says nothing")
        XCTAssertEqual(imported.vocabulary, Self.vocabulary)
        let layout = ParameterLayout(imported.config)
        for tensor in layout.tensors {
            let got = imported.parameters[tensor.offset..<tensor.offset + tensor.count]
            if tensor.name.hasSuffix(".bias") {
                XCTAssertTrue(got.allSatisfy { $0 == 0 }, "\(tensor.name) should be zero")
            } else {
                XCTAssertEqual(Array(got), Array(source.parameters[tensor.offset..<tensor.offset + tensor.count]), tensor.name)
            }
        }
    }

    func testHeadStoredOnlyAsLMHeadImportsAsTheEmbedding() throws {
        let source = Self.checkpoint()
        let bytes = Self.nanoGPTFile(source, biases: true, wte: false, head: true)
        let imported = try ModelExport.checkpoint(safetensors: bytes, sidecar: Self.minimalSidecar)
        XCTAssertEqual(imported.parameters, source.parameters)

        let withoutHead = Self.nanoGPTFile(source, biases: true, wte: true, head: false)
        XCTAssertEqual(try ModelExport.checkpoint(safetensors: withoutHead, sidecar: Self.minimalSidecar).parameters, source.parameters)
    }

    func testHeadCountAndGELUFallBackToFileMetadata() throws {
        let source = Self.checkpoint(gelu: .tanh)
        let bytes = try ModelExport.safetensorsBytes(source)
        let characters = Self.vocabulary.map { JSONText.quote(String(Character(Unicode.Scalar($0)!))) }
        let vocabOnly = Self.sidecarBytes("{\"vocab\": [\(characters.joined(separator: ","))]}")
        XCTAssertEqual(try ModelExport.checkpoint(safetensors: bytes, sidecar: vocabOnly), source)
    }

    // MARK: - Errors

    /// Asserts that `body` throws a one-line runtime error containing every string in `parts`.
    func assertFails(_ parts: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected an error mentioning \(parts)", file: file, line: line)
        } catch let error as TinyGPTError {
            XCTAssertEqual(error.kind, .runtime, file: file, line: line)
            XCTAssertFalse(error.message.contains("\n"), "the error is not one line: \(error.message)", file: file, line: line)
            for part in parts where !error.message.contains(part) {
                XCTFail("the error \"\(error.message)\" does not mention \"\(part)\"", file: file, line: line)
            }
        } catch {
            XCTFail("unexpected error type: \(error)", file: file, line: line)
        }
    }

    /// A file whose header is `entries` (name, dtype, shape, [begin, end]) over `dataLength` zero bytes.
    static func rawFile(_ entries: [(String, String, [Int], [Int])], dataLength: Int) -> [UInt8] {
        let fields = entries.map { name, dtype, shape, offsets in
            "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
        }
        let header = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) }
        bytes += header
        bytes += [UInt8](repeating: 0, count: dataLength)
        return bytes
    }

    /// The exported tensors of `checkpoint` with `edit` applied, as a safetensors file.
    static func editedFile(_ edit: (inout [SafetensorsTensor]) -> Void) -> [UInt8] {
        let source = checkpoint()
        var tensors = ParameterLayout(source.config).tensors.map {
            SafetensorsTensor(name: $0.name, shape: $0.shape, values: source.parameters[$0.offset..<$0.offset + $0.count])
        }
        edit(&tensors)
        return Safetensors.encode(tensors)
    }

    func testUnknownTensorIsNamed() {
        let bytes = Self.editedFile { $0.append(SafetensorsTensor(name: "transformer.h.0.attn.rotary", shape: [2], values: [1, 2][...])) }
        assertFails(["unknown tensors", "transformer.h.0.attn.rotary"]) {
            _ = try ModelExport.checkpoint(safetensors: bytes, sidecar: Self.minimalSidecar)
        }
    }

    func testMissingTensorsAreListedWithACount() {
        let bytes = Self.editedFile { tensors in
            tensors.removeAll { $0.name.contains("h.1.") && !$0.name.hasSuffix(".bias") }
            tensors.removeAll { $0.name == "transformer.h.0.attn.c_proj.weight" }
        }
        assertFails(["missing tensors", "transformer.h.0.attn.c_proj.weight", "and 2 more"]) {
            _ = try ModelExport.checkpoint(safetensors: bytes, sidecar: Self.minimalSidecar)
        }
        let someBiases = Self.editedFile { $0.removeAll { $0.name == "transformer.h.1.ln_2.bias" } }
        assertFails(["missing tensors", "transformer.h.1.ln_2.bias"]) {
            _ = try ModelExport.checkpoint(safetensors: someBiases, sidecar: Self.minimalSidecar)
        }
    }

    func testWrongShapeIsNamedWithBothShapes() {
        let bytes = Self.editedFile { tensors in
            let i = tensors.firstIndex { $0.name == "transformer.h.0.mlp.c_fc.weight" }!
            tensors[i].shape = [16, 64]
        }
        assertFails(["wrong shapes", "transformer.h.0.mlp.c_fc.weight [16, 64] (expected [64, 16])"]) {
            _ = try ModelExport.checkpoint(safetensors: bytes, sidecar: Self.minimalSidecar)
        }
    }

    func testHalfPrecisionTensorIsRefused() throws {
        let source = Self.checkpoint()
        let layout = ParameterLayout(source.config)
        var entries: [(String, String, [Int], [Int])] = []
        var offset = 0
        for tensor in layout.tensors {
            let dtype = tensor.name == "transformer.ln_f.weight" ? "F16" : "F32"
            let size = (dtype == "F16" ? 2 : 4) * tensor.count
            entries.append((tensor.name, dtype, tensor.shape, [offset, offset + size]))
            offset += size
        }
        let bytes = Self.rawFile(entries, dataLength: offset)
        assertFails(["not float32", "transformer.ln_f.weight (F16)", "tensor.float()"]) {
            _ = try ModelExport.checkpoint(safetensors: bytes, sidecar: Self.minimalSidecar)
        }
        assertFails(["only F32", "transformer.ln_f.weight (F16)"]) { _ = try Safetensors.decode(bytes) }
    }

    func testTruncatedFilesAndOversizedHeadersAreRefused() throws {
        let bytes = try ModelExport.safetensorsBytes(Self.checkpoint())
        assertFails(["truncated"]) { _ = try SafetensorsFile(bytes: Array(bytes.prefix(5))) }
        assertFails(["lm_head.weight", "outside", "truncated"]) { _ = try SafetensorsFile(bytes: Array(bytes.dropLast(4))) }
        var extra = bytes
        extra += [0, 0, 0, 0]
        assertFails(["cover", "data buffer holds"]) { _ = try SafetensorsFile(bytes: extra) }
        var longHeader = bytes
        longHeader[6] = 1  // header length + 2⁴⁸
        assertFails(["header claims", "truncated"]) { _ = try SafetensorsFile(bytes: longHeader) }
        assertFails(["header claims"]) { _ = try ModelExport.checkpoint(safetensors: Array(bytes.prefix(40)), sidecar: Self.minimalSidecar) }
    }

    func testMalformedHeadersAreRefused() {
        assertFails(["overlaps", "b"]) {
            _ = try SafetensorsFile(bytes: Self.rawFile([("a", "F32", [2], [0, 8]), ("b", "F32", [1], [4, 8])], dataLength: 8))
        }
        assertFails(["hole", "b"]) {
            _ = try SafetensorsFile(bytes: Self.rawFile([("a", "F32", [1], [0, 4]), ("b", "F32", [1], [8, 12])], dataLength: 12))
        }
        assertFails(["\"a\"", "span"]) {
            _ = try SafetensorsFile(bytes: Self.rawFile([("a", "F32", [3], [0, 8])], dataLength: 12))
        }
        assertFails(["unknown dtype", "Q4"]) {
            _ = try SafetensorsFile(bytes: Self.rawFile([("a", "Q4", [1], [0, 1])], dataLength: 1))
        }
        assertFails(["outside"]) {
            _ = try SafetensorsFile(bytes: Self.rawFile([("a", "F32", [4], [0, 16])], dataLength: 8))
        }
        assertFails(["larger than"]) {
            _ = try SafetensorsFile(bytes: Self.rawFile([("a", "F32", [1 << 40, 1 << 40], [0, 8])], dataLength: 8))
        }
        var notJSON = Self.rawFile([("a", "F32", [2], [0, 8])], dataLength: 8)
        notJSON[12] = UInt8(ascii: "}")
        assertFails(["header is not JSON"]) { _ = try SafetensorsFile(bytes: notJSON) }
    }

    /// Embeddings of width 16384 and one tensor of block 1023 imply a model of ~3·10¹² floats;
    /// the missing weights must be reported before anything that size is allocated.
    func testHugeImpliedModelIsRefusedBeforeAllocating() {
        let C = 16384
        let row = [Float](repeating: 0.5, count: C)[...]
        let bytes = Safetensors.encode([
            SafetensorsTensor(name: "transformer.wte.weight", shape: [1, C], values: row),
            SafetensorsTensor(name: "transformer.wpe.weight", shape: [1, C], values: row),
            SafetensorsTensor(name: "transformer.h.1023.ln_1.weight", shape: [C], values: row),
        ])
        assertFails(["1024 layers, width 16384", "missing tensors", "transformer.h.0.ln_1.weight", "more"]) {
            _ = try ModelExport.checkpoint(safetensors: bytes, sidecar: Self.sidecarBytes("{\"config\": {\"n_head\": 1}, \"vocab\": [\"a\"]}"))
        }
    }

    func testHeadCountVocabularyAndUntiedHeadProblemsAreExplained() throws {
        let source = Self.checkpoint()
        let bare = Self.nanoGPTFile(source, biases: true)
        let characters = Self.vocabulary.map { JSONText.quote(String(Character(Unicode.Scalar($0)!))) }
        assertFails(["head count is unknown", "n_head"]) {
            _ = try ModelExport.checkpoint(safetensors: bare, sidecar: Self.sidecarBytes("{\"vocab\": [\(characters.joined(separator: ","))]}"))
        }
        assertFails(["sidecar vocabulary has 10", "11 rows"]) {
            let short = characters.dropLast().joined(separator: ",")
            _ = try ModelExport.checkpoint(safetensors: bare, sidecar: Self.sidecarBytes("{\"config\": {\"n_head\": 2}, \"vocab\": [\(short)]}"))
        }
        assertFails(["disagrees", "n_embd 32"]) {
            let json = "{\"config\": {\"n_head\": 2, \"n_embd\": 32}, \"vocab\": [\(characters.joined(separator: ","))]}"
            _ = try ModelExport.checkpoint(safetensors: bare, sidecar: Self.sidecarBytes(json))
        }
        assertFails(["no \"vocab\""]) {
            _ = try ModelExport.checkpoint(safetensors: bare, sidecar: Self.sidecarBytes("{\"config\": {\"n_head\": 2}}"))
        }
        var untied = source
        untied.parameters[3] += 1
        let mixed = Self.editedFile { tensors in
            tensors.append(SafetensorsTensor(name: "lm_head.weight", shape: tensors[0].shape,
                                             values: untied.parameters[0..<tensors[0].values.count]))
        }
        assertFails(["lm_head.weight differs"]) {
            _ = try ModelExport.checkpoint(safetensors: mixed, sidecar: Self.minimalSidecar)
        }
        assertFails(["not found", "no-such-file.safetensors"]) {
            _ = try ModelExport.importSafetensors(path: "/nonexistent/no-such-file.safetensors")
        }
    }

    // MARK: - Files for the PyTorch comparison

    /// Exports a tanh-GELU and an exact-GELU model with their prompt and logits; into
    /// TINYGPT_EXPORT_DIR when it is set, else into a temporary folder. Either way the written
    /// files must read back to the same logits.
    func testExportsComparisonModels() throws {
        let folder: URL
        if let dir = ProcessInfo.processInfo.environment["TINYGPT_EXPORT_DIR"], !dir.isEmpty {
            folder = URL(fileURLWithPath: dir)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } else {
            folder = try temporaryFolder()
        }
        let promptText = String(String.UnicodeScalarView(Self.prompt.map { Unicode.Scalar(Self.vocabulary[Int($0)])! }))
        for (name, gelu) in [("tiny-tanh", GELUForm.tanh), ("tiny-exact", GELUForm.exact)] {
            let checkpoint = Self.checkpoint(gelu: gelu, seed: gelu == .tanh ? 11 : 12)
            let logits = Self.logits(checkpoint)
            XCTAssertTrue(logits.allSatisfy(\.isFinite))
            let V = checkpoint.config.vocabSize
            let rows = (0..<Self.prompt.count).map { t in logits[t * V..<(t + 1) * V].map { "\($0)" }.joined(separator: " ") }
            let path = folder.appendingPathComponent("\(name).safetensors").path
            try ModelExport.exportSafetensors(checkpoint, to: path)
            try Data(promptText.utf8).write(to: folder.appendingPathComponent("\(name).prompt.txt"))
            try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: folder.appendingPathComponent("\(name).logits.txt"))

            let reread = try ModelExport.importSafetensors(path: path)
            XCTAssertEqual(Self.logits(reread).map(\.bitPattern), logits.map(\.bitPattern), name)
            let text = try String(contentsOf: folder.appendingPathComponent("\(name).logits.txt"), encoding: .utf8)
            let parsed = text.split(whereSeparator: \.isWhitespace).compactMap { Float(String($0)) }
            XCTAssertEqual(parsed.map(\.bitPattern), logits.map(\.bitPattern), "\(name): the logits text does not read back exactly")
        }
    }

    /// Imports every NAME.safetensors in TINYGPT_IMPORT_DIR that has NAME.prompt.txt (e.g. from
    /// `compare_with_pytorch.py random-nanogpt`) and writes NAME.logits.txt beside it.
    func testWritesLogitsForModelsFromPyTorch() throws {
        guard let dir = ProcessInfo.processInfo.environment["TINYGPT_IMPORT_DIR"], !dir.isEmpty else {
            throw XCTSkip("set TINYGPT_IMPORT_DIR to import PyTorch-made models and write their logits")
        }
        let folder = URL(fileURLWithPath: dir)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".safetensors") }
        var written = 0
        for name in names.sorted() {
            let base = folder.appendingPathComponent(String(name.dropLast(".safetensors".count)))
            guard let prompt = try? String(contentsOf: base.appendingPathExtension("prompt.txt"), encoding: .utf8) else { continue }
            let checkpoint = try ModelExport.importSafetensors(path: folder.appendingPathComponent(name).path)
            let tokenizer = try CharTokenizer(vocabulary: checkpoint.vocabulary)
            let ids = try prompt.unicodeScalars.map { s in
                try XCTUnwrap(tokenizer.id(of: s.value), "prompt character \(s) is not in the vocabulary")
            }
            let logits = Self.logits(checkpoint, prompt: ids)
            XCTAssertTrue(logits.allSatisfy(\.isFinite), name)
            let V = checkpoint.config.vocabSize
            let rows = (0..<ids.count).map { t in logits[t * V..<(t + 1) * V].map { "\($0)" }.joined(separator: " ") }
            try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: base.appendingPathExtension("logits.txt"))
            written += 1
        }
        XCTAssertGreaterThan(written, 0, "\(dir) holds no NAME.safetensors with NAME.prompt.txt")
    }
}
