// Little-endian byte writing and bounds-checked reading, for the checkpoint format and any
// other binary file the project writes. Integers are two's complement and floats are their
// IEEE 754 bit patterns, little-endian whatever the host's byte order.

/// Appends little-endian values to a growing byte array.
struct BinaryWriter {
    private(set) var bytes: [UInt8] = []

    /// A writer whose array already holds room for `capacity` bytes.
    init(reservingCapacity capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    var count: Int { bytes.count }

    /// Appends an integer in its width (pass `Int64(x)`, never a bare `Int`, so the width is fixed).
    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ value: Float) { append(value.bitPattern) }
    mutating func append(_ value: Double) { append(value.bitPattern) }

    mutating func append(contentsOf raw: [UInt8]) { bytes.append(contentsOf: raw) }

    /// Calls `body` with the bytes of `values` as little-endian floats, in order: the memory
    /// itself on a little-endian host, else converted a piece at a time through a small buffer.
    /// Either way nothing the size of `values` is allocated.
    static func forEachLittleEndianPiece(of values: UnsafeBufferPointer<Float>,
                                         _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        #if _endian(little)
        try body(UnsafeRawBufferPointer(values))
        #else
        var piece = [UInt32](repeating: 0, count: 4096)
        var start = 0
        while start < values.count {
            let n = min(piece.count, values.count - start)
            for k in 0..<n { piece[k] = values[start + k].bitPattern.littleEndian }
            try piece.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<(4 * n)])) }
            start += n
        }
        #endif
    }
}

/// Reads little-endian values from a byte buffer, throwing instead of reading past its end.
struct BinaryReader {
    /// Thrown when a read would pass the end of the buffer or a value does not fit its type.
    enum Failure: Error {
        case endOfData
        case outOfRange
    }

    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - offset }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw Failure.endOfData }
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return value
    }

    /// Reads an Int64 as an Int, throwing if the host's Int cannot hold it.
    mutating func readInt() throws -> Int {
        guard let value = Int(exactly: try read(Int64.self)) else { throw Failure.outOfRange }
        return value
    }

    mutating func readFloat() throws -> Float { Float(bitPattern: try read(UInt32.self)) }
    mutating func readDouble() throws -> Double { Double(bitPattern: try read(UInt64.self)) }

    /// The next `count` bytes as a view into the buffer (no copy).
    mutating func readBytes(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0 && remaining >= count else { throw Failure.endOfData }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
        offset += count
        return slice
    }

    /// The next `count` floats, copied in bulk on little-endian hosts. The bytes must be
    /// present before anything is allocated.
    mutating func readFloats(_ count: Int) throws -> [Float] {
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: 4)
        guard count >= 0 && !overflow && remaining >= byteCount else { throw Failure.endOfData }
        let source = try readBytes(byteCount)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            #if _endian(little)
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
            #else
            for i in 0..<count {
                buffer[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
            #endif
            initialized = count
        }
    }
}
