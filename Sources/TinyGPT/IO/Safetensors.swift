// Reading and writing the safetensors container (Hugging Face, github.com/huggingface/safetensors):
//
//   u64 little-endian N | N bytes of UTF-8 JSON header, space-padded | data buffer
//
// The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}, offsets
// counted from the first byte after the header; an optional "__metadata__" maps strings to
// strings. The reader is strict: every byte of the data buffer belongs to exactly one tensor
// (no holes, no overlap), each tensor's byte length is its element count times its dtype's width,
// and nothing is read or allocated before the header has been checked against the file size.

import Foundation

/// One tensor's entry in a safetensors header.
public struct SafetensorsEntry: Equatable, Sendable {
    public var name: String
    /// The dtype as spelled in the file ("F32", "F16", "BF16", ...).
    public var dtype: String
    public var shape: [Int]
    /// Byte range inside the data buffer (relative to the first byte after the header).
    public var byteRange: Range<Int>

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A float32 tensor to write: a name, a shape, and the values in row-major order.
public struct SafetensorsTensor {
    public var name: String
    public var shape: [Int]
    public var values: ArraySlice<Float>

    public init(name: String, shape: [Int], values: ArraySlice<Float>) {
        precondition(shape.reduce(1, *) == values.count, "tensor \(name): shape does not match the value count")
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// A parsed and validated safetensors file: its entries and metadata, and the bytes behind them.
public struct SafetensorsFile {
    /// Every tensor, in data-buffer order.
    public let entries: [SafetensorsEntry]
    /// The `__metadata__` map (empty when the file has none).
    public let metadata: [String: String]
    private let bytes: [UInt8]
    private let dataStart: Int

    /// Parses and validates `bytes` as a safetensors file. Throws a runtime error saying what is
    /// wrong: a header length beyond the file, malformed JSON, an unknown dtype, a shape that does
    /// not match its byte range, ranges that overlap, leave holes or run past the end.
    public init(bytes: [UInt8]) throws {
        guard bytes.count >= 8 else {
            throw TinyGPTError.runtime("the safetensors file is \(bytes.count) bytes, too short for its 8-byte header length; the file is truncated")
        }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw TinyGPTError.runtime("the safetensors header claims \(headerLength) bytes but the file holds only \(bytes.count - 8) after the length; the file is truncated or not safetensors")
        }
        guard headerLength <= UInt64(Safetensors.maxHeaderLength) else {
            throw TinyGPTError.runtime("the safetensors header is \(headerLength) bytes, more than the \(Safetensors.maxHeaderLength) allowed; the file is corrupt or not safetensors")
        }
        let headerEnd = 8 + Int(headerLength)
        guard headerLength >= 2, bytes[8] == UInt8(ascii: "{") else {
            throw TinyGPTError.runtime("the safetensors header does not start with '{'; the file is not safetensors")
        }
        let raw = try Self.parseHeader(Data(bytes[8..<headerEnd]))
        let dataLength = bytes.count - headerEnd

        var entries: [SafetensorsEntry] = []
        var metadata: [String: String] = [:]
        for (name, value) in raw {
            switch value {
            case .metadata(let map): metadata = map
            case .tensor(let info): entries.append(try Self.entry(name: name, info: info, dataLength: dataLength))
            }
        }
        entries.sort { ($0.byteRange.lowerBound, $0.byteRange.upperBound, $0.name) < ($1.byteRange.lowerBound, $1.byteRange.upperBound, $1.name) }
        var expected = 0
        for entry in entries {
            if entry.byteRange.lowerBound < expected {
                throw TinyGPTError.runtime("safetensors tensor \"\(entry.name)\" overlaps the tensor before it (bytes \(entry.byteRange.lowerBound) < \(expected)); the file is corrupt")
            }
            if entry.byteRange.lowerBound > expected {
                throw TinyGPTError.runtime("safetensors data has a hole at bytes \(expected)..<\(entry.byteRange.lowerBound) before tensor \"\(entry.name)\"; the file is corrupt")
            }
            expected = entry.byteRange.upperBound
        }
        guard expected == dataLength else {
            throw TinyGPTError.runtime("safetensors tensors cover \(expected) bytes but the data buffer holds \(dataLength); the file is truncated or corrupt")
        }
        self.entries = entries
        self.metadata = metadata
        self.bytes = bytes
        self.dataStart = headerEnd
    }

    /// The entry named `name`, if any.
    public subscript(name: String) -> SafetensorsEntry? {
        entries.first { $0.name == name }
    }

    /// The values of a float32 entry, decoded from little-endian.
    public func floats(_ entry: SafetensorsEntry) throws -> [Float] {
        guard entry.dtype == "F32" else {
            throw TinyGPTError.runtime("safetensors tensor \"\(entry.name)\" is \(entry.dtype); only F32 is supported, convert it with tensor.float() before saving")
        }
        let count = entry.elementCount
        let start = dataStart + entry.byteRange.lowerBound
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            bytes.withUnsafeBytes { raw in
                for i in 0..<count {
                    let bits = raw.loadUnaligned(fromByteOffset: start + 4 * i, as: UInt32.self)
                    out[i] = Float(bitPattern: UInt32(littleEndian: bits))
                }
            }
            initialized = count
        }
    }

    // MARK: - Header parsing

    private struct TensorInfo: Decodable {
        var dtype: String
        var shape: [Int]
        var dataOffsets: [Int]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    /// A header value: `__metadata__` is a string map, every other key a tensor.
    private enum HeaderValue: Decodable {
        case tensor(TensorInfo)
        case metadata([String: String])

