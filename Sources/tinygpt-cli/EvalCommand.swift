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
        let shown = ScoringProgress(what: "scoring \(dataPath)")
        do {
            score = try Evaluation.score(model: session.model, tokens: tokens, progress: shown.update)
        } catch let error as TinyGPTError {
            shown.end()
            throw TinyGPTError(error.kind, "\(dataPath): \(error.message)")
        }
        shown.end()
        print("checkpoint: \(loaded.path)")
        print("text: \(dataPath) · \(score.positions) characters scored")
        print(String(format: "loss %.4f nats/char · %.4f bits/char · perplexity %.3f", score.loss, score.bitsPerCharacter, score.perplexity))
        guard !flags.bool("--no-baselines") else { return }
        // Like for like: counting models fitted on the first 90% of this text, all scored on the last 10%.
        let heldOut = ScoringProgress(what: "scoring the last 10%")
        let comparison = try Evaluation.compareWithBaselines(model: session.model, tokens: tokens, progress: heldOut.update)
        heldOut.end()
        guard let comparison else { return }
        print("on the last 10% (\(comparison.heldOutCount) characters), against counting models fitted on the first 90%:")
        for b in comparison.baselines { print("  \(TerminalText.pad(b.name, to: 8)) loss \(String(format: "%.4f", b.loss))") }
        print("  \(TerminalText.pad("GPT", to: 8)) loss \(String(format: "%.4f", comparison.model.loss))")
    }
}

/// Progress of a long scoring pass, as `train` shows its steps: nothing for the first three
/// seconds (a short eval prints exactly what it always did), then a line redrawn in place on a
/// terminal, or a line every ten seconds into a file or pipe. `end()` clears a drawn line.
final class ScoringProgress {
    let what: String
    private let start = DispatchTime.now().uptimeNanoseconds
    private var lastShown = 0.0
    private var drawn = false
    private let redraw = Console.isTerminal

    init(what: String) { self.what = what }

    func update(_ done: Int, _ total: Int) {
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard elapsed >= 3, elapsed - lastShown >= (redraw ? 0.5 : 10), total > 0 else { return }
        lastShown = elapsed
        let fraction = Double(done) / Double(total)
        let remaining = fraction > 0 ? elapsed * (1 - fraction) / fraction : .infinity
        let line = String(format: "%@: %.0f%% (%@ of %@ characters) | ETA %@", what, 100 * fraction,
                          formatCount(done), formatCount(total), formatDuration(remaining))
        if redraw {
            print("\r\u{1B}[2K" + line, terminator: "")
            drawn = true
        } else {
            print(line)
        }
        Console.flush()
    }

    func end() {
        guard drawn else { return }
        print("\r\u{1B}[2K", terminator: "")
        Console.flush()
        drawn = false
    }
}
