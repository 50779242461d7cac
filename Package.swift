// swift-tools-version:6.2
// TinyGPT: a character-level GPT trainer and sampler, every backward pass by hand.
// No package dependencies: the standard library, Foundation, Dispatch and XCTest only.
//
// Tools version 6.2: from Swift 6.2 on, SwiftPM accepts unsafe flags (here -march and -fno-math-errno) in a
// package that others depend on by version (`from: "1.0.0"`) when its manifest declares 6.2
// or later. Swift 6.0 and 6.1 read Package@swift-6.0.swift instead.
import Foundation
import PackageDescription

// The kernels are written with SIMD types; without a target ISA, x86-64 Swift emits SSE2 and
// turns every fused multiply-add into a call to fmaf (80 to 100 times slower). So an x86-64 compile
// names one, and only an x86-64 compile: clang's -Xarch_x86_64 passes -march to x86-64 compiles
// and drops it from arm64 ones (an Intel Mac building for Apple Silicon, a universal build).
// - x86-64-v3 (AVX2 + FMA, any x86-64 CPU since 2013) with the 256-bit kernels: the default on
//   macOS (a Mac build may run on other Macs), and everywhere with TINYGPT_PORTABLE=1.
// - x86-64-v4 (AVX-512) with the 512-bit kernels: on Linux when the building CPU has AVX-512
//   (Zen 5 and Intel server CPUs run 512-bit FMAs at full width, twice AVX2's throughput; Zen 4
//   splits them and runs at AVX2's speed), and anywhere with TINYGPT_AVX512=1. `tinygpt`
//   refuses in one line to run such a binary on a CPU without AVX-512.
// TINYGPT_WIDE_KERNELS=1 compiles the 512-bit kernels for whatever instruction set is chosen: on
// AVX2 they run as pairs of 256-bit instructions, so a machine without AVX-512 can test that
// path (the same arithmetic, the same bits; a third of the speed). arm64 (Apple Silicon, Linux
// on ARM) has NEON + FMA by default and needs no flag. Docs/BUILDING.md has the details.
let environment = ProcessInfo.processInfo.environment
func switchedOn(_ name: String) -> Bool { ["1", "yes", "true"].contains(environment[name]?.lowercased() ?? "") }

/// Whether this Linux machine's CPU has x86-64-v4's AVX-512 subsets (F, BW, CD, DQ, VL). On
/// Linux the machine that builds is, nearly always, the one that runs; a Mac build is portable.
func linuxBuildMachineHasAVX512() -> Bool {
    #if os(Linux) && arch(x86_64)
    guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
    let flags = Set(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init))
    return ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
    #else
    return false
    #endif
}
let avx512 = switchedOn("TINYGPT_AVX512") || (!switchedOn("TINYGPT_PORTABLE") && linuxBuildMachineHasAVX512())
let wideKernels = avx512 || switchedOn("TINYGPT_WIDE_KERNELS")
let kernelPlatforms: [Platform] = [.linux, .macOS]

/// What the targets that compute are built with: the x86-64 instruction set and, with it, which
/// kernels. `TINYGPT_AVX512` tells `tinygpt --version` which instruction set an x86-64 binary needs.
let computeSettings: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-Xarch_x86_64", "-Xcc", avx512 ? "-march=x86-64-v4" : "-march=x86-64-v3"],
                 .when(platforms: kernelPlatforms)),
    // Glibc's C headers default to math-errno, so every Float.squareRoot() (the stdlib's C shim)
    // became a test for a negative argument and a call to sqrtf per lane: AdamW's SIMD8 square
    // root ran as eight scalar ones. Without errno it is one vsqrtps, with the same
    // correctly rounded results (TinyGPT never reads errno).
    .unsafeFlags(["-Xcc", "-fno-math-errno"]),
] + (wideKernels ? [.define("TINYGPT_WIDE_KERNELS")] : []) + (avx512 ? [.define("TINYGPT_AVX512")] : [])

let package = Package(
    name: "TinyGPT",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "TinyGPT", targets: ["TinyGPT"]),
        .library(name: "TinyGPTViews", targets: ["TinyGPTViews"]),
        .executable(name: "tinygpt", targets: ["tinygpt-cli"]),
    ],
    targets: [
        // The library: text, ops, model, training, sampling, checkpoint, interop. No HTML.
        .target(name: "TinyGPT", swiftSettings: computeSettings),
        // What people look at: HTML pages, SVG charts, terminal drawings of library results.
        // No kernels here, so no instruction-set flag. Its pages' code is in Pages/ (HTML, CSS,
        // JavaScript), compiled in as byte arrays (PackageResources.<name>_<ext>), so the binary
        // and every page it writes stand alone.
        .target(name: "TinyGPTViews", dependencies: ["TinyGPT"],
                resources: ["page.html", "theme.css", "page.css", "inspector.html", "inspector.css", "inspector.js",
                            "inspector-model.js", "inspector-learning.js", "inspector-learning.css",
                            "report.css", "report.js"].map { .embedInCode("Pages/" + $0) }),
        // The executable: flags, help and commands; parsing and printing only. Built for the
        // baseline instruction set, so the first thing it does, checking that this CPU runs
        // what the library was built for, runs on any x86-64 CPU (InstructionSetCheck.swift).
        .executableTarget(name: "tinygpt-cli", dependencies: ["TinyGPT", "TinyGPTViews"], path: "Sources/tinygpt-cli",
                          swiftSettings: avx512 ? [.define("TINYGPT_AVX512")] : []),
        .testTarget(name: "TinyGPTTests", dependencies: ["TinyGPT", "TinyGPTViews", "tinygpt-cli"], swiftSettings: computeSettings),
    ],
    swiftLanguageModes: [.v5]
)
