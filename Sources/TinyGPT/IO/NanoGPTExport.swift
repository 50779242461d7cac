// A run moved onto nanoGPT (github.com/karpathy/nanoGPT), for when text or model outgrows one
// CPU: the character dataset its `data/shakespeare_char/prepare.py` would have made, and a
// config file for its `train.py` with the run's shape and hyperparameters.
//
// The folder mirrors a nanoGPT checkout, so copying it into one is all the setup:
//
//   DIR/data/NAME/train.bin     the training ids, uint16 little-endian (numpy's tofile)
//   DIR/data/NAME/val.bin       the validation ids, the same way
//   DIR/data/NAME/meta.pkl      {'vocab_size': V, 'itos': {id: char}, 'stoi': {char: id}}
//   DIR/config/train_NAME.py    read by `python train.py config/train_NAME.py`
//   DIR/NAME-sidecar.json       the config and vocabulary `tinygpt import` reads with the weights
//
// The ids, vocabulary and split are the run's own: the same sorted vocabulary as nanoGPT's
// `sorted(set(text))`, and the run's split (its last `validationFraction`, rounded as TinyGPT
// rounds), so nanoGPT sees exactly the training and validation text the run saw.
//
// meta.pkl is written here, by hand, in pickle protocol 2 (Python's own format since 2.3):
// a dict of a str, an int, and two dicts of int ↔ one-character str. The opcodes used are in
// Python's Lib/pickletools.py: PROTO, EMPTY_DICT, MARK, SETITEMS, BINUNICODE, BININT1/2, BININT,
// STOP. Nothing else is needed to load it (no memo, no classes).

import Foundation

public enum NanoGPTExport {
    /// What `write` made, for the command to print.
    public struct Summary: Sendable {
        public var name: String
        public var trainCount: Int
        public var validationCount: Int
        public var vocabSize: Int
        public var configPath: String
        public var sidecarPath: String
    }

    /// The files' folder-relative paths for a dataset called `name`.
    public static func dataFolder(_ name: String) -> String { "data/\(name)" }
    public static func configFile(_ name: String) -> String { "config/train_\(name).py" }
    public static func sidecarFile(_ name: String) -> String { "\(name)-sidecar.json" }

    /// A dataset name nanoGPT can use in a path and a Python string: letters, digits, `-`, `_`.
    public static func datasetName(_ corpusPath: String) -> String {
        let stem = ((corpusPath as NSString).lastPathComponent as NSString).deletingPathExtension
        let cleaned = String(stem.unicodeScalars.map {
            ($0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_")) ? Character($0) : "_"
        })
        return cleaned.isEmpty ? "tinygpt" : cleaned
    }

    /// Writes the dataset, the config and the sidecar under `folder` (which must exist).
    /// `tokens` is the run's text encoded with the checkpoint's vocabulary.
    /// `header` opens the config file: comment lines (each starting with `#`) on how to run it.
    public static func write(checkpoint: Checkpoint, tokens: TokenIds, name: String, to folder: String,
                             source: String, header: String = "") throws -> Summary {
        let config = checkpoint.config
        guard config.vocabSize <= Int(UInt16.max) + 1 else {
            throw TinyGPTError.runtime("the vocabulary has \(config.vocabSize) characters, more than nanoGPT's uint16 ids hold (65536)")
        }
        guard let settings = checkpoint.training?.settings else {
            throw TinyGPTError.runtime("\(source) holds weights only (no training settings), so there is no run to move; export a checkpoint that `tinygpt train` wrote")
        }
        let data = try TokenDataset(tokens: tokens, validationFraction: settings.validationFraction,
                                    contextLength: config.contextLength, name: name)
        let dataDir = (folder as NSString).appendingPathComponent(dataFolder(name))
        let configDir = (folder as NSString).appendingPathComponent("config")
        for dir in [dataDir, configDir] {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw TinyGPTError.runtime("cannot create \(dir): \(error.localizedDescription)")
            }
        }
        // Every file is checked under the output rule before any is written. The ids, pickle
        // and config carry no signature, so an older export's are recognised by its sidecar.
        let configPath = (folder as NSString).appendingPathComponent(configFile(name))
        let sidecarPath = (folder as NSString).appendingPathComponent(sidecarFile(name))
        let voucher = (path: sidecarPath, kind: OutputKind.sidecar)
        let inputs = [source]
        let trainPath = dataDir + "/train.bin", validationPath = dataDir + "/val.bin", metaPath = dataDir + "/meta.pkl"
        for path in [trainPath, validationPath, metaPath, configPath] {
            try OutputFile.check(path, as: .exportData, inputs: inputs, vouchedBy: voucher)
        }
        try OutputFile.check(sidecarPath, as: .sidecar, inputs: inputs)
        try OutputFile.write(uint16Bytes(tokens, 0..<data.trainCount), to: trainPath, as: .exportData, inputs: inputs, vouchedBy: voucher)
        try OutputFile.write(uint16Bytes(tokens, data.trainCount..<tokens.count), to: validationPath, as: .exportData,
                             inputs: inputs, vouchedBy: voucher)
        try OutputFile.write(metaPickle(vocabulary: checkpoint.vocabulary), to: metaPath, as: .exportData, inputs: inputs, vouchedBy: voucher)
        try OutputFile.write(Array(configText(checkpoint: checkpoint, settings: settings, name: name, header: header).utf8),
                             to: configPath, as: .exportData, inputs: inputs, vouchedBy: voucher)
        // nanoGPT's MLP uses the exact (erf) GELU whatever this run used; the weights it trains
        // come back with that form.
        var trained = checkpoint
        trained.config.gelu = .exact
        trained.training = nil
        try OutputFile.write(Array(try ModelExport.sidecarJSON(trained).utf8), to: sidecarPath, as: .sidecar, inputs: inputs)
        return Summary(name: name, trainCount: data.trainCount, validationCount: data.validationCount,
                       vocabSize: config.vocabSize, configPath: configPath, sidecarPath: sidecarPath)
    }

