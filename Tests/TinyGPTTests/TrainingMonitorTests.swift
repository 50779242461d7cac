// Tests for Training/TrainingMonitor.swift, GradientHealth.swift and TimeLapse.swift: the
// recorded norms are the norms of the gradient buffer, the update ratio is the real change
// of the weights, recording leaves training's bits alone, an evaluation frees the model's
// activations, the time-lapse is the same for a seed, and the records survive a resume
// (truncated past the resumed step, then appended).

import Foundation
import XCTest
@testable import TinyGPT

final class TrainingMonitorTests: XCTestCase {
    private func makeFolder() throws -> RunFiles {
        let path = NSTemporaryDirectory() + "tinygpt-monitor-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return RunFiles(path)
    }

    private func run(_ trainer: Trainer, folder: RunFiles, monitor: TrainingMonitor?) throws {
        _ = try TrainingRun.run(trainer, options: RunOptions(directory: folder.directory, saveEvery: 0, keep: 0),
                                monitor: monitor, shouldStop: { false }, report: { _ in })
    }

    private func norm(_ p: UnsafePointer<Float>, _ range: Range<Int>) -> Double {
        var sum = 0.0
        for i in range { sum += Double(p[i]) * Double(p[i]) }
        return sum.squareRoot()
    }

    func testRecordedNormsAreTheNormsOfTheGradientBuffer() throws {
        let folder = try makeFolder()
        let trainer = try TrainerTests.makeTrainer(TrainerTests.settings(steps: 8))
        let monitor = try TrainingMonitor(trainer: trainer, folder: folder, timeLapse: TimeLapse(defaultFor: trainer.data),
                                          resuming: false)
        try run(trainer, folder: folder, monitor: monitor)
        let record = try XCTUnwrap(monitor.lastHealth)
        XCTAssertEqual(record.step, 8)
        XCTAssertEqual(record.firstStep, 5)
        XCTAssertEqual(record.stepNorms.count, 4)
        let g = UnsafePointer(trainer.model.gradients.pointer)
        let layout = trainer.model.layout
        // The last step's norm is the global norm of the buffer as it is now.
        XCTAssertEqual(record.stepNorms.last!, AdamW.globalNorm(g, count: layout.totalCount, context: trainer.model.context))
        for tensor in layout.tensors {
            let direct = norm(g, tensor.offset..<tensor.offset + tensor.count)
            XCTAssertEqual(try XCTUnwrap(record.tensorGradNorms[tensor.name]), direct, accuracy: 1e-12 * max(1, direct), tensor.name)
        }
        for (l, block) in layout.blocks.enumerated() {
            let b = block
            func sq(_ offset: Int, _ count: Int) -> Double { pow(norm(g, offset..<offset + count), 2) }
            let C = trainer.model.config.modelWidth
            let attention = sq(b.qkv.weight, 3 * C * C) + sq(b.qkv.bias, 3 * C) + sq(b.attnProj.weight, C * C) + sq(b.attnProj.bias, C)
            let mlp = sq(b.fc.weight, 4 * C * C) + sq(b.fc.bias, 4 * C) + sq(b.mlpProj.weight, 4 * C * C) + sq(b.mlpProj.bias, C)
            let ln = sq(b.ln1.weight, C) + sq(b.ln1.bias, C) + sq(b.ln2.weight, C) + sq(b.ln2.bias, C)
            let h = record.layers[l]
            XCTAssertEqual(h.attentionGradNorm, attention.squareRoot(), accuracy: 1e-10)
            XCTAssertEqual(h.mlpGradNorm, mlp.squareRoot(), accuracy: 1e-10)
            XCTAssertEqual(h.layerNormGradNorm, ln.squareRoot(), accuracy: 1e-10)
            XCTAssertEqual(h.gradNorm, (attention + mlp + ln).squareRoot(), accuracy: 1e-10)
        }
        let embeddings = pow(norm(g, layout.tokenEmbedding..<layout.positionEmbedding), 2)
            + pow(norm(g, layout.positionEmbedding..<layout.blocks[0].ln1.weight), 2)
        XCTAssertEqual(try XCTUnwrap(record.kindGradNorms["embeddings"]), embeddings.squareRoot(), accuracy: 1e-10)
        // The clip count is the steps whose norm exceeded the threshold.
        XCTAssertEqual(record.clippedSteps, record.stepNorms.filter { $0 > trainer.settings.gradClip }.count)
        // The file holds one line per evaluation, the last one equal to the record.
        let lines = try JSONLines.read(GradientHealthRecord.self, path: folder.health)
        XCTAssertEqual(lines.map(\.step), [4, 8])
        XCTAssertEqual(lines.last, record)
    }

