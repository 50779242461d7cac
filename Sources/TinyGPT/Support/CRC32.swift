// CRC-32 with the IEEE 802.3 polynomial (reflected form 0xEDB88320, initial value and final
// XOR 0xFFFFFFFF): the checksum of zlib, gzip and PNG. Check value: "123456789" → 0xCBF43926.
// Table-driven, eight bytes per step ("slicing-by-8", Kounavis & Berry, Intel 2005), so a
// checkpoint of a few hundred megabytes is checked in a fraction of a second.

/// A running CRC-32 over bytes fed in any number of pieces.
public struct CRC32: Sendable {
    private var state: UInt32 = 0xFFFF_FFFF

    public init() {}

    /// The checksum of everything fed so far.
    public var value: UInt32 { state ^ 0xFFFF_FFFF }

    /// Feeds more bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        state = Self.advance(state, bytes)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The checksum of `bytes` in one call.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        advance(0xFFFF_FFFF, bytes) ^ 0xFFFF_FFFF
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    // MARK: - Tables

    static let polynomial: UInt32 = 0xEDB8_8320

    /// Eight 256-entry tables, one after another. Table 0 is the classic byte-at-a-time table;
    /// table k gives the effect of a byte followed by k zero bytes.
    private static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
            t[byte] = crc
        }
        for k in 1..<8 {
            for byte in 0..<256 {
                let previous = t[(k - 1) * 256 + byte]
                t[k * 256 + byte] = (previous >> 8) ^ t[Int(previous & 0xFF)]
            }
        }
        return t
    }()

    // MARK: - Kernel

    private static func advance(_ start: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return start }
        return tables.withUnsafeBufferPointer { t in
            var crc = start
            var i = 0
            let n = bytes.count
            while n - i >= 8 {
                let low = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt32.self)) ^ crc
                let high = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self))
                crc = t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
                    ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
                i += 8
            }
            while i < n {
                crc = (crc >> 8) ^ t[Int((crc ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)]
                i += 1
            }
            return crc
        }
    }
}
