// The libFuzzer entry points of the tinygpt fuzzer that run-fuzzer.sh builds, and its seed inputs.
//
// TINYGPT_FUZZ_TARGET picks the code under test, once per process: `checkpoint` (the default,
// CheckpointFuzzer.swift) or `safetensors` (SafetensorsFuzzer.swift). With
// TINYGPT_FUZZ_WRITE_SEEDS=DIR the binary does not fuzz: it writes valid seed files for both
// targets into DIR/checkpoint and DIR/safetensors and exits. Tests/Fuzz/corpus holds such files.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The reader a fuzzer process exercises.
enum FuzzTarget: String {
    case checkpoint
    case safetensors
}

/// Read from the environment on first use, in `LLVMFuzzerInitialize`.
let fuzzTarget: FuzzTarget? = FuzzTarget(rawValue: getenv("TINYGPT_FUZZ_TARGET").map { String(cString: $0) } ?? "checkpoint")

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    // Exit only after the helper has returned: LeakSanitizer reports memory still held at exit.
    if let status = writeSeedsIfAsked() { exit(status) }
    if fuzzTarget == nil {
        fputs("tinygpt-fuzzer: TINYGPT_FUZZ_TARGET must be checkpoint or safetensors\n", stderr)
        exit(2)
    }
    return 0
}

