// libFuzzer harness for the checkpoint reader, `Checkpoint(decoding:)` in
// Sources/TinyGPT/IO/Checkpoint+Format.swift. run-fuzzer.sh compiles it into one module with the
// library sources; it is not part of the Swift package.
//
// Every section carries a CRC-32, so nearly every random mutation dies at the checksum and never
// reaches the content checks behind it. The first input byte therefore picks a mode, and the rest
// of the input is the file:
//
//   bit 0 clear          the file as it is (reaches the magic, header and frame checks);
//   bit 0 set            every section's CRC is recomputed first, walking the frames as
//                        Docs/FORMAT.md lays them out, so mutated payloads reach the content checks;
//   bits 0 and 1 set     each section's length is redrawn first too, to end where the next
//                        expected tag begins, so inserted or erased bytes still give sound frames.
//
// The oracle: decoding throws a TinyGPTError, or it returns a checkpoint that passes `validate()`
// and encodes back to exactly the bytes it was read from (the format has one encoding per state);
// an older file (version 1 or 2) encodes in this version, which reads back as the same checkpoint.

/// Feeds fuzz inputs to the checkpoint decoder.
enum CheckpointFuzzer {
    /// The section tags in file order (Docs/FORMAT.md, "File layout").
    static let tags: [[UInt8]] = ["conf", "voca", "parm", "prov", "tcfg", "optm", "prog", "hist"].map { Array($0.utf8) }
    /// Magic, version and section count.
    static let headerSize = 16
    /// Tag (4) and length (8) before a payload, CRC (4) after it.
    static let frameSize = 16

    static func run(_ input: UnsafeRawBufferPointer) {
        guard let mode = input.first else { return }
        var file = Array(input.dropFirst())
        if mode & 1 == 1 { repairFrames(&file, redrawLengths: mode & 2 == 2) }
        check(file)
    }

    /// Decodes `file` and checks the oracle; traps (a fuzzer finding) when it does not hold.
    static func check(_ file: [UInt8]) {
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint(decoding: file)
        } catch is TinyGPTError {
            return
        } catch {
            fatalError("Checkpoint(decoding:) threw \(type(of: error)), not a TinyGPTError: \(error)")
        }
        do {
            try checkpoint.validate()
        } catch {
            fatalError("Checkpoint(decoding:) accepted a checkpoint that validate() rejects: \(error)")
        }
        // An older file (version 1 or 2) is written back in this version, which must decode to
        // the same checkpoint (with this tinygpt as the writer); a file of this version encodes
        // back to its own bytes.
        if UInt32(file[8]) < CheckpointFormat.version {
            let upgraded = checkpoint.encoded()
            guard let again = try? Checkpoint(decoding: upgraded), again.encoded() == upgraded, again.lineage.isEmpty,
                  again.training?.frozen ?? [] == [] else {
                fatalError("Checkpoint(decoding:) accepted an older file whose encoding in this version reads back differently")
            }
            return
        }
        guard checkpoint.encoded() == file else {
            fatalError("Checkpoint(decoding:) accepted \(file.count) bytes that do not encode back to themselves")
        }
    }

    // MARK: - Frame repair

    /// Walks the section frames after the header, as far as they fit in `file`, optionally
    /// rewriting each length so the payload ends 4 bytes before the next expected tag (or at the
    /// end of the file), and rewrites each section's CRC to match its payload.
    static func repairFrames(_ file: inout [UInt8], redrawLengths: Bool) {
        var offset = headerSize
        var index = 0
        while file.count - offset >= frameSize {
            let payloadStart = offset + 12
            if redrawLengths {
                let next = index + 1 < tags.count ? firstOccurrence(of: tags[index + 1], in: file, from: payloadStart + 4) : nil
                let payloadEnd = (next ?? file.count) - 4
                store(UInt64(payloadEnd - payloadStart), into: &file, at: offset + 4)
            }
            let length = load(UInt64.self, from: file, at: offset + 4)
            guard length <= UInt64(file.count - payloadStart - 4) else { return }
            let payloadEnd = payloadStart + Int(length)
            let crc = file.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[payloadStart..<payloadEnd])) }
            store(crc, into: &file, at: payloadEnd)
            offset = payloadEnd + 4
            index += 1
        }
    }

    /// The first index at or after `start` where `needle` occurs in `bytes`.
    static func firstOccurrence(of needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard start + needle.count <= bytes.count else { return nil }
        for i in start...(bytes.count - needle.count) where bytes[i] == needle[0] {
            if bytes[i..<i + needle.count].elementsEqual(needle) { return i }
        }
        return nil
    }

    static func load<T: FixedWidthInteger>(_: T.Type, from bytes: [UInt8], at offset: Int) -> T {
        (0..<MemoryLayout<T>.size).reduce(T(0)) { $0 | T(bytes[offset + $1]) << (8 * $1) }
    }

    static func store<T: FixedWidthInteger>(_ value: T, into bytes: inout [UInt8], at offset: Int) {
        for i in 0..<MemoryLayout<T>.size { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }
}
