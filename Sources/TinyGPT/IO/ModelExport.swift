// Moving weights to and from PyTorch: a checkpoint as a nanoGPT state dict in safetensors, plus a
// JSON sidecar with the config and vocabulary. Tensor names are nanoGPT's (model.py, GPT class);
// Docs/FORMAT.md describes both files and the import rules.
//
// Export writes every tensor of `ParameterLayout` in layout order, then `lm_head.weight` as its own
// copy of `transformer.wte.weight`, so `model.load_state_dict(load_file(path), strict=True)`
// works on a nanoGPT model without further handling of the tied head.
//
// Import accepts what nanoGPT saves: the `_orig_mod.` prefix of torch.compile'd models, the
// causal-mask buffers (`transformer.h.N.attn.bias`) of older versions, files without any bias
// tensors (`bias=False`, read as zero biases), and files whose tied head is stored only as
// `lm_head.weight` (what `safetensors.torch.save_model` keeps of a shared pair).

import Foundation

/// Safetensors export and import of model weights, for exchange with PyTorch and nanoGPT.
public enum ModelExport {
    /// The prefix torch.compile adds to every state-dict key.
    static let compiledPrefix = "_orig_mod."
    static let headName = "lm_head.weight"

    /// The sidecar next to a safetensors file: `model.safetensors` → `model.json`; any other
    /// name gets `.json` appended.
    public static func sidecarPath(for path: String) -> String {
        let suffix = ".safetensors"
        if path.hasSuffix(suffix) && path.count > suffix.count { return String(path.dropLast(suffix.count)) + ".json" }
        return path + ".json"
    }

    // MARK: - Export

    /// Writes the checkpoint's weights to `path` (safetensors) and its config and vocabulary to
    /// `sidecarPath` (default `sidecarPath(for: path)`), each replaced atomically. Both paths
    /// are checked under the output rule first (never over a checkpoint, one of `inputs`, or a
    /// file that is not an older export), so a refusal writes neither.
    public static func exportSafetensors(_ checkpoint: Checkpoint, to path: String, sidecarPath: String? = nil,
                                         inputs: [String] = [], flag: String? = nil) throws {
        let sidecarPath = sidecarPath ?? Self.sidecarPath(for: path)
        try OutputFile.check(path, as: .export, inputs: inputs, flag: flag)
        try OutputFile.check(sidecarPath, as: .sidecar, inputs: inputs, flag: flag)
        let bytes = try safetensorsBytes(checkpoint)
        let sidecar = try sidecarJSON(checkpoint)
        try OutputFile.write(bytes, to: path, as: .export, inputs: inputs, flag: flag)
        try OutputFile.write(Array(sidecar.utf8), to: sidecarPath, as: .sidecar, inputs: inputs, flag: flag)
    }

    /// The safetensors bytes of the checkpoint's weights (see the file header for the layout).
    public static func safetensorsBytes(_ checkpoint: Checkpoint) throws -> [UInt8] {
        try checkShape(checkpoint)
        let config = checkpoint.config, params = checkpoint.parameters
        let layout = ParameterLayout(config)
        var tensors = layout.tensors.map {
            SafetensorsTensor(name: $0.name, shape: $0.shape, values: params[$0.offset..<$0.offset + $0.count])
        }
        let wte = tensors[0]
        tensors.append(SafetensorsTensor(name: headName, shape: wte.shape, values: wte.values))
        let metadata: [(key: String, value: String)] = [
            ("format", "pt"), ("producer", "tinygpt"),
            ("n_layer", "\(config.layerCount)"), ("n_head", "\(config.headCount)"),
            ("n_embd", "\(config.modelWidth)"), ("block_size", "\(config.contextLength)"),
            ("vocab_size", "\(config.vocabSize)"), ("bias", "true"), ("gelu", config.gelu.name),
        ]
        return Safetensors.encode(tensors, metadata: metadata)
    }

    /// The sidecar JSON: the config in nanoGPT's field names and the vocabulary as a list of
    /// one-character strings in id order.
    public static func sidecarJSON(_ checkpoint: Checkpoint) throws -> String {
        try checkShape(checkpoint)
        let c = checkpoint.config
        var characters: [String] = []
        characters.reserveCapacity(checkpoint.vocabulary.count)
        for value in checkpoint.vocabulary {
            guard let scalar = Unicode.Scalar(value) else {
                throw TinyGPTError.runtime("the vocabulary holds 0x\(String(value, radix: 16)), which is not a Unicode scalar")
            }
            characters.append(JSONText.quote(String(Character(scalar))))
        }
        return """
            {
              "format": "tinygpt-safetensors-sidecar",
              "version": 1,
              "config": {"n_layer": \(c.layerCount), "n_head": \(c.headCount), "n_embd": \(c.modelWidth), \
            "block_size": \(c.contextLength), "vocab_size": \(c.vocabSize), "bias": true, "gelu": "\(c.gelu.name)"},
              "vocab": [\(characters.joined(separator: ", "))]
            }

            """
    }

