// tinygpt sample: stream a continuation of a prompt from a checkpoint.

import Foundation
import TinyGPT
import TinyGPTViews

struct SampleCommand: Command {
    let spec = CommandSpec(
        name: "sample", summary: "Generate text after a prompt from a trained checkpoint.",
        flags: [
            SharedFlags.checkpoint,
            SharedFlags.prompt,
            .int("--tokens", "N", in: 1...1_000_000, help: "characters to generate", default: "500"),
            SharedFlags.temperature,
            SharedFlags.greedy,
            SharedFlags.topK,
            SharedFlags.topP,
            .int("--samples", "N", in: 1...10_000, help: "independent continuations", default: "1"),
            SharedFlags.seed,
            SharedFlags.threads,
        ],
        examples: ["tinygpt sample --prompt \"MIRA:\"", "tinygpt sample --prompt \"老师：\" --checkpoint Checkpoints/chinese-lectures/best.ckpt",
                   "tinygpt sample --prompt \"The \" --greedy --tokens 200"])

    func run(_ flags: ParsedFlags) throws {
        let settings = SharedFlags.sampling(flags)
        let loaded = try CheckpointFinder.load(flags.string("--checkpoint"))
        let session = try GenerationSession(checkpoint: loaded.checkpoint, context: SharedFlags.context(flags))
        let prompt = try session.encodePrompt(flags.string("--prompt"))
        let promptText = session.tokenizer.decode(prompt)
        let count = flags.intOrDefault("--samples")
        let tokens = flags.intOrDefault("--tokens")
        var pending = 0
        try session.generate(prompt, count: tokens, settings: settings, seed: flags.uint64OrDefault("--seed"),
                             streams: count) { c in
            if c.position == 0 {
                if count > 1 { print("\(c.stream > 0 ? "\n" : "")--- sample \(c.stream + 1) of \(count) ---") }
                print(promptText, terminator: "")
                pending = 0
            }
            print(c.text, terminator: "")
            pending += 1
            if pending >= 8 || Console.isTerminal { Console.flush(); pending = 0 }
            if c.position == tokens - 1 { print("") }
        }
    }
}