/// Writes the seeds when TINYGPT_FUZZ_WRITE_SEEDS names a folder; returns the exit status then,
/// or nil to go on fuzzing.
private func writeSeedsIfAsked() -> CInt? {
    guard let folder = getenv("TINYGPT_FUZZ_WRITE_SEEDS").map({ String(cString: $0) }) else { return nil }
    do {
        let count = try FuzzSeeds.write(to: folder)
        print("wrote \(count) seed files into \(folder)/checkpoint and \(folder)/safetensors")
        return 0
    } catch {
        fputs("tinygpt-fuzzer: \(error)\n", stderr)
        return 1
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    switch fuzzTarget {
    case .checkpoint: CheckpointFuzzer.run(input)
    case .safetensors: SafetensorsFuzzer.run(input)
    case nil: break
    }
    return 0
}

// MARK: - Seeds

/// Small valid inputs, built with the library's own encoders, so the fuzzer starts past the magic
/// and the checksums. Each file stays well under the fuzzer's `-max_len`.
enum FuzzSeeds {
    /// Writes every seed; returns how many files were written.
    static func write(to folder: String) throws -> Int {
        var count = 0
        for (sub, files) in [("checkpoint", checkpointFiles()), ("safetensors", safetensorsFiles())] {
            let path = folder + "/" + sub
            for made in [folder, path] where mkdir(made, 0o755) != 0 && errno != EEXIST {
                throw TinyGPTError.runtime("cannot create the seed folder \(made): \(String(cString: strerror(errno)))")
            }
            for (name, bytes) in files {
                try AtomicFile.write(bytes, to: path + "/" + name)
                count += 1
            }
        }
        return count
    }

    /// Plain checkpoint files: weights only and with training state; 1- to 4-byte UTF-8.
    static func checkpointFiles() -> [(String, [UInt8])] {
        let tiny = GPTConfig(vocabSize: 2, contextLength: 2, layerCount: 1, headCount: 1, modelWidth: 2)
        let mixed = GPTConfig(vocabSize: 5, contextLength: 3, layerCount: 2, headCount: 2, modelWidth: 4, gelu: .exact)
        let narrow = GPTConfig(vocabSize: 4, contextLength: 1, layerCount: 1, headCount: 1, modelWidth: 1, gelu: .exact)
        let tinyVocabulary: [UInt32] = [0x61, 0xE9]                          // a é
        let mixedVocabulary: [UInt32] = [0x0A, 0x20, 0x61, 0x4E2D, 0x1F600]  // \n space a 中 😀
        let narrowVocabulary: [UInt32] = [0x00, 0xFEFF, 0x10_FFFF, 0x1F680].sorted()
        return [
            ("tiny-weights.ckpt", checkpoint(tiny, tinyVocabulary, seed: 1, history: nil).encoded()),
            ("tiny-training.ckpt", checkpoint(tiny, tinyVocabulary, seed: 2, history: 2).encoded()),
            ("tiny-training-step0.ckpt", checkpoint(tiny, tinyVocabulary, seed: 3, history: 0).encoded()),
            ("mixed-weights.ckpt", checkpoint(mixed, mixedVocabulary, seed: 4, history: nil).encoded()),
            ("narrow-training.ckpt", checkpoint(narrow, narrowVocabulary, seed: 5, history: 3).encoded()),
            ("narrow-finetuned.ckpt", fineTuned(checkpoint(narrow, narrowVocabulary, seed: 8, history: 1)).encoded()),
        ]
    }

    /// `base` as a fine-tuning run saves it: a lineage of two models and frozen ranges.
    static func fineTuned(_ base: Checkpoint) -> Checkpoint {
        var checkpoint = base
        checkpoint.lineage = [LineageEntry(name: "fables/best.ckpt", fileDigest: 0x1A2B_3C4D, step: 600, validationLoss: 1.875, addedCharacters: 0),
                              LineageEntry(name: "中/model.safetensors", fileDigest: 7, step: 0, validationLoss: .nan, addedCharacters: 2)]
        checkpoint.training?.frozen = [0..<4, 8..<20]
        return checkpoint
    }

    /// Fuzz inputs for the safetensors target (`SafetensorsFuzzer.input`): tinygpt's own exports,
    /// and a nanoGPT-style file without biases whose tied head is stored only as `lm_head.weight`,
    /// with torch.compile's name prefix and an old causal-mask buffer.
    static func safetensorsFiles() -> [(String, [UInt8])] {
        let tiny = checkpoint(GPTConfig(vocabSize: 2, contextLength: 2, layerCount: 1, headCount: 1, modelWidth: 2),
                              [0x61, 0xE9], seed: 6, history: nil)
        let mixed = checkpoint(GPTConfig(vocabSize: 3, contextLength: 2, layerCount: 2, headCount: 2, modelWidth: 2, gelu: .exact),
                               [0x0A, 0x4E2D, 0x1F600], seed: 7, history: nil)
        var files: [(String, [UInt8])] = []
        for (name, model) in [("tiny-export.bin", tiny), ("mixed-export.bin", mixed)] {
            guard let bytes = try? ModelExport.safetensorsBytes(model), let side = try? ModelExport.sidecarJSON(model) else {
                preconditionFailure("a seed model could not be exported")
            }
            files.append((name, SafetensorsFuzzer.input(safetensors: bytes, sidecar: Array(side.utf8))))
        }

        let config = tiny.config
        var tensors: [SafetensorsTensor] = []
        for tensor in ParameterLayout(config).tensors where !tensor.name.hasSuffix(".bias") {
            let name = tensor.name == "transformer.wte.weight" ? "lm_head.weight" : tensor.name
            tensors.append(SafetensorsTensor(name: "_orig_mod." + name, shape: tensor.shape,
                                             values: tiny.parameters[tensor.offset..<tensor.offset + tensor.count]))
        }
        let T = config.contextLength
        let mask = (0..<T * T).map { Float($0 % T <= $0 / T ? 1 : 0) }
        tensors.append(SafetensorsTensor(name: "_orig_mod.transformer.h.0.attn.bias", shape: [1, 1, T, T], values: mask[...]))
        let nanoGPT = Safetensors.encode(tensors, metadata: [("format", "pt"), ("n_head", "\(config.headCount)")])
        let vocabulary = tiny.vocabulary.compactMap { Unicode.Scalar($0).map { JSONText.quote(String(Character($0))) } }
        let sidecar = "{\"vocab\": [" + vocabulary.joined(separator: ", ") + "]}\n"
        files.append(("nanogpt-untied-names.bin", SafetensorsFuzzer.input(safetensors: nanoGPT, sidecar: Array(sidecar.utf8))))
        return files
    }

    /// A checkpoint of small random finite values; `history` nil makes it weights-only, else it
    /// carries training state with that many history entries (every other validation loss NaN).
    static func checkpoint(_ config: GPTConfig, _ vocabulary: [UInt32], seed: UInt64, history: Int?) -> Checkpoint {
        var rng = RandomGenerator(seed: seed)
        let count = ParameterLayout(config).totalCount
        let parameters = (0..<count).map { _ in rng.nextNormal() * 0.02 }
        guard let history else { return Checkpoint(config: config, vocabulary: vocabulary, parameters: parameters, training: nil) }
        var settings = TrainingConfig()
        settings.batchSize = 4
        settings.steps = 50
        settings.warmupSteps = 5
        settings.evalInterval = 10
        settings.evalWindows = 4
        settings.dropout = 0.1
        settings.seed = seed
        let step = 10 * history
        let entries = (0..<history).map {
            HistoryEntry(step: 10 * $0, trainLoss: 3 - 0.25 * Float($0), validationLoss: $0 % 2 == 0 ? .nan : 3.125 - 0.25 * Float($0),
                         learningRate: settings.learningRate(at: 10 * $0))
        }
        let training = TrainingState(
            settings: settings, step: step,
            adamM: (0..<count).map { _ in rng.nextNormal() * 1e-3 },
            adamV: (0..<count).map { _ in rng.nextFloat() * 1e-6 },
            rng: RandomGenerator(seed: seed &+ 100), tokensSeen: step * settings.batchSize * config.contextLength,
            bestValidationLoss: history > 1 ? 2.875 : .infinity, corpusLength: 1000, corpusDigest: UInt32(truncatingIfNeeded: seed &* 0x9E37_79B9),
            history: entries)
        return Checkpoint(config: config, vocabulary: vocabulary, parameters: parameters, training: training)
    }
}