    private static func checkShape(_ checkpoint: Checkpoint) throws {
        let config = checkpoint.config
        try config.validate()
        guard config.residual else {
            throw TinyGPTError.usage("a model without skip connections (`residual`) cannot be exported: nanoGPT's Block always adds them")
        }
        let expected = ParameterLayout(config).totalCount
        guard checkpoint.parameters.count == expected else {
            throw TinyGPTError.runtime("the checkpoint holds \(checkpoint.parameters.count) parameters but its config needs \(expected); the checkpoint is inconsistent")
        }
        guard checkpoint.vocabulary.count == config.vocabSize else {
            throw TinyGPTError.runtime("the checkpoint's vocabulary has \(checkpoint.vocabulary.count) characters but its config says \(config.vocabSize); the checkpoint is inconsistent")
        }
    }

    // MARK: - Import

    /// Reads a safetensors file and its sidecar (default `sidecarPath(for: path)`) into a
    /// weights-only checkpoint. Throws a runtime error naming every problem found.
    /// The header is read and checked against the file's length first (the tensors must cover
    /// the data exactly) before any tensor is read: a foreign or lying file costs a few small
    /// reads, and the weights, matched to their shapes before any buffer is allocated, are no
    /// larger than the file.
    public static func importSafetensors(path: String, vocabPath: String? = nil) throws -> Checkpoint {
        let kind = "safetensors file"
        let (fd, size) = try AtomicFile.openRegular(path, kind: kind)
        defer { Platform.close(fd) }
        do {
            let first = try AtomicFile.read(fd, path: path, kind: kind, from: 0, count: min(size, 8))
            let headerEnd = try SafetensorsFile.headerEnd(firstBytes: first, fileSize: size)
            let header = try AtomicFile.read(fd, path: path, kind: kind, from: 0, count: headerEnd)
            _ = try SafetensorsFile.layout(prefix: header, fileSize: size)
        } catch let error as TinyGPTError {
            throw TinyGPTError(error.kind, "\(path): \(error.message)")
        }
        let sidecar = try AtomicFile.read(vocabPath ?? sidecarPath(for: path), kind: "sidecar JSON (config and vocabulary)",
                                          limit: Safetensors.maxHeaderLength)
        let bytes = try AtomicFile.read(fd, path: path, kind: kind, from: 0, count: size)
        return try checkpoint(safetensors: bytes, sidecar: sidecar)
    }

