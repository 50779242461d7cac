// Which instruction set the library's kernels were built for, whether the CPU running this
// binary has it, and the check main.swift makes before anything else.
//
// A build for AVX-512 (TINYGPT_AVX512=1, or a Linux build on an AVX-512 machine) copied to a CPU
// without AVX-512 would die with "Illegal instruction" at the first such instruction. With
// -march=x86-64-v4 the compiler may use AVX-512 anywhere in the library, not only in the
// kernels: in a string search, a copy, a global's initialiser. So the check lives here, in the
// executable, which Package.swift builds without an instruction-set flag (SSE2, every x86-64
// CPU), and main.swift calls it first, before it touches the library.
//
// These are this package's only CPU-feature calls (Linux: /proc/cpuinfo; macOS: sysctl
// hw.optional.*). They are not in Support/Platform.swift with the other system calls because
// that file is in the library, which is built for the instruction set being checked.

import Foundation

enum InstructionSet {
    /// The instruction set this binary's kernels need, as `--version` names it.
    static var built: String {
        #if arch(x86_64)
        #if TINYGPT_AVX512
        return "AVX-512"
        #else
        return "AVX2"
        #endif
        #elseif arch(arm64)
        return "NEON"
        #else
        return "the compiler's default"
        #endif
    }

    /// The compiler flag behind `built`.
    static var flag: String {
        #if arch(x86_64)
        #if TINYGPT_AVX512
        return "-march=x86-64-v4"
        #else
        return "-march=x86-64-v3"
        #endif
        #else
        return "no flag: NEON with FMA is the baseline"
        #endif
    }

    /// The CPU features `built` needs, by their Linux /proc/cpuinfo names.
    static var required: [String] {
        #if arch(x86_64)
        #if TINYGPT_AVX512
        return ["avx2", "fma", "avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"]
        #else
        return ["avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe"]
        #endif
        #else
        return []
        #endif
    }

    /// Tests pretend to run on another CPU by listing its features here (cpuinfo names,
    /// separated by spaces), e.g. TINYGPT_TEST_CPU_FLAGS="avx avx2 fma" for a CPU without AVX-512.
    static let testFlagsVariable = "TINYGPT_TEST_CPU_FLAGS"

    /// The running CPU's features (cpuinfo names); nil when they cannot be read.
    static func cpuFeatures() -> Set<String>? {
        if let fake = ProcessInfo.processInfo.environment[testFlagsVariable] {
            return Set(fake.split(separator: " ").map(String.init))
        }
        #if os(Linux)
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        return Set(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init))
        #elseif canImport(Darwin)
        // Darwin's names for the features it reports (`sysctl hw.optional` on an Intel Mac).
        // movbe has none; every Mac with AVX2 has it, so it counts as present.
        let sysctlName = ["avx": "avx1_0", "avx2": "avx2_0", "fma": "fma", "bmi1": "bmi1", "bmi2": "bmi2", "f16c": "f16c",
                          "avx512f": "avx512f", "avx512bw": "avx512bw", "avx512cd": "avx512cd",
                          "avx512dq": "avx512dq", "avx512vl": "avx512vl"]
        var found = Set<String>()
        for feature in required {
            guard let name = sysctlName[feature] else { found.insert(feature); continue }
            var value: Int32 = 0
            var size = MemoryLayout<Int32>.size
            if sysctlbyname("hw.optional." + name, &value, &size, nil, 0) == 0, value != 0 { found.insert(feature) }
        }
        return found
        #else
        return nil
        #endif
    }

    /// The required features this CPU lacks; nil when the CPU's features cannot be read.
    static func missing() -> [String]? {
        if required.isEmpty { return [] }
        guard let features = cpuFeatures() else { return nil }
        return required.filter { !features.contains($0) }
    }

    /// Exits with one line when this CPU cannot run the kernels, before any of them runs.
    /// `version`, `completions` and help need no kernels, so they go on.
    static func exitUnlessThisCPURunsTheBuild(arguments: [String]) {
        if let first = arguments.first, ["--version", "-V", "version", "completions", "-h", "--help", "help"].contains(first) { return }
        guard let missing = missing(), !missing.isEmpty else { return }
        let line = "tinygpt: this binary was built for \(built) (\(flag)) but this CPU lacks \(missing.joined(separator: ", ")); "
            + "build it on this machine (swift build -c release), or with TINYGPT_PORTABLE=1 for any x86-64 CPU since 2013\n"
        FileHandle.standardError.write(Data(line.utf8))
        exit(1)
    }
}
