// A corpus's token ids, stored in the narrowest width the vocabulary allows: one byte per id
// for up to 256 characters (English text), two for up to 65,536 (Chinese), four beyond. A
// million-character corpus then takes 1 MB rather than the 4 MB of an [Int32]. Reads widen
// to Int32, the type the model and the batches use.

/// Token ids, little-endian, 1, 2 or 4 bytes each; a random-access collection of Int32.
public struct TokenIds: RandomAccessCollection, Sendable {
    /// Bytes per id: 1, 2 or 4.
    public let width: Int
    private var bytes: [UInt8] = []
    public private(set) var endIndex = 0

    /// The width that holds every id below `vocabSize`.
    public static func width(vocabSize: Int) -> Int {
        vocabSize <= 1 << 8 ? 1 : vocabSize <= 1 << 16 ? 2 : 4
    }

    /// Empty storage for ids below `vocabSize`, with room for `capacity` of them.
    init(vocabSize: Int, reservingCapacity capacity: Int) {
        width = Self.width(vocabSize: vocabSize)
        bytes.reserveCapacity(capacity * width)
    }

    /// Stores `ids` (none negative) in the width their largest one needs.
    public init<S: Sequence>(_ ids: S) where S.Element == Int32 {
        let ids = Array(ids)
        precondition(ids.allSatisfy { $0 >= 0 }, "token ids are never negative")
        self.init(vocabSize: Int(ids.max() ?? 0) + 1, reservingCapacity: ids.count)
        for id in ids { append(id) }
    }

    /// Adds one id, which must fit the width.
    mutating func append(_ id: Int32) {
        precondition(id >= 0 && Int(id) < 1 << (8 * width), "token id \(id) does not fit \(width) bytes")
        switch width {
        case 1: bytes.append(UInt8(id))
        case 2: withUnsafeBytes(of: UInt16(id).littleEndian) { bytes.append(contentsOf: $0) }
        default: withUnsafeBytes(of: id.littleEndian) { bytes.append(contentsOf: $0) }
        }
        endIndex += 1
    }

    // MARK: - Collection

    public var startIndex: Int { 0 }

    public subscript(position: Int) -> Int32 {
        precondition(position >= 0 && position < endIndex, "token index out of range")
        return bytes.withUnsafeBytes { Self.load(from: $0, at: position, width: width) }
    }

    @inline(__always)
    private static func load(from raw: UnsafeRawBufferPointer, at i: Int, width: Int) -> Int32 {
        switch width {
        case 1: return Int32(raw[i])
        case 2: return Int32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        default: return Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))
        }
    }

    // MARK: - Bulk reads

    /// Writes the ids of `range` to `destination`, widened to Int32.
    public func copy(_ range: Range<Int>, to destination: UnsafeMutablePointer<Int32>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= endIndex, "token range out of bounds")
        bytes.withUnsafeBytes { raw in
            for (k, i) in range.enumerated() { destination[k] = Self.load(from: raw, at: i, width: width) }
        }
    }

    /// How often each id occurs: `vocabSize` counts, from one pass over the storage.
    public func counts(vocabSize: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: vocabSize)
        counts.withUnsafeMutableBufferPointer { c in
            bytes.withUnsafeBytes { raw in
                for i in 0..<endIndex { c[Int(Self.load(from: raw, at: i, width: width))] += 1 }
            }
        }
        return counts
    }

    /// The digest checkpoints record for a corpus: CRC32 of the ids written as little-endian
    /// Int32s, so it does not depend on the storage width.
    public func digest() -> UInt32 {
        var crc = CRC32()
        var chunk = [Int32](repeating: 0, count: 4096)
        var start = 0
        while start < endIndex {
            let n = Swift.min(chunk.count, endIndex - start)
            for k in 0..<n { chunk[k] = self[start + k].littleEndian }
            chunk.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[..<(4 * n)])) }
            start += n
        }
        return crc.value
    }
}
