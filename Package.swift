// swift-tools-version:6.0
// TinyGPT: a character-level GPT trainer and sampler, every backward pass by hand.
// No package dependencies: the standard library, Foundation, Dispatch and XCTest only.
import PackageDescription

// The kernels are written with SIMD types; without a target ISA, x86-64 Swift emits SSE2 and
// turns every fused multiply-add into a library call. x86-64-v3 (AVX2 + FMA, any x86-64 CPU
// since 2013) is as fast as AVX-512 on Zen 4. arm64 (Apple Silicon) has NEON + FMA by default.
#if arch(x86_64)
let archFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3", "-enforce-exclusivity=unchecked"])]
#else
let archFlags: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"])]
#endif

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
        .target(name: "TinyGPTViews", dependencies: ["TinyGPT"], swiftSettings: archFlags),
        // The executable: flags, help and commands; parsing and printing only.
        .executableTarget(name: "tinygpt-cli", dependencies: ["TinyGPT", "TinyGPTViews"], path: "Sources/tinygpt-cli",
                          swiftSettings: archFlags),
        .testTarget(name: "TinyGPTTests", dependencies: ["TinyGPT", "TinyGPTViews", "tinygpt-cli"], swiftSettings: archFlags),
    ],
    swiftLanguageModes: [.v5]
)
