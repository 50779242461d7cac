// libFuzzer harness for safetensors import, `ModelExport.checkpoint(safetensors:sidecar:)` in
// Sources/TinyGPT/IO/ModelExport.swift (container parsing in IO/Safetensors.swift). Docs/FORMAT.md,
// "Safetensors export and import", gives both files' layout and the import rules.
//
// One input holds both files:
//
//   byte 0               mode; bit 0 set: the safetensors header length is recomputed to end at
//                        the brace closing the header's JSON object, so bytes inserted into or
//                        erased from the JSON still leave a well-framed file
//   bytes 1, 2           sidecar length S, u16 little-endian (cut to what is there)
//   next S bytes         the sidecar JSON
//   the rest             the safetensors file
//
// The oracle: import throws a TinyGPTError, or it returns a consistent weights-only checkpoint
// that exports and imports again to the same config, vocabulary and weight bits.

/// Feeds fuzz inputs to safetensors import.
enum SafetensorsFuzzer {
    static func run(_ input: UnsafeRawBufferPointer) {
        guard input.count >= 3 else { return }
        let mode = input[0]
        let sidecarLength = min(Int(input[1]) | Int(input[2]) << 8, input.count - 3)
        let sidecar = Array(input[3..<3 + sidecarLength])
        var file = Array(input[(3 + sidecarLength)...])
        if mode & 1 == 1 { repairHeaderLength(&file) }
        check(safetensors: file, sidecar: sidecar)
    }

    /// The bytes of one seed input in the layout above (mode 0).
    static func input(safetensors: [UInt8], sidecar: [UInt8]) -> [UInt8] {
        precondition(sidecar.count <= Int(UInt16.max), "the sidecar is too long for a fuzz input")
        return [0, UInt8(truncatingIfNeeded: sidecar.count), UInt8(truncatingIfNeeded: sidecar.count >> 8)] + sidecar + safetensors
    }

    /// Imports the pair and checks the oracle; traps (a fuzzer finding) when it does not hold.
    static func check(safetensors: [UInt8], sidecar: [UInt8]) {
        let checkpoint: Checkpoint
        do {
            checkpoint = try ModelExport.checkpoint(safetensors: safetensors, sidecar: sidecar)
        } catch is TinyGPTError {
            return
        } catch {
            fatalError("safetensors import threw \(type(of: error)), not a TinyGPTError: \(error)")
        }
        let config = checkpoint.config
        do {
            try config.validate()
        } catch {
            fatalError("safetensors import returned an invalid config: \(error)")
        }
        guard checkpoint.training == nil,
              checkpoint.vocabulary.count == config.vocabSize,
              checkpoint.parameters.count == ParameterLayout(config).totalCount else {
            fatalError("safetensors import returned a checkpoint whose vocabulary or parameters do not match its config")
        }
        let again: Checkpoint
        do {
            let bytes = try ModelExport.safetensorsBytes(checkpoint)
            let side = Array(try ModelExport.sidecarJSON(checkpoint).utf8)
            again = try ModelExport.checkpoint(safetensors: bytes, sidecar: side)
        } catch {
            fatalError("an imported checkpoint does not survive export and import: \(error)")
        }
        guard again.config == config, again.vocabulary == checkpoint.vocabulary,
              again.parameters.elementsEqual(checkpoint.parameters, by: { $0.bitPattern == $1.bitPattern }) else {
            fatalError("export then import changed an imported checkpoint")
        }
    }

    // MARK: - Header repair

    /// Sets the u64 header length to end just after the brace that closes the JSON object opened
    /// at byte 8 (strings and their escapes are skipped); leaves `file` alone if there is none.
    static func repairHeaderLength(_ file: inout [UInt8]) {
        guard file.count > 8, file[8] == UInt8(ascii: "{") else { return }
        var depth = 0, inString = false, escaped = false
        for i in 8..<file.count {
            let byte = file[i]
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 {
                    let length = UInt64(i + 1 - 8)
                    for k in 0..<8 { file[k] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(k))) }
                    return
                }
            default: break
            }
        }
    }
}