    /// The weights-only checkpoint held by safetensors `bytes` and `sidecar` JSON bytes.
    public static func checkpoint(safetensors bytes: [UInt8], sidecar: [UInt8]) throws -> Checkpoint {
        let file = try SafetensorsFile(bytes: bytes)
        let side = try Sidecar(json: sidecar)

        // Names as nanoGPT's uncompiled model spells them.
        var entries: [String: SafetensorsEntry] = [:]
        for entry in file.entries {
            let name = entry.name.hasPrefix(compiledPrefix) ? String(entry.name.dropFirst(compiledPrefix.count)) : entry.name
            if entries[name] != nil {
                throw TinyGPTError.runtime("the safetensors file holds \"\(name)\" twice (with and without \(compiledPrefix)); keep one")
            }
            entries[name] = entry
        }

        let config = try deriveConfig(entries, file: file, sidecar: side)
        let layout = ParameterLayout(config)
        // Match every tensor before allocating: once all weights are present with their shapes,
        // the parameter buffer is no larger than the file.
        var found: [(ParameterTensor, SafetensorsEntry)] = []
        var missingWeights: [String] = [], missingBiases: [String] = [], presentBiases = 0
        var wrongShapes: [String] = [], wrongTypes: [String] = []
        for tensor in layout.tensors {
            let isBias = tensor.name.hasSuffix(".bias")
            let entry = entries[tensor.name] ?? (tensor.offset == layout.tokenEmbedding ? entries[headName] : nil)
            guard let entry else {
                if isBias { missingBiases.append(tensor.name) } else { missingWeights.append(tensor.name) }
                continue
            }
            if isBias { presentBiases += 1 }
            if entry.shape != tensor.shape {
                wrongShapes.append("\(tensor.name) \(entry.shape) (expected \(tensor.shape))")
            } else if entry.dtype != "F32" {
                wrongTypes.append("\(tensor.name) (\(entry.dtype))")
            } else {
                found.append((tensor, entry))
            }
        }
        // nanoGPT's bias=False drops every bias; a file with only some of them is damaged.
        if presentBiases > 0 { missingWeights += missingBiases }
        let unknown = entries.keys.filter { layout[$0] == nil && $0 != headName && !isCausalMask($0) }.sorted()

        var problems: [String] = []
        if !unknown.isEmpty { problems.append("unknown tensors: " + Safetensors.listing(unknown)) }
        if !missingWeights.isEmpty { problems.append("missing tensors: " + Safetensors.listing(missingWeights)) }
        if !wrongShapes.isEmpty { problems.append("wrong shapes: " + Safetensors.listing(wrongShapes)) }
        if !wrongTypes.isEmpty {
            problems.append("not float32: " + Safetensors.listing(wrongTypes) + " (convert with tensor.float() before saving)")
        }
        if !problems.isEmpty {
            throw TinyGPTError.runtime("the safetensors file does not match a nanoGPT-style GPT (\(config.layerCount) layers, width \(config.modelWidth)): " + problems.joined(separator: "; "))
        }

        var parameters = [Float](repeating: 0, count: layout.totalCount)
        for (tensor, entry) in found {
            parameters.replaceSubrange(tensor.offset..<tensor.offset + tensor.count, with: try file.floats(entry))
        }
        try checkTiedHead(entries, file: file, embedding: parameters[0..<config.vocabSize * config.modelWidth])
        if let bad = parameters.firstIndex(where: { !$0.isFinite }) {
            let name = ParameterLayout(config).tensors.last { $0.offset <= bad }?.name ?? "a tensor"
            throw TinyGPTError.runtime("the imported weights hold \(parameters[bad]) in \(name); export the model again from a run that has not diverged")
        }
        return Checkpoint(config: config, vocabulary: side.vocabulary, parameters: parameters, training: nil)
    }

    /// `transformer.h.N.attn.bias`: the causal mask older nanoGPT kept as a buffer. Not a weight.
    private static func isCausalMask(_ name: String) -> Bool {
        guard let index = blockIndex(name) else { return false }
        return name == "transformer.h.\(index).attn.bias"
    }

    /// N in `transformer.h.N.…`, if the name has that form.
    private static func blockIndex(_ name: String) -> Int? {
        let prefix = "transformer.h."
        guard name.hasPrefix(prefix) else { return nil }
        let digits = name.dropFirst(prefix.count).prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, name.dropFirst(prefix.count + digits.count).hasPrefix(".") else { return nil }
        return Int(digits)
    }

    /// The architecture from the tensor shapes; the head count and GELU form from the sidecar or
    /// the file's metadata. Sidecar fields that disagree with the shapes are an error.
    private static func deriveConfig(_ entries: [String: SafetensorsEntry], file: SafetensorsFile,
                                     sidecar: Sidecar) throws -> GPTConfig {
        guard let wte = entries["transformer.wte.weight"] ?? entries[headName], wte.shape.count == 2 else {
            throw TinyGPTError.runtime("the safetensors file has no 2-D transformer.wte.weight (or lm_head.weight); it is not a nanoGPT-style GPT")
        }
        guard let wpe = entries["transformer.wpe.weight"], wpe.shape.count == 2, wpe.shape[1] == wte.shape[1] else {
            throw TinyGPTError.runtime("the safetensors file has no transformer.wpe.weight of shape [block_size, \(wte.shape[1])]; it is not a nanoGPT-style GPT")
        }
        let layerCount = entries.keys.compactMap(blockIndex).max().map { $0 + 1 } ?? 0
        guard layerCount > 0 else {
            throw TinyGPTError.runtime("the safetensors file has no transformer.h.N tensors; it is not a nanoGPT-style GPT")
        }
        guard let headCount = sidecar.headCount ?? file.metadata["n_head"].flatMap({ Int($0) }) else {
            throw TinyGPTError.runtime("the head count is unknown: add \"config\": {\"n_head\": …} to the sidecar JSON")
        }
        var gelu = GELUForm.exact
        if let name = sidecar.gelu ?? file.metadata["gelu"] {
            guard let form = GELUForm(name: name == "none" ? "exact" : name) else {
                throw TinyGPTError.runtime("unknown GELU form \"\(name)\"; use \"tanh\" or \"exact\"")
            }
            gelu = form
        }
        let config = GPTConfig(vocabSize: wte.shape[0], contextLength: wpe.shape[0], layerCount: layerCount,
                               headCount: headCount, modelWidth: wte.shape[1], gelu: gelu)
        do {
            try config.validate()
        } catch let error as TinyGPTError {
            throw TinyGPTError.runtime("the imported model's shape is not usable: \(error.message)")
        }
        let derived = [("n_layer", config.layerCount), ("n_embd", config.modelWidth),
                       ("block_size", config.contextLength), ("vocab_size", config.vocabSize)]
        let conflicts = derived.compactMap { key, value in
            sidecar.sizes[key].flatMap { $0 == value ? nil : "\(key) \($0) (tensors say \(value))" }
        }
        if !conflicts.isEmpty {
            throw TinyGPTError.runtime("the sidecar JSON disagrees with the tensor shapes: " + Safetensors.listing(conflicts))
        }
        guard sidecar.vocabulary.count == config.vocabSize else {
            throw TinyGPTError.runtime("the sidecar vocabulary has \(sidecar.vocabulary.count) characters but transformer.wte.weight has \(config.vocabSize) rows; use the sidecar written with these weights")
        }
        return config
    }

