// `tinygpt bench`: training steps of named model shapes on synthetic tokens, sampling speed
// with the KV cache, and the GEMM alone on one layer's three products. Deterministic inputs,
// a warm-up, several timed repeats, medians.
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
    public var flopsPerToken: Double { Self.trainingFlopsPerToken(config) }

    /// nanoGPT's estimate, 6·(12·L·C² + C·V) + 12·L·T·C: forward and backward, 3× the forward.
    public static func trainingFlopsPerToken(_ config: GPTConfig) -> Double {
        let L = Double(config.layerCount), C = Double(config.modelWidth)
        let V = Double(config.vocabSize), T = Double(config.contextLength)
        return 6 * (12 * L * C * C + C * V) + 12 * L * T * C
    }

    /// Forward FLOPs of one position: a third of the training estimate, 2·(12·L·C² + C·V) + 4·L·T·C
    /// (about 1.72 M for the baby shape). Sampling counts it for every position run through the
    /// layers, though only a stream's last position goes through the head (< 1% for baby).
    public static func forwardFlopsPerPosition(_ config: GPTConfig) -> Double { trainingFlopsPerToken(config) / 3 }
}

/// Timings of one shape.
public struct TrainingBenchResult: Sendable {
    public var shape: BenchShape
    public var stepTimes: [Double]   // seconds
    /// CPU time of each timed step, all threads together (seconds): what a step costs on a
    /// machine shared with other work, where the wall clock also counts the others' turns.
    public var stepCPUTimes: [Double] = []
    public var medianSeconds: Double { stepTimes.sorted()[stepTimes.count / 2] }
    public var medianCPUSeconds: Double { stepCPUTimes.isEmpty ? 0 : stepCPUTimes.sorted()[stepCPUTimes.count / 2] }
    public var tokensPerSecond: Double { Double(shape.batchSize * shape.config.contextLength) / medianSeconds }
    public var gflops: Double { tokensPerSecond * shape.flopsPerToken / 1e9 }
}

public struct SamplingBenchResult: Sendable {
    public var characters: Int
    public var runTimes: [Double]    // seconds per run of `characters`
    /// Positions run through the layers per run: the prompt once, then one per stream and step,
    /// plus the re-encoded windows.
    public var encodedPositions: Int = 0
    public var medianSeconds: Double { runTimes.sorted()[runTimes.count / 2] }
    public var charactersPerSecond: Double { Double(characters) / medianSeconds }
    public var positionsPerSecond: Double { Double(encodedPositions) / medianSeconds }
    /// Forward model FLOP/s: positions per second × forward FLOPs per position (baby shape).
    public var gflops: Double { positionsPerSecond * BenchShape.forwardFlopsPerPosition(BenchShape.baby.config) / 1e9 }
}

/// One stream, several streams, and `compare`'s streams timed in the same run, runs alternating.
public struct SamplingComparison: Sendable {
    public var streams: Int
    public var one: SamplingBenchResult, many: SamplingBenchResult
    /// The temperatures of the compare-like run, one stream each, decoded together.
    public var compareTemperatures: [Float]
    public var compare: SamplingBenchResult
    /// Characters per second of all the streams together ÷ one stream's.
    public var ratio: Double { many.charactersPerSecond / one.charactersPerSecond }
    /// The compare-like run's time ÷ one stream's (same characters per stream): 1 would be free.
    public var compareCost: Double { compare.medianSeconds / one.medianSeconds }
}

