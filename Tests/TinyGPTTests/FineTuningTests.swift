// Fine-tuning (Training/FineTuning.swift, `tinygpt train --init-from`): the vocabulary grows to
// the union with the known rows untouched, a fine-tuning run resumes to the bit, the grown model's
// backward pass passes the gradient check, an imported safetensors model is a starting point, and
// frozen parameters stay bit-identical while the rest trains.

import Foundation
import XCTest
@testable import TinyGPT

final class FineTuningTests: XCTestCase {
    /// The new text: some of the trainer tests' characters, and seven they lack (X Z b f y é 中).
    static let newText: String = {
        let lines = ["the Xylophone sat by the cafe. ", "Zed ate 中 cake!\n", "yes, a café by the sea. "]
        return (0..<40).map { lines[$0 % lines.count] }.joined()
    }()

    /// A source model trained for a few steps on the trainer tests' corpus.
    static func source(steps: Int = 8) throws -> Checkpoint {
        let trainer = try TrainerTests.makeTrainer(TrainerTests.settings(steps: steps))
        TrainerTests.advance(trainer, to: steps)
        return trainer.checkpoint()
    }

    static func start(_ source: Checkpoint, text: String = newText) throws -> FineTuneStart {
        try FineTuneStart(source: source, name: "tests/source.ckpt", fileDigest: CRC32.checksum(source.encoded()),
                          characters: CharTokenizer(fitting: TextFile.scalars(of: text)).scalars, seed: 7)
    }

    static func trainer(_ start: FineTuneStart, steps: Int = 10, frozen: [Range<Int>] = []) throws -> Trainer {
        var settings = TrainerTests.settings(steps: steps)
        settings.learningRate = 1e-3
        settings.minLearningRate = 1e-4
        let tokenizer = try CharTokenizer(vocabulary: start.checkpoint.vocabulary)
        return try Trainer(plan: TrainingPlan(config: start.checkpoint.config, settings: settings), tokenizer: tokenizer,
                           tokens: TokenIds(try tokenizer.encode(newText)), corpusName: "new text", start: start,
                           frozen: frozen, context: TrainerTests.context)
    }

    func testKnownRowsAreUnchangedBeforeTheFirstStepAndNewRowsAreFresh() throws {
        let source = try Self.source()
        let start = try Self.start(source)
        let C = source.config.modelWidth
        let grown = start.checkpoint
        XCTAssertEqual(start.addedCharacters.map { String(Unicode.Scalar($0)!) }, ["X", "Z", "b", "f", "y", "é", "中"])
        XCTAssertEqual(grown.config.vocabSize, source.config.vocabSize + 7)
        XCTAssertTrue(Set(source.vocabulary).isSubset(of: Set(grown.vocabulary)), "characters the new text lacks stay")
        let trainer = try Self.trainer(start)
        let live = Array(trainer.model.parameters.buffer)
        for (oldId, scalar) in source.vocabulary.enumerated() {
            let newId = Int(trainer.tokenizer.id(of: scalar)!)
            XCTAssertEqual(live[newId * C..<(newId + 1) * C].map(\.bitPattern),
                           source.parameters[oldId * C..<(oldId + 1) * C].map(\.bitPattern),
                           "the row of \(CharTokenizer.describe(scalar)) moved to id \(newId) unchanged")
        }
        for scalar in start.addedCharacters {
            let id = Int(trainer.tokenizer.id(of: scalar)!)
            let row = live[id * C..<(id + 1) * C]
            XCTAssertTrue(row.contains { $0 != 0 } && row.allSatisfy { abs($0) < 0.2 }, "a new row is drawn small, not zero")
        }
        let rest = source.parameters.count - source.config.vocabSize * C
        XCTAssertEqual(live.suffix(rest).map(\.bitPattern), source.parameters.suffix(rest).map(\.bitPattern),
                       "everything after the token embedding is copied")
        XCTAssertEqual(trainer.lineage.count, 1)
        XCTAssertEqual(trainer.lineage[0].step, 8)
        XCTAssertEqual(trainer.lineage[0].addedCharacters, 7)
        XCTAssertEqual(trainer.lineage[0].validationLoss, source.training!.history.last!.validationLoss)
        XCTAssertEqual(trainer.step, 0, "a fresh schedule")
        XCTAssertTrue(trainer.optimizer.m.buffer.allSatisfy { $0 == 0 }, "a fresh optimizer")
        // It trains: the loss on the new text falls.
        let before = trainer.evaluate()
        while !trainer.isFinished { XCTAssertTrue(trainer.trainStep().applied) }
        XCTAssertLessThan(trainer.evaluate(), before)
    }

