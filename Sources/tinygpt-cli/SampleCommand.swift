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
            .float("--top-p", "P", in: FloatRange(lower: 0, upper: 1, includesLower: false, includesUpper: true), help: "sample only among the most likely characters whose probabilities reach P"),
            .int("--samples", "N", in: 1...10_000, help: "independent continuations", default: "1"),
            SharedFlags.seed,
            SharedFlags.threads,
        ],
        examples: ["tinygpt sample --prompt \"MIRA:\"", "tinygpt sample --prompt \"老师：\" --checkpoint Checkpoints/chinese-lectures/best.ckpt",
                   "tinygpt sample --prompt \"The \" --greedy --tokens 200"])

    func run(_ flags: ParsedFlags) throws {
        if flags.bool("--greedy"), let temperature = flags.float("--temperature"), temperature != 0 {
            throw TinyGPTError.usage("--greedy and --temperature \(FlagText.number(Double(temperature))) contradict each other (greedy is temperature 0); drop one of them")
        }
        let settings = SamplingSettings(temperature: flags.bool("--greedy") ? 0 : (flags.float("--temperature") ?? 0.8),
                                        topK: flags.int("--top-k"), topP: flags.float("--top-p"))
        let loaded = try CheckpointFinder.load(flags.string("--checkpoint"))
        let session = try GenerationSession(checkpoint: loaded.checkpoint, context: SharedFlags.context(flags))
        let prompt = try session.encodePrompt(flags.string("--prompt"))
        let promptText = session.tokenizer.decode(prompt)
        let count = flags.int("--samples") ?? 1
        let tokens = flags.int("--tokens") ?? 500
        var pending = 0
        try session.generate(prompt, count: tokens, settings: settings, seed: flags.uint64("--seed") ?? 1337,
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