    /// Ids as uint16, little-endian, one after another (numpy's `np.uint16` and `tofile`).
    public static func uint16Bytes(_ tokens: TokenIds, _ range: Range<Int>) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: range.count * 2)
        var i = 0
        for position in range {
            let id = UInt16(truncatingIfNeeded: tokens[position])
            bytes[i] = UInt8(id & 0xFF)
            bytes[i + 1] = UInt8(id >> 8)
            i += 2
        }
        return bytes
    }

    /// Reads ids written by `uint16Bytes` back.
    public static func ids(fromUInt16 bytes: [UInt8]) -> [Int32] {
        stride(from: 0, to: bytes.count - 1, by: 2).map { Int32(bytes[$0]) | Int32(bytes[$0 + 1]) << 8 }
    }

    // MARK: - The pickle

    /// `{'vocab_size': V, 'itos': {i: ch}, 'stoi': {ch: i}}` in pickle protocol 2, the keys in
    /// that order and the inner dicts in id order, as prepare.py's dict comprehensions make them.
    public static func metaPickle(vocabulary: [UInt32]) throws -> [UInt8] {
        let characters = try vocabulary.map { value -> String in
            guard let scalar = Unicode.Scalar(value) else {
                throw TinyGPTError.runtime("the vocabulary holds 0x\(String(value, radix: 16)), which is not a Unicode scalar")
            }
            return String(Character(scalar))
        }
        var p = Pickle()
        p.bytes += [0x80, 2]  // PROTO 2
        p.bytes.append(0x7D)  // EMPTY_DICT: the outer dict
        p.bytes.append(0x28)  // MARK
        p.string("vocab_size"); p.int(characters.count)
        p.string("itos")
        p.bytes += [0x7D, 0x28]
        for (i, c) in characters.enumerated() { p.int(i); p.string(c) }
        p.bytes.append(0x75)  // SETITEMS: the pairs since the MARK go into the dict below it
        p.string("stoi")
        p.bytes += [0x7D, 0x28]
        for (i, c) in characters.enumerated() { p.string(c); p.int(i) }
        p.bytes.append(0x75)
        p.bytes.append(0x75)  // the outer dict's three pairs
        p.bytes.append(0x2E)  // STOP
        return p.bytes
    }

    struct Pickle {
        var bytes: [UInt8] = []

        /// BINUNICODE: 'X', the UTF-8 length as 4 bytes little-endian, the UTF-8 bytes.
        mutating func string(_ s: String) {
            let utf8 = Array(s.utf8)
            bytes.append(0x58)
            appendLittleEndian(UInt32(utf8.count))
            bytes += utf8
        }

        /// The shortest of BININT1 ('K', one unsigned byte), BININT2 ('M', two) and BININT ('J',
        /// four, signed), as Python's pickler chooses.
        mutating func int(_ value: Int) {
            if value >= 0 && value < 256 {
                bytes += [0x4B, UInt8(value)]
            } else if value >= 0 && value < 65536 {
                bytes += [0x4D, UInt8(value & 0xFF), UInt8(value >> 8)]
            } else {
                bytes.append(0x4A)
                appendLittleEndian(UInt32(bitPattern: Int32(value)))
            }
        }

        private mutating func appendLittleEndian(_ v: UInt32) {
            bytes += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
        }
    }

    // MARK: - The config

    static func python(_ value: Float) -> String {
        // Shortest text that reads back as the same float; Python parses it as a double.
        "\(value)"
    }

    /// The config file train.py executes: nanoGPT's variable names, the run's values.
    public static func configText(checkpoint: Checkpoint, settings: TrainingConfig, name: String, header: String) -> String {
        let c = checkpoint.config
        let evalIters = max(1, (settings.evalWindows + settings.batchSize - 1) / settings.batchSize)
        return header + """
            # The same model as the run: shape, vocabulary, split, schedule and optimizer. Not the same
            # bits: nanoGPT draws its own initialisation and batches, and its MLP uses the exact (erf)
            # GELU\(c.gelu == .exact ? "" : " where this run used the tanh form").

            out_dir = 'out-\(name)'
            dataset = '\(name)'
            init_from = 'scratch'
            wandb_log = False
            always_save_checkpoint = True

            # the model
            n_layer = \(c.layerCount)
            n_head = \(c.headCount)
            n_embd = \(c.modelWidth)
            block_size = \(c.contextLength)
            bias = True
            dropout = \(python(settings.dropout))

            # the schedule: linear warmup, then cosine decay to min_lr at the last step
            batch_size = \(settings.batchSize)
            gradient_accumulation_steps = 1
            max_iters = \(settings.steps)
            lr_decay_iters = \(settings.steps)
            learning_rate = \(python(settings.learningRate))
            min_lr = \(python(settings.minLearningRate))
            warmup_iters = \(settings.warmupSteps)
            decay_lr = True

            # AdamW and clipping
            weight_decay = \(python(settings.weightDecay))
            beta1 = \(python(settings.beta1))
            beta2 = \(python(settings.beta2))
            grad_clip = \(python(settings.gradClip))

            # evaluation: TinyGPT averages \(settings.evalWindows) validation windows; nanoGPT averages eval_iters batches
            eval_interval = \(settings.evalInterval)
            eval_iters = \(evalIters)
            log_interval = 10

            """
    }
}