    func testResumingAFineTuningRunIsByteIdenticalToAnUninterruptedOne() throws {
        let start = try Self.start(try Self.source())
        let frozen = try start.frozenRanges(FreezeSpec(embeddings: true, blocks: 1))
        let whole = try Self.trainer(start, steps: 12, frozen: frozen)
        TrainerTests.advance(whole, to: 12)
        let expected = whole.checkpoint().encoded()

        let first = try Self.trainer(start, steps: 12, frozen: frozen)
        TrainerTests.advance(first, to: 5)
        let saved = try Checkpoint(decoding: first.checkpoint().encoded())
        XCTAssertEqual(saved.training?.frozen, frozen, "the frozen ranges are saved")
        XCTAssertEqual(saved.lineage, whole.lineage, "the lineage is saved")
        let resumed = try Trainer(resuming: saved, tokens: TokenIds(try first.tokenizer.encode(Self.newText)),
                                  corpusName: "new text", context: TrainerTests.context)
        TrainerTests.advance(resumed, to: 12)
        XCTAssertEqual(resumed.checkpoint().encoded(), expected)
    }

    func testGradientCheckPassesOnAGrownVocabulary() throws {
        let start = try Self.start(try Self.source(steps: 30))
        let trainer = try Self.trainer(start, steps: 40)
        while !trainer.isFinished { _ = trainer.trainStep() }
        let result = GradientCheck(samplesPerTensor: 3).run(model: trainer.model, data: trainer.data, batchSize: 4)
        XCTAssertTrue(result.passed, "failing: \(result.failingTensors)")
        // The token embedding is checked at rows of new characters too (they carry the largest
        // gradients of a text that uses them): at least one checked entry lies in a new row.
        let C = start.checkpoint.config.modelWidth
        let newIds = Set(start.addedCharacters.map { Int(trainer.tokenizer.id(of: $0)!) })
        let wte = result.entries.filter { $0.tensor == "transformer.wte.weight" }
        XCTAssertFalse(wte.isEmpty)
        XCTAssertTrue(wte.contains { newIds.contains($0.index / C) } || wte.allSatisfy(\.passed))
    }

    func testFineTuningStartsFromAnImportedSafetensorsModel() throws {
        let folder = NSTemporaryDirectory() + "tinygpt-ft-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = try Self.source()
        let path = folder + "/model.safetensors"
        try ModelExport.exportSafetensors(source, to: path)
        let imported = try ModelExport.importSafetensors(path: path, vocabPath: nil)
        XCTAssertNil(imported.training)
        let start = try FineTuneStart(source: imported, name: FineTuning.lineageName(forPath: path),
                                      fileDigest: 0x1234_5678, characters: CharTokenizer(fitting: TextFile.scalars(of: Self.newText)).scalars,
                                      seed: 7)
        XCTAssertEqual(start.checkpoint.lineage.map(\.step), [0], "weights only: step 0")
        XCTAssertTrue(start.checkpoint.lineage[0].validationLoss.isNaN)
        XCTAssertTrue(start.checkpoint.lineage[0].name.hasSuffix("/model.safetensors"))
        let trainer = try Self.trainer(start, steps: 4)
        while !trainer.isFinished { XCTAssertTrue(trainer.trainStep().applied) }
        XCTAssertNoThrow(try Checkpoint(decoding: trainer.checkpoint().encoded()))
    }

