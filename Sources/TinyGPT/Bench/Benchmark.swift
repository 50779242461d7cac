// `tinygpt bench`: training steps of named model shapes on synthetic tokens, and sampling
// speed with the KV cache. Deterministic inputs, a warm-up, several timed repeats, medians.
// FLOPs per token follow nanoGPT's MFU estimate: 6·(12·L·C² + C·V) + 12·L·T·C.

import Foundation

/// A model and batch shape to time: a training preset's shape and batch size, with a
/// vocabulary of 65 characters (tiny Shakespeare's).
public struct BenchShape: Sendable {
    public var name: String
    public var config: GPTConfig
    public var batchSize: Int
    public var timedSteps: Int

    public init(preset: Preset, vocabSize: Int = 65, timedSteps: Int) {
        name = preset.name
        config = preset.config(vocabSize: vocabSize)
        batchSize = preset.settings.batchSize
        self.timedSteps = timedSteps
    }

    /// The `baby` preset: nanoGPT's shakespeare_char CPU example (4 layers, 4 heads, width 128, T 64, B 12).
    public static let baby = BenchShape(preset: .baby, timedSteps: 30)
    /// The `small` preset: nanoGPT's shakespeare_char GPU example (6 layers, 6 heads, width 384, T 256, B 8).
    public static let small = BenchShape(preset: .small, timedSteps: 5)
    /// The shapes `tinygpt bench` times, in order.
    public static let all: [BenchShape] = [.baby, .small]

    /// Model FLOPs per trained token (forward + backward).
    public var flopsPerToken: Double {
        let L = Double(config.layerCount), C = Double(config.modelWidth)
        let V = Double(config.vocabSize), T = Double(config.contextLength)
        return 6 * (12 * L * C * C + C * V) + 12 * L * T * C
    }
}

/// Timings of one shape.
public struct TrainingBenchResult: Sendable {
    public var shape: BenchShape
    public var stepTimes: [Double]   // seconds
    public var medianSeconds: Double { stepTimes.sorted()[stepTimes.count / 2] }
    public var tokensPerSecond: Double { Double(shape.batchSize * shape.config.contextLength) / medianSeconds }
    public var gflops: Double { tokensPerSecond * shape.flopsPerToken / 1e9 }
}

public struct SamplingBenchResult: Sendable {
    public var characters: Int
    public var runTimes: [Double]    // seconds per run of `characters`
    public var medianSeconds: Double { runTimes.sorted()[runTimes.count / 2] }
    public var charactersPerSecond: Double { Double(characters) / medianSeconds }
}

public enum Benchmark {
    /// Times `shape.timedSteps` full training steps (forward, backward, clip, AdamW) after two warm-ups.
    public static func training(_ shape: BenchShape, context: KernelContext) throws -> TrainingBenchResult {
        // The preset's shape and batch size; the rest is TrainingConfig's defaults (no
        // dropout), so that timings stay comparable from one version to the next.
        var settings = TrainingConfig()
        settings.batchSize = shape.batchSize
        settings.steps = 1_000_000
        let V = shape.config.vocabSize
        var rng = RandomGenerator(seed: 42)
        let tokens = TokenIds((0..<200_000).map { _ in Int32(rng.nextInt(below: V)) })
        let tokenizer = try CharTokenizer(vocabulary: (0..<UInt32(V)).map { 0x4E00 + $0 })
        let trainer = try Trainer(config: shape.config, settings: settings, tokenizer: tokenizer, tokens: tokens,
                                  corpusName: "synthetic tokens", context: context)
        for _ in 0..<2 { _ = trainer.trainStep() }
        var times: [Double] = []
        for _ in 0..<shape.timedSteps {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = trainer.trainStep()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return TrainingBenchResult(shape: shape, stepTimes: times)
    }

    /// Times generating `characters` characters with the baby shape (random weights), `repeats` times.
    public static func sampling(characters: Int = 500, repeats: Int = 7, context: KernelContext) -> SamplingBenchResult {
        let model = GPT(config: BenchShape.baby.config, seed: 7, context: context)
        let cache = KVCache(model: model)
        var times: [Double] = []
        var sink: Int32 = 0
        for r in 0..<(repeats + 1) {
            var rng = RandomGenerator(seed: UInt64(r))
            let start = DispatchTime.now().uptimeNanoseconds
            Sampler.generate(cache: cache, prompt: [1, 2, 3], count: characters,
                             settings: SamplingSettings(temperature: 1), rng: &rng) { sink &+= $0 }
            if r > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        }
        precondition(sink != Int32.min)
        return SamplingBenchResult(characters: characters, runTimes: times)
    }

    /// The process's peak resident memory in bytes (Linux /proc; nil elsewhere).
    public static func peakResidentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Int($0) }.first
            return kb.map { $0 * 1024 }
        }
        return nil
    }
}