        init(from decoder: Decoder) throws {
            if decoder.codingPath.last?.stringValue == "__metadata__" {
                self = .metadata(try [String: String](from: decoder))
            } else {
                self = .tensor(try TensorInfo(from: decoder))
            }
        }
    }

    private static func parseHeader(_ json: Data) throws -> [String: HeaderValue] {
        do {
            return try JSONDecoder().decode([String: HeaderValue].self, from: json)
        } catch let error as DecodingError {
            let path: [CodingKey], detail: String
            switch error {
            case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c):
                path = c.codingPath
                detail = c.debugDescription
            @unknown default:
                path = []
                detail = "\(error)"
            }
            let place = path.isEmpty ? "" : " at \"\(path.map(\.stringValue).joined(separator: "."))\""
            throw TinyGPTError.runtime("the safetensors header is not JSON of the expected form\(place): \(detail)")
        }
    }

    private static func entry(name: String, info: TensorInfo, dataLength: Int) throws -> SafetensorsEntry {
        func fail(_ what: String, cause: String = "the file is corrupt") -> TinyGPTError {
            TinyGPTError.runtime("safetensors tensor \"\(name)\" \(what); \(cause)")
        }
        guard let width = Safetensors.dtypeWidths[info.dtype] else {
            throw fail("has unknown dtype \"\(info.dtype)\"")
        }
        guard info.dataOffsets.count == 2 else { throw fail("has \(info.dataOffsets.count) data_offsets, not 2") }
        let begin = info.dataOffsets[0], end = info.dataOffsets[1]
        guard begin >= 0, begin <= end, end <= dataLength else {
            throw fail("has data_offsets [\(begin), \(end)] outside the \(dataLength)-byte data buffer",
                       cause: "the file is truncated or corrupt")
        }
        // Multiply with overflow checks: a hostile shape must not wrap around to a small count.
        var bytes = width
        for d in info.shape {
            guard d >= 0 else { throw fail("has a negative dimension in shape \(info.shape)") }
            let (product, overflow) = bytes.multipliedReportingOverflow(by: d)
            guard !overflow, product <= dataLength else {
                throw fail("has shape \(info.shape), larger than the \(dataLength)-byte data buffer")
            }
            bytes = product
        }
        guard bytes == end - begin else {
            throw fail("has shape \(info.shape) of \(info.dtype) (\(bytes) bytes) but data_offsets span \(end - begin) bytes")
        }
        return SafetensorsEntry(name: name, dtype: info.dtype, shape: info.shape, byteRange: begin..<end)
    }
}

/// Encoding float32 tensors into safetensors bytes, and decoding a whole file of them.
public enum Safetensors {
    /// The largest header accepted (the reference implementation's limit).
    public static let maxHeaderLength = 100_000_000

    /// Bytes per element of every dtype the format defines.
    static let dtypeWidths: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
        "U16": 2, "I16": 2, "F16": 2, "BF16": 2,
        "U32": 4, "I32": 4, "F32": 4,
        "U64": 8, "I64": 8, "F64": 8,
    ]

    /// The file bytes for `tensors`, written in the given order with contiguous offsets, and
    /// `metadata` as `__metadata__`. The header is padded with spaces to a multiple of 8 bytes.
    public static func encode(_ tensors: [SafetensorsTensor], metadata: [(key: String, value: String)] = []) -> [UInt8] {
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.map { JSONText.quote($0.key) + ":" + JSONText.quote($0.value) }
            fields.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for tensor in tensors {
            let end = offset + 4 * tensor.values.count
            var header = JSONText.quote(tensor.name)
            header += ":{\"dtype\":\"F32\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],"
            header += "\"data_offsets\":[\(offset),\(end)]}"
            fields.append(header)
            offset = end
        }
        var headerBytes = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }

        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + offset)
        let n = UInt64(headerBytes.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
        out += headerBytes
        for tensor in tensors {
            for v in tensor.values {
                let bits = v.bitPattern
                out.append(UInt8(truncatingIfNeeded: bits))
                out.append(UInt8(truncatingIfNeeded: bits >> 8))
                out.append(UInt8(truncatingIfNeeded: bits >> 16))
                out.append(UInt8(truncatingIfNeeded: bits >> 24))
            }
        }
        return out
    }

    /// Every tensor of a float32-only file, by name. Throws if the file is malformed or holds a
    /// tensor of any other dtype (the error lists them).
    public static func decode(_ bytes: [UInt8]) throws -> [String: (shape: [Int], data: [Float])] {
        let file = try SafetensorsFile(bytes: bytes)
        let foreign = file.entries.filter { $0.dtype != "F32" }
        if !foreign.isEmpty {
            throw TinyGPTError.runtime("only F32 tensors are supported, but the file holds \(listing(foreign.map { "\($0.name) (\($0.dtype))" })); convert them with tensor.float() before saving")
        }
        var result: [String: (shape: [Int], data: [Float])] = [:]
        for entry in file.entries { result[entry.name] = (entry.shape, try file.floats(entry)) }
        return result
    }

    /// Up to `limit` items joined by commas, then "and N more".
    static func listing(_ items: [String], limit: Int = 5) -> String {
        let shown = items.prefix(limit).joined(separator: ", ")
        return items.count > limit ? shown + " and \(items.count - limit) more" : shown
    }
}