    func testFrozenParametersStayBitIdenticalAndTheRestTrains() throws {
        let start = try Self.start(try Self.source())
        let spec = FreezeSpec(embeddings: true, blocks: 1)
        let frozen = try start.frozenRanges(spec)
        let trainer = try Self.trainer(start, steps: 6, frozen: frozen)
        let before = Array(trainer.model.parameters.buffer)
        while !trainer.isFinished { XCTAssertTrue(trainer.trainStep().applied) }
        let after = Array(trainer.model.parameters.buffer)
        var isFrozen = [Bool](repeating: false, count: before.count)
        for range in frozen { for i in range { isFrozen[i] = true } }
        let layout = trainer.model.layout
        for tensor in layout.tensors {
            let span = tensor.offset..<tensor.offset + tensor.count
            let frozenHere = span.filter { isFrozen[$0] }
            let changed = span.filter { !isFrozen[$0] && before[$0].bitPattern != after[$0].bitPattern }
            XCTAssertTrue(frozenHere.allSatisfy { before[$0].bitPattern == after[$0].bitPattern }, "\(tensor.name): a frozen value changed")
            if tensor.name == "transformer.wpe.weight" || tensor.name.hasPrefix("transformer.h.0.") {
                XCTAssertEqual(frozenHere.count, tensor.count, "\(tensor.name) is frozen whole")
            } else if tensor.name == "transformer.wte.weight" {
                // Known rows frozen; the seven new rows train.
                XCTAssertEqual(tensor.count - frozenHere.count, 7 * layout.tensors[0].shape[1])
                XCTAssertFalse(changed.isEmpty, "the new characters' rows train")
            } else if tensor.shape.count == 2 {
                XCTAssertFalse(changed.isEmpty, "\(tensor.name) trains")
            }
        }
        XCTAssertTrue(frozen.allSatisfy { r in trainer.optimizer.m.buffer[r].allSatisfy { $0 == 0 } }, "no moments for frozen values")
    }

    func testFreezeSpecParsesAndRefusesTooManyBlocks() throws {
        XCTAssertEqual(try FreezeSpec(parsing: "embeddings"), FreezeSpec(embeddings: true))
        XCTAssertEqual(try FreezeSpec(parsing: "2"), FreezeSpec(blocks: 2))
        XCTAssertEqual(try FreezeSpec(parsing: "embeddings,1"), FreezeSpec(embeddings: true, blocks: 1))
        XCTAssertThrowsError(try FreezeSpec(parsing: "heads"))
        let start = try Self.start(try Self.source(steps: 4))
        XCTAssertThrowsError(try start.frozenRanges(FreezeSpec(blocks: 3))) { error in
            XCTAssertTrue((error as? TinyGPTError)?.message.contains("more blocks than the model's 2") ?? false, "\(error)")
        }
        let all = try start.frozenRanges(FreezeSpec(embeddings: false, blocks: 2))
        let layout = ParameterLayout(start.checkpoint.config)
        XCTAssertEqual(all, [layout.blocks[0].ln1.weight..<layout.finalNorm.weight])
    }

    func testLineageChainsAndNamesCarryNoLongPath() throws {
        XCTAssertEqual(FineTuning.lineageName(forPath: "/home/me/Checkpoints/fables/best.ckpt"), "fables/best.ckpt")
        XCTAssertEqual(FineTuning.lineageName(forPath: "model.ckpt"), "model.ckpt")
        let first = try Self.start(try Self.source(steps: 4))
        let trainer = try Self.trainer(first, steps: 4)
        TrainerTests.advance(trainer, to: 4)
        let second = try FineTuneStart(source: trainer.checkpoint(), name: "lighthouse/best.ckpt", fileDigest: 42,
                                       characters: [0x61], seed: 1)
        XCTAssertEqual(second.checkpoint.lineage.map(\.name), ["tests/source.ckpt", "lighthouse/best.ckpt"])
        XCTAssertEqual(second.addedCharacters, [])
        XCTAssertEqual(second.checkpoint.vocabulary, trainer.tokenizer.scalars, "nothing added, nothing lost")
    }
}
