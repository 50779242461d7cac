// tinygpt sample: stream a continuation of a prompt from a checkpoint.

import Foundation
import TinyGPT
import TinyGPTViews

struct SampleCommand: Command {
    let spec = CommandSpec(
        name: "sample", summary: "Generate text after a prompt from a trained checkpoint.",
        flags: [
            SharedFlags.checkpoint,
            .string("--prompt", "TEXT", help: "text to continue (default: a newline)"),
            .int("--tokens", "N", in: 1...1_000_000, help: "characters to generate", default: "500"),
            .float("--temperature", "T", in: .closed(0, 100), help: "softmax temperature; 0 means greedy", default: "0.8"),
            .boolean("--greedy", help: "always take the most likely character (same as --temperature 0)"),
            .int("--top-k", "K", in: 1...10_000_000, help: "sample only among the K most likely characters"),
            .float("--top-p", "P", in: .open(0, 1.000001), help: "sample only among the most likely characters whose probabilities reach P"),
            .int("--samples", "N", in: 1...10_000, help: "independent continuations", default: "1"),
            SharedFlags.seed,
            SharedFlags.threads,
        ],
        examples: ["tinygpt sample --prompt \"MIRA:\"", "tinygpt sample --prompt \"老师：\" --checkpoint Checkpoints/chinese-lectures/best.ckpt",
                   "tinygpt sample --prompt \"The \" --greedy --tokens 200"])

    func run(_ flags: ParsedFlags) throws {
        var settings = SamplingSettings(temperature: flags.bool("--greedy") ? 0 : (flags.float("--temperature") ?? 0.8),
                                        topK: flags.int("--top-k"), topP: flags.float("--top-p"))
        settings.topP = settings.topP.map { min($0, 1) }
        try settings.validate()
        let loaded = try CheckpointFinder.load(flags.string("--checkpoint"))
        let session = try SamplingSession(checkpoint: loaded.checkpoint, context: SharedFlags.context(flags))
        let prompt = try session.encodePrompt(flags.string("--prompt"))
        let count = flags.int("--samples") ?? 1
        var rng = RandomGenerator(seed: flags.uint64("--seed") ?? 1337)
        for i in 0..<count {
            if count > 1 { print("\(i > 0 ? "\n" : "")--- sample \(i + 1) of \(count) ---") }
            print(session.tokenizer.decode(prompt), terminator: "")
            var pending = 0
            Sampler.generate(cache: session.cache, prompt: prompt, count: flags.int("--tokens") ?? 500,
                             settings: settings, rng: &rng) { id in
                print(session.tokenizer.character(Int(id)), terminator: "")
                pending += 1
                if pending >= 8 || Console.isTerminal { Console.flush(); pending = 0 }
            }
            print("")
        }
    }
}

/// A loaded model ready to generate: tokenizer, weights and a KV cache.
struct SamplingSession {
    let checkpoint: Checkpoint
    let tokenizer: CharTokenizer
    let model: GPT
    let cache: KVCache

    init(checkpoint: Checkpoint, context: KernelContext) throws {
        self.checkpoint = checkpoint
        tokenizer = try CharTokenizer(vocabulary: checkpoint.vocabulary)
        model = GPT(config: checkpoint.config, parameters: checkpoint.parameters, context: context)
        cache = KVCache(model: model)
    }

    /// The prompt's ids; without a prompt, a newline (or the first character of the vocabulary).
    func encodePrompt(_ text: String?) throws -> [Int32] {
        guard let text else {
            return [tokenizer.id(of: 0x0A) ?? 0]
        }
        return try tokenizer.encode(text)
    }
}
