// tinygpt bench: training speed of named shapes, sampling speed and the GEMM alone, as a table
// and as one machine-readable line per shape.

import Foundation
import TinyGPT
import TinyGPTViews

struct BenchCommand: Command {
    let spec = CommandSpec(
        name: "bench", summary: "Measure training steps per second and sampling speed (release builds only).",
        flags: [
            .choice("--shape", "NAME", ["all"] + BenchShape.all.map(\.name) + ["sample", "sample-batch", "gemm"], help: "which benchmark to run", default: "all"),
            .int("--steps", "N", in: 1...10_000, help: "timed training steps per shape (default: 30 baby, 5 small)"),
            .int("--chars", "N", in: 1...1_000_000, help: "characters per sampling run", default: "500"),
            SharedFlags.threads,
        ],
        examples: ["tinygpt bench", "tinygpt bench --shape baby --threads 1", "tinygpt bench --shape gemm --threads 1"])

    func run(_ flags: ParsedFlags) throws {
        let context = SharedFlags.context(flags)
        let which = flags.string("--shape") ?? "all"
        #if DEBUG
        Console.warn("this is a debug build; benchmark with: swift run -c release tinygpt bench")
        #endif
        print("threads: \(context.pool.threadCount) · FLOPs per token = 6·(12·L·C² + C·V) + 12·L·T·C (nanoGPT's MFU estimate)")
        print("GEMM kernel: \(Benchmark.gemmKernel)")
        for shape in BenchShape.all where which == "all" || which == shape.name {
            var s = shape
            if let steps = flags.int("--steps") { s.timedSteps = steps }
            let c = s.config
            let r = try Benchmark.training(s, context: context)
            print("")
            print("\(s.name): \(c.layerCount) layers, \(c.headCount) heads, width \(c.modelWidth), T \(c.contextLength), B \(s.batchSize), vocab \(c.vocabSize) · \(String(format: "%.2f", s.flopsPerToken / 1e6)) MFLOP/token")
            let sorted = r.stepTimes.sorted()
            print(String(format: "  ms/step  median %.1f  (min %.1f, max %.1f, %d steps)", r.medianSeconds * 1000,
                         sorted.first! * 1000, sorted.last! * 1000, sorted.count))
            print(String(format: "  tokens/s %.0f   GFLOP/s %.1f", r.tokensPerSecond, r.gflops))
            print(String(format: "bench shape=%@ ms_per_step=%.1f tokens_per_s=%.0f gflops=%.1f", s.name, r.medianSeconds * 1000, r.tokensPerSecond, r.gflops))
            Console.flush()
        }
        if which == "all" || which == "sample" {
            let r = Benchmark.sampling(characters: flags.int("--chars") ?? 500, context: context)
            print("")
            print("sample: baby shape, \(r.characters) new characters with the KV cache, median of \(r.runTimes.count) runs")
            print(String(format: "  %.1f ms per run, %.0f chars/s", r.medianSeconds * 1000, r.charactersPerSecond))
            print(String(format: "bench shape=sample chars_per_s=%.0f", r.charactersPerSecond))
        }
        if which == "all" || which == "sample-batch" {
            let streams = 8, chars = flags.int("--chars") ?? 500
            let r = Benchmark.batchedSampling(streams: streams, characters: chars, context: context)
            print("")
            print("sample-batch: baby shape, \(streams) streams of \(chars) new characters decoded together, median of \(r.runTimes.count) runs")
            print(String(format: "  %.1f ms per run, %.0f chars/s over all streams", r.medianSeconds * 1000, r.charactersPerSecond))
            print(String(format: "bench shape=sample-batch streams=%d chars_per_s=%.0f", streams, r.charactersPerSecond))
        }
        if which == "all" || which == "gemm" {
            let r = Benchmark.gemm(context: context)
            print("")
            print("gemm: one Linear layer, N \(r.N) rows, C \(r.C) → OC \(r.OC), median of \(r.forwardTimes.count) runs each")
            print(String(format: "  forward out = inp·Wᵀ  %.1f GFLOP/s", r.forwardGflops))
            print(String(format: "  dinp = dout·W         %.1f GFLOP/s", r.inputGradientGflops))
            print(String(format: "  dweight += doutᵀ·inp  %.1f GFLOP/s", r.weightGradientGflops))
            print(String(format: "bench shape=gemm forward_gflops=%.1f dinp_gflops=%.1f dweight_gflops=%.1f", r.forwardGflops,
                         r.inputGradientGflops, r.weightGradientGflops))
        }
        if let peak = Benchmark.peakResidentBytes() {
            print(String(format: "\npeak resident memory: %.1f MB", Double(peak) / 1_048_576))
        }
    }
}
