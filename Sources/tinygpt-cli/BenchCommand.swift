// tinygpt bench: training speed of named shapes, sampling speed and the GEMM alone, as a table
// and as one machine-readable line per shape.

import Foundation
import TinyGPT
import TinyGPTViews

struct BenchCommand: Command {
    let spec = CommandSpec(
        name: "bench", summary: "Measure training and sampling speed against this machine's own GEMM (release builds only).",
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
        // The machine's own ceiling: the GEMM's forward product, which every model-FLOP rate
        // below is read against. `--shape gemm` times all three products first; any other
        // shape times the forward product briefly when it first needs it.
        var machine: Double?
        func gemmForward() -> Double {
            if let machine { return machine }
            let r = Benchmark.gemm(repeats: 7, context: context)
            machine = r.forwardGflops
            return r.forwardGflops
        }
        func ofGemm(_ gflops: Double) -> String {
            String(format: "%.2f of this machine's GEMM (%.1f GFLOP/s forward)", gflops / gemmForward(), gemmForward())
        }
        var summary: [(name: String, gflops: Double)] = []
        if which == "gemm" || which == "all" {
            let r = Benchmark.gemm(context: context)
            machine = r.forwardGflops
            print("")
            print("gemm: one Linear layer, N \(r.N) rows, C \(r.C) → OC \(r.OC), median of \(r.forwardTimes.count) runs each")
            print(String(format: "  forward out = inp·Wᵀ  %.1f GFLOP/s", r.forwardGflops))
            print(String(format: "  dinp = dout·W         %.1f GFLOP/s", r.inputGradientGflops))
            print(String(format: "  dweight += doutᵀ·inp  %.1f GFLOP/s", r.weightGradientGflops))
            print(String(format: "bench shape=gemm forward_gflops=%.1f dinp_gflops=%.1f dweight_gflops=%.1f", r.forwardGflops,
                         r.inputGradientGflops, r.weightGradientGflops))
            Console.flush()
        }
        // `gemm` goes on to every shape, with fewer training steps unless --steps says otherwise.
        let everyShape = which == "all" || which == "gemm"
        for shape in BenchShape.all where everyShape || which == shape.name {
            var s = shape
            if which == "gemm" { s.timedSteps = max(2, s.timedSteps / 3) }
            if let steps = flags.int("--steps") { s.timedSteps = steps }
            let c = s.config
            let r = try Benchmark.training(s, context: context)
            print("")
            print("\(s.name): \(c.layerCount) layers, \(c.headCount) heads, width \(c.modelWidth), T \(c.contextLength), B \(s.batchSize), vocab \(c.vocabSize) · \(String(format: "%.2f", s.flopsPerToken / 1e6)) MFLOP/token")
            let sorted = r.stepTimes.sorted()
            print(String(format: "  ms/step  median %.1f  (min %.1f, max %.1f, %d steps)", r.medianSeconds * 1000,
                         sorted.first! * 1000, sorted.last! * 1000, sorted.count))
            print(String(format: "  CPU ms/step median %.1f  (all threads together)", r.medianCPUSeconds * 1000))
            print(String(format: "  tokens/s %.0f   GFLOP/s %.1f = ", r.tokensPerSecond, r.gflops) + ofGemm(r.gflops))
            print(String(format: "bench shape=%@ ms_per_step=%.1f cpu_ms_per_step=%.1f tokens_per_s=%.0f gflops=%.1f of_gemm=%.2f", s.name,
                         r.medianSeconds * 1000, r.medianCPUSeconds * 1000, r.tokensPerSecond, r.gflops, r.gflops / gemmForward()))
            summary.append((s.name + " training", r.gflops))
            Console.flush()
        }
        let chars = flags.int("--chars") ?? 500
        if which == "sample" {
            let r = Benchmark.sampling(characters: chars, context: context)
            print("")
            print("sample: baby shape, \(r.characters) new characters with the KV cache, median of \(r.runTimes.count) runs")
            print(String(format: "  %.1f ms per run, %.0f chars/s, %.0f positions encoded/s", r.medianSeconds * 1000,
                         r.charactersPerSecond, r.positionsPerSecond))
            print(String(format: "  forward GFLOP/s %.1f = ", r.gflops) + ofGemm(r.gflops))
            print(String(format: "bench shape=sample chars_per_s=%.0f positions_per_s=%.0f gflops=%.1f of_gemm=%.2f",
                         r.charactersPerSecond, r.positionsPerSecond, r.gflops, r.gflops / gemmForward()))
        }
        if everyShape || which == "sample-batch" {
            let streams = 8
            let r = Benchmark.samplingComparison(streams: streams, characters: chars, context: context)
            print("")
            let temperatures = r.compareTemperatures.map { String(format: "%g", $0) }.joined(separator: ",")
            print("sample-batch: baby shape, \(chars) new characters per stream after a 3-character prompt; 1 stream, \(streams) streams decoded together, and compare's \(r.compareTemperatures.count) (temperatures \(temperatures)) decoded together; runs alternating, median of \(r.one.runTimes.count) runs each")
            for (label, x) in [("1 stream ", r.one), ("\(streams) streams", r.many), ("compare  ", r.compare)] {
                print(String(format: "  %@  %7.1f ms per run  %6.0f chars/s  %6.0f positions encoded/s  forward GFLOP/s %.1f = %.2f of GEMM",
                             label, x.medianSeconds * 1000, x.charactersPerSecond, x.positionsPerSecond, x.gflops,
                             x.gflops / gemmForward()))
            }
            print(String(format: "  %d streams ÷ 1 stream: %.2fx chars/s (GEMM forward here: %.1f GFLOP/s)", streams, r.ratio, gemmForward()))
            print(String(format: "  compare (%d temperatures) takes %.2fx one stream's time", r.compareTemperatures.count, r.compareCost))
            print(String(format: "bench shape=sample-batch streams=%d chars_per_s=%.0f one_stream_chars_per_s=%.0f ratio=%.2f positions_per_s=%.0f gflops=%.1f of_gemm=%.2f compare_time_ratio=%.2f",
                         streams, r.many.charactersPerSecond, r.one.charactersPerSecond, r.ratio, r.many.positionsPerSecond,
                         r.many.gflops, r.many.gflops / gemmForward(), r.compareCost))
            summary.append(("sample, 1 stream", r.one.gflops))
            summary.append(("sample, \(streams) streams", r.many.gflops))
            summary.append(("sample, compare", r.compare.gflops))
        }
        if summary.count > 1 {
            print("")
            print(String(format: "model FLOP rates against this machine's GEMM (forward, %.1f GFLOP/s):", gemmForward()))
            for row in summary {
                print(String(format: "  %-20@ %7.1f GFLOP/s  %.2f", row.name as NSString, row.gflops, row.gflops / gemmForward()))
            }
        }
        if let peak = Benchmark.peakResidentBytes() {
            print(String(format: "\npeak resident memory: %.1f MB", Double(peak) / 1_048_576))
        }
    }
}