    /// TinyGPT's head is the token embedding; a file whose `lm_head.weight` differs cannot be loaded.
    private static func checkTiedHead(_ entries: [String: SafetensorsEntry], file: SafetensorsFile,
                                      embedding: ArraySlice<Float>) throws {
        guard let head = entries[headName], entries["transformer.wte.weight"] != nil else { return }
        var tied = false
        if head.dtype == "F32" && head.elementCount == embedding.count {
            tied = try file.floats(head).elementsEqual(embedding) { $0.bitPattern == $1.bitPattern }
        }
        if !tied {
            throw TinyGPTError.runtime("lm_head.weight differs from transformer.wte.weight, but TinyGPT ties the output head to the token embedding; export a model with tied weights")
        }
    }

    // MARK: - Sidecar

    /// What import reads from the sidecar JSON.
    private struct Sidecar {
        var vocabulary: [UInt32]
        var headCount: Int?
        var gelu: String?
        /// Optional size fields (n_layer, n_embd, block_size, vocab_size), checked against the shapes.
        var sizes: [String: Int] = [:]

        init(json: [UInt8]) throws {
            func fail(_ what: String) -> TinyGPTError {
                TinyGPTError.runtime("the sidecar JSON \(what); it should look like {\"config\": {\"n_head\": 4, \"gelu\": \"tanh\"}, \"vocab\": [\"\\n\", \" \", \"a\"]}")
            }
            let object: Any
            do {
                object = try JSONSerialization.jsonObject(with: Data(json))
            } catch {
                throw fail("is not valid JSON (\(error.localizedDescription))")
            }
            guard let root = object as? [String: Any] else { throw fail("is not a JSON object") }
            guard let vocab = root["vocab"] as? [Any] else { throw fail("has no \"vocab\" list") }
            var scalars: [UInt32] = []
            scalars.reserveCapacity(vocab.count)
            for (id, item) in vocab.enumerated() {
                guard let text = item as? String, text.unicodeScalars.count == 1, let scalar = text.unicodeScalars.first else {
                    throw fail("has vocab entry \(id) that is not a one-character string")
                }
                scalars.append(scalar.value)
            }
            do {
                _ = try CharTokenizer(vocabulary: scalars)
            } catch let error as TinyGPTError {
                throw TinyGPTError.runtime("the sidecar vocabulary is unusable: \(error.message)")
            }
            vocabulary = scalars
            guard let config = root["config"] else { return }
            guard let fields = config as? [String: Any] else { throw fail("has a \"config\" that is not an object") }
            for key in ["n_head", "n_layer", "n_embd", "block_size", "vocab_size"] {
                guard let value = fields[key] else { continue }
                guard let number = value as? NSNumber, let n = Int(exactly: number.doubleValue) else {
                    throw fail("has config.\(key) that is not a whole number")
                }
                if key == "n_head" { headCount = n } else { sizes[key] = n }
            }
            if let value = fields["gelu"] {
                guard let name = value as? String else { throw fail("has config.gelu that is not a string") }
                gelu = name
            }
        }
    }
}
