// tinygpt eval: a checkpoint's loss, bits per character and perplexity on a text file,
// beside n-gram counting baselines.

import Foundation
import TinyGPT
import TinyGPTViews

struct EvalCommand: Command {
    let spec = CommandSpec(
        name: "eval", summary: "Report a checkpoint's loss, bits per character and perplexity on a text file.",
        flags: [
            SharedFlags.checkpoint,
            .string("--data", "FILE", help: "text file to score", default: Defaults.corpus),
            .int("--max-chars", "N", in: 2...Int(Int32.max), help: "score only the first N characters"),
            .boolean("--no-baselines", help: "skip the n-gram baselines"),
            SharedFlags.threads,
        ],
        examples: ["tinygpt eval --data Corpora/lighthouse.txt", "tinygpt eval --checkpoint run/best.ckpt --data notes.txt"])

    func run(_ flags: ParsedFlags) throws {
        let dataPath = try SharedFlags.dataPath(flags)
        let loaded = try CheckpointFinder.load(flags.string("--checkpoint"))
        let session = try GenerationSession(checkpoint: loaded.checkpoint, context: SharedFlags.context(flags))
        let corpus = try loadCorpus(dataPath, tokenizer: session.tokenizer).tokens
        let tokens = Array(corpus.prefix(flags.int("--max-chars") ?? corpus.count))
        let score: TextScore
        do {
            score = try Evaluation.score(model: session.model, tokens: tokens)
        } catch let error as TinyGPTError {
            throw TinyGPTError(error.kind, "\(dataPath): \(error.message)")
        }
        print("checkpoint: \(loaded.path)")
        print("text: \(dataPath) · \(score.positions) characters scored")
        print(String(format: "loss %.4f nats/char · %.4f bits/char · perplexity %.3f", score.loss, score.bitsPerCharacter, score.perplexity))
        guard !flags.bool("--no-baselines") else { return }
        // Like for like: counting models fitted on the first 90% of this text, all scored on the last 10%.
        guard let comparison = try Evaluation.compareWithBaselines(model: session.model, tokens: tokens) else { return }
        print("on the last 10% (\(comparison.heldOutCount) characters), against counting models fitted on the first 90%:")
        for b in comparison.baselines { print("  \(TerminalText.pad(b.name, to: 8)) loss \(String(format: "%.4f", b.loss))") }
        print("  \(TerminalText.pad("GPT", to: 8)) loss \(String(format: "%.4f", comparison.model.loss))")
    }
}
