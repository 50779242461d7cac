// tinygpt export / import: weights to and from safetensors, named as nanoGPT's state dict.

import Foundation
import TinyGPT
import TinyGPTViews

struct ExportCommand: Command {
    let spec = CommandSpec(
        name: "export", summary: "Write a checkpoint's weights as safetensors (nanoGPT names) plus a JSON sidecar.",
        positionals: [PositionalSpec("CKPT", help: "checkpoint to export")],
        flags: [
            .choice("--format", "FORMAT", ["safetensors"], help: "output format", default: "safetensors"),
            .string("--out", "FILE", help: "output file; the sidecar (config and vocabulary) goes beside it as .json"),
            .string("--prompt", "TEXT", help: "also print the logits of every position of this prompt (for comparisons)"),
        ],
        examples: ["tinygpt export Checkpoints/lighthouse/best.ckpt --out model.safetensors"])

    func run(_ flags: ParsedFlags) throws {
        let path = flags.positional(0)!
        guard let out = flags.string("--out") else {
            throw TinyGPTError.usage("export needs --out FILE (e.g. --out model.safetensors)")
        }
        try checkOutputPath(out, as: .export, inputs: [path], flag: "--out")
        try checkOutputPath(ModelExport.sidecarPath(for: out), as: .sidecar, inputs: [path], flag: "--out")
        let checkpoint = try Checkpoint(contentsOf: path)
        // Check the prompt before writing anything.
        let probe = try flags.string("--prompt").map { prompt in
            let session = try GenerationSession(checkpoint: checkpoint, context: KernelContext())
            return (session, try session.tokenizer.encode(prompt))
        }
        try ModelExport.exportSafetensors(checkpoint, to: out, inputs: [path], flag: "--out")
        print("wrote \(out) and \(ModelExport.sidecarPath(for: out))")
        if let (session, ids) = probe {
            for row in session.logits(ids) {
                print(row.map { "\($0)" }.joined(separator: " "))
            }
        }
    }
}

struct ImportCommand: Command {
    let spec = CommandSpec(
        name: "import", summary: "Make a checkpoint from safetensors weights (e.g. trained with nanoGPT on a GPU).",
        positionals: [PositionalSpec("FILE", help: "the .safetensors file")],
        flags: [
            .string("--vocab", "FILE.json", help: "sidecar with the config and vocabulary (default: FILE with .json)"),
            .string("--out", "CKPT", help: "checkpoint to write"),
        ],
        examples: ["tinygpt import model.safetensors --vocab model.json --out Checkpoints/imported/latest.ckpt"])

    func run(_ flags: ParsedFlags) throws {
        guard let out = flags.string("--out") else {
            throw TinyGPTError.usage("import needs --out CKPT (the checkpoint to write)")
        }
        let source = flags.positional(0)!
        let inputs = [source, flags.string("--vocab") ?? ModelExport.sidecarPath(for: source)]
        try checkOutputPath(out, as: .checkpoint, inputs: inputs, flag: "--out")
        let checkpoint = try ModelExport.importSafetensors(path: source, vocabPath: flags.string("--vocab"))
        try checkpoint.write(to: out, as: .checkpoint, inputs: inputs)
        let c = checkpoint.config
        print("wrote \(out): \(c.layerCount) layers, \(c.headCount) heads, width \(c.modelWidth), context \(c.contextLength), vocabulary \(c.vocabSize), \(c.gelu.name) GELU")
    }
}