    func testUpdateRatioIsTheRealChangeOfTheWeights() throws {
        let folder = try makeFolder()
        var settings = TrainerTests.settings(steps: 8)
        settings.evalInterval = 8
        let trainer = try TrainerTests.makeTrainer(settings)
        let monitor = try TrainingMonitor(trainer: trainer, folder: folder, timeLapse: TimeLapse(defaultFor: trainer.data),
                                          resuming: false)
        while trainer.step < 7 {
            let r = trainer.trainStep()
            monitor.stepTaken(r, clipThreshold: settings.gradClip)
        }
        let before = Array(trainer.model.parameters.buffer)
        monitor.stepTaken(trainer.trainStep(), clipThreshold: settings.gradClip)
        try monitor.evaluated(trainer)
        let after = trainer.model.parameters.pointer
        let record = try XCTUnwrap(monitor.lastHealth)
        for (l, block) in trainer.model.layout.blocks.enumerated() {
            let start = block.ln1.weight
            let end = l + 1 < trainer.model.layout.blocks.count ? trainer.model.layout.blocks[l + 1].ln1.weight
                : trainer.model.layout.finalNorm.weight
            var change = 0.0, weight = 0.0
            for i in start..<end {
                change += pow(Double(after[i]) - Double(before[i]), 2)
                weight += Double(after[i]) * Double(after[i])
            }
            let real = (change / weight).squareRoot()
            XCTAssertEqual(record.layers[l].updateRatio, real, accuracy: real * 1e-2, "block \(l)")
        }
    }

    func testRecordingLeavesTrainingBitsAlone() throws {
        let settings = TrainerTests.settings(steps: 12, dropout: 0.1)
        let plain = try TrainerTests.makeTrainer(settings)
        try run(plain, folder: try makeFolder(), monitor: nil)
        let watched = try TrainerTests.makeTrainer(settings)
        let folder = try makeFolder()
        try run(watched, folder: folder, monitor: TrainingMonitor(trainer: watched, folder: folder,
                                                                  timeLapse: TimeLapse(defaultFor: watched.data), resuming: false))
        XCTAssertEqual(Array(plain.model.parameters.buffer), Array(watched.model.parameters.buffer))
        XCTAssertEqual(plain.rng, watched.rng)
        XCTAssertEqual(plain.history, watched.history)
    }

    /// An evaluation frees the model's activations once the gradient health has read them, so
    /// the time-lapse's KV cache and what follows (the report redrawn at the evaluation event,
    /// the checkpoints) do not stack on a step's memory: a baby run on tiny Shakespeare peaked
    /// 3.5 MB above its steps, at its evaluations. The next step allocates them again, and
    /// training goes on to the bit (testRecordingLeavesTrainingBitsAlone).
    func testAnEvaluationFreesTheActivations() throws {
        let folder = try makeFolder()
        let trainer = try TrainerTests.makeTrainer(TrainerTests.settings(steps: 8))
        let monitor = try TrainingMonitor(trainer: trainer, folder: folder, timeLapse: TimeLapse(defaultFor: trainer.data),
                                          resuming: false)
        var heldAtEvaluations: [Bool] = [], heldAtSteps: [Bool] = []
        _ = try TrainingRun.run(trainer, options: RunOptions(directory: folder.directory, saveEvery: 0, keep: 0),
                                monitor: monitor, shouldStop: { false }) { event in
            switch event {
            case .evaluation: heldAtEvaluations.append(trainer.model.holdsActivations)
            case .step: heldAtSteps.append(trainer.model.holdsActivations)
            default: break
            }
        }
        XCTAssertEqual(heldAtEvaluations, [false, false])
        XCTAssertEqual(heldAtSteps, Array(repeating: true, count: 8))
        // The time budget's rehearsal of an evaluation does what an evaluation does.
        _ = trainer.evaluate()
        monitor.rehearseEvaluation(trainer)
        XCTAssertFalse(trainer.model.holdsActivations)
    }

