// swift-tools-version:6.0
// TinyGPT: a character-level GPT trainer and sampler, every backward pass by hand.
// No package dependencies: the standard library, Foundation, Dispatch and XCTest only.
import Foundation
import PackageDescription

// The kernels are written with SIMD types; without a target ISA, x86-64 Swift emits SSE2 and
// turns every fused multiply-add into a library call. So on x86-64 the build names one:
// - by default the widest the building CPU runs: x86-64-v4 (AVX-512) where it has AVX-512,
//   with the 512-bit kernels (Zen 5 and Intel server CPUs run 512-bit FMAs at full width, twice
//   AVX2's throughput; Zen 4 splits them in two and runs at AVX2's speed);
// - else, or with TINYGPT_PORTABLE=1, x86-64-v3 (AVX2 + FMA, any x86-64 CPU since 2013) with the
//   256-bit kernels: a binary to copy to other machines.
// TINYGPT_AVX512=1 builds the AVX-512 binary on any machine (to run elsewhere), and
// TINYGPT_WIDE_KERNELS=1 compiles the 512-bit kernels for whatever instruction set is chosen:
// on AVX2 they run as pairs of 256-bit instructions, so a machine without AVX-512 can test that
// path (the same arithmetic, the same bits; a third of the speed). arm64 (Apple Silicon) has NEON + FMA
// by default and builds the 256-bit kernels. README "Compiler settings and CPUs" has the details.
let environment = ProcessInfo.processInfo.environment
func switchedOn(_ name: String) -> Bool { ["1", "yes", "true"].contains(environment[name]?.lowercased() ?? "") }

#if arch(x86_64)
/// Whether the CPU running this manifest has x86-64-v4's AVX-512 subsets (F, BW, CD, DQ, VL).
func buildMachineHasAVX512() -> Bool {
    let subsets = ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"]
    #if os(Linux)
    guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
    let flags = Set(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init))
    return subsets.allSatisfy(flags.contains)
    #elseif canImport(Darwin)
    return subsets.allSatisfy { subset in
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        return sysctlbyname("hw.optional." + subset, &value, &size, nil, 0) == 0 && value != 0
    }
    #else
    return false
    #endif
}
let avx512 = switchedOn("TINYGPT_AVX512") || (!switchedOn("TINYGPT_PORTABLE") && buildMachineHasAVX512())
let isaFlags = ["-Xcc", avx512 ? "-march=x86-64-v4" : "-march=x86-64-v3"]
#else
let avx512 = false
let isaFlags: [String] = []
#endif
let wideKernels = avx512 || switchedOn("TINYGPT_WIDE_KERNELS")
let archFlags: [SwiftSetting] = [.unsafeFlags(isaFlags + ["-enforce-exclusivity=unchecked"])]
    + (wideKernels ? [.define("TINYGPT_WIDE_KERNELS")] : [])

let package = Package(
    name: "TinyGPT",
    products: [
        .library(name: "TinyGPT", targets: ["TinyGPT"]),
        .library(name: "TinyGPTViews", targets: ["TinyGPTViews"]),
        .executable(name: "tinygpt", targets: ["tinygpt-cli"]),
    ],
    targets: [
        // The library: text, ops, model, training, sampling, checkpoint, interop. No flags, no HTML.
        .target(name: "TinyGPT", swiftSettings: archFlags),
        // What people look at: HTML pages, SVG charts, terminal drawings of library results.
        // Its pages' code is in Pages/ (HTML, CSS, JavaScript), compiled in as byte arrays
        // (PackageResources.<name>_<ext>), so the binary and every page it writes stand alone.
        .target(name: "TinyGPTViews", dependencies: ["TinyGPT"],
                resources: ["page.html", "theme.css", "page.css", "inspector.html", "inspector.css", "inspector.js",
                            "inspector-model.js", "report.css", "report.js"].map { .embedInCode("Pages/" + $0) },
                swiftSettings: archFlags),
        // The executable: flags, help and commands; parsing and printing only.
        .executableTarget(name: "tinygpt-cli", dependencies: ["TinyGPT", "TinyGPTViews"], path: "Sources/tinygpt-cli",
                          swiftSettings: archFlags),
        .testTarget(name: "TinyGPTTests", dependencies: ["TinyGPT", "TinyGPTViews", "tinygpt-cli"], swiftSettings: archFlags),
    ],
    swiftLanguageModes: [.v5]
)
