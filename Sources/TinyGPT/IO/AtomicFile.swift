// Whole-file reads and crash-safe whole-file writes. A write goes to a temporary file in the
// target's folder, is flushed to disk, then renamed over the target, and the folder is flushed:
// rename(2) replaces a name atomically (POSIX), so a crash at any moment leaves either the old
// file or the new one, never a torn mix. Reads accept regular files only, so a FIFO or a
// device cannot hang or flood the reader.

import Foundation

/// Reads and atomically replaces whole files.
public enum AtomicFile {
    /// Replaces (or creates) the file at `path` with `bytes`, atomically. An existing file keeps
    /// its permission bits. On any failure the temporary file is removed, the old file is left
    /// as it was, and a runtime error says what went wrong.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try write(to: path) { emit in try bytes.withUnsafeBytes { try emit($0) } }
    }

    /// Replaces (or creates) the file at `path`, atomically, with the bytes `produce` passes to
    /// `emit` one piece after another, so a large file need never be whole in memory. Errors
    /// as `write(_:to:)`; an error `produce` throws also leaves the old file as it was.
    public static func write(to path: String,
                             _ produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let (folder, name) = try split(path)
        switch Platform.status(of: folder) {
        case .failure(let error):
            if error == .notFound {
                throw TinyGPTError.runtime("cannot write \(path): no such folder \(folder); create it first (mkdir -p \(folder))")
            }
            throw TinyGPTError.runtime("cannot write \(path): \(error.text) (folder \(folder))")
        case .success(let status) where status.kind != .folder:
            throw TinyGPTError.runtime("cannot write \(path): \(folder) is not a folder")
        case .success:
            break
        }
        let target = try? Platform.status(of: path).get()
        if target?.kind == .folder {
            throw TinyGPTError.runtime("cannot write \(path): it is a folder; give a file name")
        }

        let (fd, temporary) = try createTemporary(folder: folder, name: name, for: path)
        func fail(_ error: Platform.Errno, _ action: String) -> TinyGPTError {
            Platform.unlink(temporary)
            return TinyGPTError.runtime("cannot write \(path): \(action) failed: \(error.text)")
        }
        if let target, let error = Platform.setPermissions(fd, target.permissions) {
            Platform.close(fd)
            throw fail(error, "setting permissions")
        }
        do {
            try produce { piece in
                if let error = Platform.writeAll(fd, piece) { throw WriteFailure(error: error) }
            }
        } catch let failure as WriteFailure {
            Platform.close(fd)
            throw fail(failure.error, "writing")
        } catch {
            Platform.close(fd)
            Platform.unlink(temporary)
            throw error
        }
        if let error = Platform.flushToDisk(fd) {
            Platform.close(fd)
            throw fail(error, "flushing to disk")
        }
        if let error = Platform.close(fd) { throw fail(error, "closing") }
        if let error = Platform.rename(temporary, to: path) { throw fail(error, "renaming the temporary file") }
        Platform.flushFolder(folder)
    }

    /// The bytes of the regular file at `path` (at most `limit` of them). `kind` names the file
    /// in errors ("checkpoint" gives "checkpoint not found: PATH").
    public static func read(_ path: String, kind: String = "file", limit: Int = .max) throws -> [UInt8] {
        let (fd, size) = try openRegular(path, kind: kind)
        defer { Platform.close(fd) }
        return try read(fd, path: path, kind: kind, from: 0, count: min(size, max(0, limit)))
    }

    /// Opens the regular file at `path` for reading (a FIFO or a device is refused, never
    /// waited on) and returns its descriptor and length. Errors name the file as `kind`.
    public static func openRegular(_ path: String, kind: String = "file") throws -> (fd: Int32, size: Int) {
        let fd: Int32
        switch Platform.open(path, .read) {
        case .success(let opened): fd = opened
        case .failure(let error):
            if error == .notFound { throw TinyGPTError.runtime("\(kind) not found: \(path); check the path") }
            if error.isPermission { throw TinyGPTError.runtime("cannot read \(kind) \(path): permission denied; check its permissions (ls -l \(path))") }
            throw TinyGPTError.runtime("cannot read \(kind) \(path): \(error.text)")
        }
        let status: Platform.FileStatus
        switch Platform.status(of: fd) {
        case .success(let s): status = s
        case .failure(let error):
            Platform.close(fd)
            throw TinyGPTError.runtime("cannot read \(kind) \(path): \(error.text)")
        }
        switch status.kind {
        case .regular: return (fd, status.size)
        case .folder:
            Platform.close(fd)
            throw TinyGPTError.runtime("\(path) is a folder; give a \(kind) file")
        default:
            Platform.close(fd)
            throw TinyGPTError.runtime("\(path) is not a regular file (it is \(status.kind.phrase)); give a \(kind) file")
        }
    }

    /// `count` bytes of the open file `fd` from `offset`; fewer when the file is shorter.
    public static func read(_ fd: Int32, path: String, kind: String = "file", from offset: Int, count: Int) throws -> [UInt8] {
        var failure: Platform.Errno?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            guard let base = buffer.baseAddress else { return }
            switch Platform.read(fd, at: offset, into: base, count: count) {
            case .success(let n): initialized = n  // short when the file shrank since fstat
            case .failure(let error): failure = error
            }
        }
        if let failure { throw TinyGPTError.runtime("cannot read \(kind) \(path): \(failure.text)") }
        return bytes
    }

    // MARK: - Steps

    /// A failed write(2), carrying its errno.
    private struct WriteFailure: Error {
        let error: Platform.Errno
    }

    /// The folder holding `path` and the file's name in it.
    private static func split(_ path: String) throws -> (folder: String, name: String) {
        guard !path.isEmpty else { throw TinyGPTError.usage("the output path is empty; give a file name") }
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let name = String(path[path.index(after: slash)...])
        guard !name.isEmpty else { throw TinyGPTError.runtime("cannot write \(path): it names a folder; give a file name") }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, name)
    }

    /// Creates `.NAME.tmp-PID-RANDOM` in `folder`, exclusively, so two writers never share one.
    private static func createTemporary(folder: String, name: String, for path: String) throws -> (Int32, String) {
        var lastError = Platform.Errno.exists
        for _ in 0..<16 {
            let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
            let temporary = "\(folder)/.\(name).tmp-\(Platform.processID)-\(suffix)"
            switch Platform.open(temporary, [.writeOnly, .create, .exclusive, .noFollow]) {
            case .success(let fd): return (fd, temporary)
            case .failure(let error): lastError = error
            }
            if lastError != .exists { break }
        }
        throw TinyGPTError.runtime("cannot write \(path): creating a temporary file in \(folder) failed: \(lastError.text)")
    }
}

/// Every output goes to disk through these: the rule's check (Support/OutputFile.swift), then
/// AtomicFile's crash-safe replace.
extension OutputFile {
    /// Checks `path` under the output rule for `kind` and `inputs`, then writes `bytes` atomically.
    public static func write(_ bytes: [UInt8], to path: String, as kind: OutputKind, inputs: [String] = [],
                             flag: String? = nil, vouchedBy voucher: (path: String, kind: OutputKind)? = nil) throws {
        try check(path, as: kind, inputs: inputs, flag: flag, vouchedBy: voucher)
        try AtomicFile.write(bytes, to: path)
    }

    /// As `write(_:to:as:inputs:flag:)`, streaming the bytes `produce` passes to `emit`.
    public static func write(to path: String, as kind: OutputKind, inputs: [String] = [], flag: String? = nil,
                             _ produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        try check(path, as: kind, inputs: inputs, flag: flag)
        try AtomicFile.write(to: path, produce)
    }
}