    func testTimeLapseIsTheSameForASeed() throws {
        func lapse(seed: UInt64) throws -> [TimeLapseRecord] {
            let folder = try makeFolder()
            let trainer = try TrainerTests.makeTrainer(TrainerTests.settings(steps: 8, seed: seed))
            let monitor = try TrainingMonitor(trainer: trainer, folder: folder,
                                              timeLapse: TimeLapse(probe: "the cat", tokenizer: trainer.tokenizer), resuming: false)
            try run(trainer, folder: folder, monitor: monitor)
            return try JSONLines.read(TimeLapseRecord.self, path: folder.timeLapse)
        }
        let a = try lapse(seed: 5), b = try lapse(seed: 5), c = try lapse(seed: 6)
        XCTAssertEqual(a.map(\.step), [4, 8])
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a.map(\.sampled), c.map(\.sampled))
        for r in a {
            XCTAssertEqual(r.probe, "the cat")
            XCTAssertEqual(r.greedy.unicodeScalars.count, 80)
            XCTAssertEqual(r.sampled.unicodeScalars.count, 80)
            XCTAssertEqual(r.next.count, 8)
            XCTAssertEqual(r.next.map(\.probability), r.next.map(\.probability).sorted(by: >))
        }
        // The sampling generator depends on the seed and the step only.
        XCTAssertEqual(TimeLapse.generator(seed: 5, step: 4), TimeLapse.generator(seed: 5, step: 4))
        XCTAssertNotEqual(TimeLapse.generator(seed: 5, step: 4), TimeLapse.generator(seed: 5, step: 8))
    }

    func testProbeOutsideTheVocabularyIsRefused() throws {
        let trainer = try TrainerTests.makeTrainer(TrainerTests.settings(steps: 4))
        XCTAssertThrowsError(try TimeLapse(probe: "猫", tokenizer: trainer.tokenizer))
        XCTAssertThrowsError(try TimeLapse(probe: "", tokenizer: trainer.tokenizer))
    }

    func testRecordsSurviveAResume() throws {
        let folder = try makeFolder()
        let settings = TrainerTests.settings(steps: 12)
        // One run straight through, for reference.
        let straight = try TrainerTests.makeTrainer(settings)
        let straightFolder = try makeFolder()
        try run(straight, folder: straightFolder, monitor: TrainingMonitor(trainer: straight, folder: straightFolder,
                                                                           timeLapse: TimeLapse(defaultFor: straight.data), resuming: false))
        // The same run stopped after step 8's checkpoint, with records written up to 12 by a
        // run that then crashed, and resumed from step 8.
        let first = try TrainerTests.makeTrainer(settings)
        let monitor = try TrainingMonitor(trainer: first, folder: folder, timeLapse: TimeLapse(defaultFor: first.data), resuming: false)
        var checkpoint: Checkpoint?
        _ = try TrainingRun.run(first, options: RunOptions(directory: folder.directory, saveEvery: 0, keep: 0),
                                monitor: monitor, shouldStop: { false }) { event in
            if case .evaluation(let step, _, _, _) = event, step == 8 { checkpoint = first.checkpoint() }
        }
        XCTAssertEqual(try JSONLines.read(GradientHealthRecord.self, path: folder.health).map(\.step), [4, 8, 12])
        let resumed = try Trainer(resuming: XCTUnwrap(checkpoint), tokens: TrainerTests.tokens, corpusName: "test corpus",
                                  context: TrainerTests.context)
        let again = try TrainingMonitor(trainer: resumed, folder: folder, timeLapse: TimeLapse(defaultFor: resumed.data), resuming: true)
        XCTAssertEqual(try JSONLines.read(GradientHealthRecord.self, path: folder.health).map(\.step), [4, 8],
                       "records past the resumed step are dropped")
        try run(resumed, folder: folder, monitor: again)
        let health = try JSONLines.read(GradientHealthRecord.self, path: folder.health)
        let lapse = try JSONLines.read(TimeLapseRecord.self, path: folder.timeLapse)
        XCTAssertEqual(health.map(\.step), [4, 8, 12])
        XCTAssertEqual(lapse, try JSONLines.read(TimeLapseRecord.self, path: straightFolder.timeLapse))
        let reference = try JSONLines.read(GradientHealthRecord.self, path: straightFolder.health)
        XCTAssertEqual(health, reference, "the resumed run records what the straight run did")
        // A torn last line (a crash mid-write) is skipped on reading and dropped on resume.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: folder.health))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"step\":16,\"first".utf8))
        try handle.close()
        XCTAssertEqual(try JSONLines.read(GradientHealthRecord.self, path: folder.health).count, 3)
    }
}