/// Timings of the three products of one Linear layer.
public struct GemmBenchResult: Sendable {
    public var N: Int, C: Int, OC: Int
    /// Seconds per run of out = inp·Wᵀ, dinp = dout·W and dweight += doutᵀ·inp.
    public var forwardTimes: [Double], inputGradientTimes: [Double], weightGradientTimes: [Double]
    /// Each product is 2·N·C·OC floating-point operations.
    public var flops: Double { 2 * Double(N) * Double(C) * Double(OC) }
    public static func median(_ times: [Double]) -> Double { times.sorted()[times.count / 2] }
    public var forwardGflops: Double { flops / Self.median(forwardTimes) / 1e9 }
    public var inputGradientGflops: Double { flops / Self.median(inputGradientTimes) / 1e9 }
    public var weightGradientGflops: Double { flops / Self.median(weightGradientTimes) / 1e9 }
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
        var times: [Double] = [], cpuTimes: [Double] = []
        for _ in 0..<shape.timedSteps {
            let start = DispatchTime.now().uptimeNanoseconds, cpuStart = Platform.processCPUSeconds()
            _ = trainer.trainStep()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            cpuTimes.append(Platform.processCPUSeconds() - cpuStart)
        }
        return TrainingBenchResult(shape: shape, stepTimes: times, stepCPUTimes: cpuTimes)
    }

    /// Times generating `characters` characters with the baby shape (random weights), `repeats` times.
    public static func sampling(characters: Int = 500, repeats: Int = 7, context: KernelContext) -> SamplingBenchResult {
        samplingRuns([[1]], characters: characters, repeats: repeats, context: context)[0]
    }

    /// Times `streams` streams generating `characters` characters each together (one pass over
    /// the weights per step for all of them) with the baby shape, `repeats` times; the result
    /// counts the characters of all the streams.
    public static func batchedSampling(streams: Int = 8, characters: Int = 500, repeats: Int = 7,
                                       context: KernelContext) -> SamplingBenchResult {
        samplingRuns([Array(repeating: 1, count: streams)], characters: characters, repeats: repeats, context: context)[0]
    }

    /// The temperatures of `bench`'s compare-like run: `tinygpt compare`'s default.
    public static let compareTemperatures: [Float] = [0.5, 0.8, 1, 1.2]

    /// One stream, `streams` streams, and one stream per temperature of `compareTemperatures`
    /// (what `compare` decodes, without its log-probabilities) in the same run, their runs
    /// alternating (so all see the same machine load).
    public static func samplingComparison(streams: Int = 8, characters: Int = 500, repeats: Int = 7,
                                          context: KernelContext) -> SamplingComparison {
        let r = samplingRuns([[1], Array(repeating: 1, count: streams), compareTemperatures], characters: characters,
                             repeats: repeats, context: context)
        return SamplingComparison(streams: streams, one: r[0], many: r[1], compareTemperatures: compareTemperatures, compare: r[2])
    }

    /// For each run (one temperature per stream), a cache on the baby shape (random weights);
    /// then `repeats` rounds, each timing one run of every kind in turn after one untimed round.
    /// Stream s of round r draws from seed r·streams + s.
    static func samplingRuns(_ runs: [[Float]], characters: Int, repeats: Int,
                             context: KernelContext) -> [SamplingBenchResult] {
        let model = GPT(config: BenchShape.baby.config, seed: 7, context: context)
        let caches = runs.map { KVCache(model: model, streams: $0.count) }
        var results = runs.map { SamplingBenchResult(characters: characters * $0.count, runTimes: []) }
        var sink: Int32 = 0
        for r in 0..<(repeats + 1) {
            for (i, cache) in caches.enumerated() {
                let streams = cache.streams
                let settings = runs[i].map { SamplingSettings(temperature: $0) }
                var rngs = (0..<streams).map { RandomGenerator(seed: UInt64(r * streams + $0)) }
                let encodedBefore = cache.encodedPositions
                let start = DispatchTime.now().uptimeNanoseconds
                if streams == 1 {
                    Sampler.generate(cache: cache, prompt: [1, 2, 3], count: characters, settings: settings[0],
                                     rng: &rngs[0]) { sink &+= $0 }
                } else {
                    Sampler.generate(cache: cache, prompt: [1, 2, 3], count: characters, settings: settings, rngs: &rngs) {
                        sink &+= $1
                    }
                }
                if r > 0 {
                    results[i].runTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                    results[i].encodedPositions = cache.encodedPositions - encodedBefore
                }
            }
        }
        precondition(sink != Int32.min)
        return results
    }

    /// Times the GEMM on one Linear layer's products, `repeats` times each after a warm-up:
    /// by default the small shape's fc layer (N = B·T = 2048 rows, C 384 → OC 1536), the shape
    /// whose float32 ceiling this machine kind was measured on.
    public static func gemm(N: Int = 2048, C: Int = 384, OC: Int = 1536, repeats: Int = 15,
                            context: KernelContext) -> GemmBenchResult {
        var rng = RandomGenerator(seed: 11)
        func random(_ count: Int) -> FloatBuffer {
            let buffer = FloatBuffer(count: count)
            for i in 0..<count { buffer[i] = rng.nextFloat() * 2 - 1 }
            return buffer
        }
        let inp = random(N * C), weight = random(OC * C), dout = random(N * OC)
        let out = FloatBuffer(count: N * OC), dinp = FloatBuffer(count: N * C), dweight = FloatBuffer(count: OC * C)
        func time(_ body: () -> Void) -> [Double] {
            body()
            return (0..<repeats).map { _ in
                let start = DispatchTime.now().uptimeNanoseconds
                body()
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            }
        }
        return withExtendedLifetime((inp, weight, dout, out, dinp, dweight)) {
            let forward = time {
                Gemm.multiply(M: N, N: OC, K: C, a: .rowMajor(inp.pointer, cols: C), b: .transposed(weight.pointer, rows: C),
                              c: out.pointer, ldc: OC, accumulate: false, context: context)
            }
            let inputGradient = time {
                Gemm.multiply(M: N, N: C, K: OC, a: .rowMajor(dout.pointer, cols: OC), b: .rowMajor(weight.pointer, cols: C),
                              c: dinp.pointer, ldc: C, accumulate: false, context: context)
            }
            let weightGradient = time {
                Gemm.multiply(M: OC, N: C, K: N, a: .transposed(dout.pointer, rows: OC), b: .rowMajor(inp.pointer, cols: C),
                              c: dweight.pointer, ldc: C, accumulate: true, context: context)
            }
            return GemmBenchResult(N: N, C: C, OC: OC, forwardTimes: forward, inputGradientTimes: inputGradient,
                                   weightGradientTimes: weightGradient)
        }
    }

    /// The GEMM micro-tile this build runs, e.g. "8×32 tiles of 16-lane vectors" (AVX-512).
    public static var gemmKernel: String {
        "\(Gemm.mr)×\(Gemm.nr) tiles of \(Gemm.nr / 2)-lane vectors"
    }

    /// The process's peak resident memory in bytes (nil where the system does not say).
    public static func peakResidentBytes() -> Int? { Platform.peakResidentBytes() }
}
