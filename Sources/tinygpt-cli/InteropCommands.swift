// tinygpt export / import: weights to and from safetensors, named as nanoGPT's state dict.

import Foundation
import TinyGPT
import TinyGPTViews

struct ExportCommand: Command {
    let spec = CommandSpec(
        name: "export", summary: "Write a checkpoint's weights as safetensors (nanoGPT names), or a run as a nanoGPT dataset and config.",
        positionals: [PositionalSpec("CKPT|DIR", help: "the checkpoint to export; with --to nanogpt, the folder to write (the checkpoint is then --checkpoint)")],
        flags: [
            .choice("--format", "FORMAT", ["safetensors"], help: "output format", default: "safetensors"),
            .string("--out", "FILE", help: "output file; the sidecar (config and vocabulary) goes beside it as .json"),
            .string("--prompt", "TEXT", help: "also print the logits of every position of this prompt (for comparisons)"),
            .choice("--to", "TOOL", ["nanogpt"], help: "write nanoGPT's character dataset and a train.py config for the run into DIR"),
            SharedFlags.checkpoint,
            .string("--data", "FILE", help: "with --to nanogpt: the text the run trained on", default: Defaults.corpus),
        ],
        examples: ["tinygpt export Checkpoints/lighthouse/best.ckpt --out model.safetensors",
                   "tinygpt export --to nanogpt nanogpt-lighthouse --checkpoint Checkpoints/lighthouse/latest.ckpt"])

    func run(_ flags: ParsedFlags) throws {
        if flags.string("--to") != nil { return try exportToNanoGPT(flags) }
        for flag in ["--checkpoint", "--data"] where flags.contains(flag) {
            throw TinyGPTError.usage("\(flag) goes with --to nanogpt; for safetensors write tinygpt export CKPT --out FILE")
        }
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

    /// `export --to nanogpt DIR`: the run's text as nanoGPT's dataset, and a config for train.py.
    private func exportToNanoGPT(_ flags: ParsedFlags) throws {
        for flag in ["--out", "--prompt"] where flags.contains(flag) {
            throw TinyGPTError.usage("\(flag) does not go with --to nanogpt; give the folder to write: tinygpt export --to nanogpt DIR")
        }
        let folder = flags.positional(0)!
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), !isFolder.boolValue {
            throw TinyGPTError.runtime("cannot write into \(folder): it is a file, not a folder; give a folder for the nanoGPT dataset")
        }
        let loaded = try CheckpointFinder.load(flags.string("--checkpoint"))
        let dataPath = try SharedFlags.dataPath(flags)
        let tokenizer = try CharTokenizer(vocabulary: loaded.checkpoint.vocabulary)
        let (_, tokens) = try TextFile.readTokens(dataPath, tokenizer: tokenizer)
        if let training = loaded.checkpoint.training,
           training.corpusLength != tokens.count || training.corpusDigest != tokens.digest() {
            throw TinyGPTError.runtime("\(dataPath) is not the text \(loaded.path) was trained on (that had \(training.corpusLength) characters); pass the run's text with --data FILE")
        }
        let name = NanoGPTExport.datasetName(dataPath)
        let header = """
            # nanoGPT config written by `tinygpt export --to nanogpt` (TinyGPT \(TinyGPTVersion.string)) from \(loaded.path).
            # Copy this folder's data/ and config/ into a nanoGPT checkout, then from there:
            #   python train.py config/train_\(name).py                 (add --device=cpu --compile=False on a CPU)
            #   torchrun --standalone --nproc_per_node=N train.py config/train_\(name).py --gradient_accumulation_steps=N
            # (under DDP train.py divides gradient_accumulation_steps by the number of processes).

            """
        let summary = try NanoGPTExport.write(checkpoint: loaded.checkpoint, tokens: tokens, name: name, to: folder,
                                              source: loaded.path, header: header)
        let data = NanoGPTExport.dataFolder(name)
        print("wrote \(folder)/\(data)/train.bin (\(summary.trainCount) ids), val.bin (\(summary.validationCount) ids), meta.pkl (vocabulary \(summary.vocabSize))")
        print("wrote \(summary.configPath) and \(summary.sidecarPath)")
        print("next: copy \(folder)/data and \(folder)/config into a nanoGPT checkout, and there run")
        print("  python train.py \(NanoGPTExport.configFile(name))    (on a CPU add --device=cpu --compile=False)")
        print("back: tinygpt import model.safetensors --vocab \(summary.sidecarPath) --out CKPT (Docs/NANOGPT.md has the conversion line)")
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
