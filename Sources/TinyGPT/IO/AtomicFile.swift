// Whole-file reads and crash-safe whole-file writes. A write goes to a temporary file in the
// target's folder, is flushed to disk, then renamed over the target, and the folder is flushed:
// rename(2) replaces a name atomically (POSIX), so a crash at any moment leaves either the old
// file or the new one, never a torn mix. Reads accept regular files only, so a FIFO or a
// device cannot hang or flood the reader.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        var folderStatus = stat()
        if stat(folder, &folderStatus) != 0 {
            let code = errno
            if code == ENOENT {
                throw TinyGPTError.runtime("cannot write \(path): no such folder \(folder); create it first (mkdir -p \(folder))")
            }
            throw TinyGPTError.runtime("cannot write \(path): \(describe(code)) (folder \(folder))")
        }
        guard isFolder(folderStatus) else {
            throw TinyGPTError.runtime("cannot write \(path): \(folder) is not a folder")
        }
        var targetStatus = stat()
        let targetExists = stat(path, &targetStatus) == 0
        if targetExists && isFolder(targetStatus) {
            throw TinyGPTError.runtime("cannot write \(path): it is a folder; give a file name")
        }

        let (fd, temporary) = try createTemporary(folder: folder, name: name, for: path)
        func fail(_ code: Int32, _ action: String) -> TinyGPTError {
            unlink(temporary)
            return TinyGPTError.runtime("cannot write \(path): \(action) failed: \(describe(code))")
        }
        if targetExists && fchmod(fd, targetStatus.st_mode & 0o7777) != 0 {
            let code = errno
            close(fd)
            throw fail(code, "setting permissions")
        }
        do {
            try produce { piece in
                let code = writeAll(fd, piece)
                if code != 0 { throw WriteFailure(code: code) }
            }
        } catch let failure as WriteFailure {
            close(fd)
            throw fail(failure.code, "writing")
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        if flushToDisk(fd) != 0 {
            let code = errno
            close(fd)
            throw fail(code, "flushing to disk")
        }
        if close(fd) != 0 { throw fail(errno, "closing") }
        if rename(temporary, path) != 0 { throw fail(errno, "renaming the temporary file") }
        flushFolder(folder)
    }

    /// The bytes of the regular file at `path` (at most `limit` of them). `kind` names the file
    /// in errors ("checkpoint" gives "checkpoint not found: PATH").
    public static func read(_ path: String, kind: String = "file", limit: Int = .max) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            if code == ENOENT { throw TinyGPTError.runtime("\(kind) not found: \(path); check the path") }
            throw TinyGPTError.runtime("cannot read \(kind) \(path): \(describe(code))")
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw TinyGPTError.runtime("cannot read \(kind) \(path): \(describe(errno))")
        }
        if isFolder(status) { throw TinyGPTError.runtime("\(path) is a folder; give a \(kind) file") }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw TinyGPTError.runtime("\(path) is not a regular file; give a \(kind) file")
        }
        let size = min(Int(status.st_size), max(0, limit))
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            initialized = 0
            guard let base = buffer.baseAddress else { return }
            while initialized < size {
                let n = systemRead(fd, base + initialized, size - initialized)
                if n > 0 {
                    initialized += n
                } else if n == 0 {
                    break  // the file shrank since fstat; the caller sees the short result
                } else if errno != EINTR {
                    failure = errno
                    break
                }
            }
        }
        if failure != 0 { throw TinyGPTError.runtime("cannot read \(kind) \(path): \(describe(failure))") }
        return bytes
    }

    // MARK: - Steps

    /// A failed write(2), carrying its errno.
    private struct WriteFailure: Error {
        let code: Int32
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
        var lastError: Int32 = EEXIST
        for _ in 0..<16 {
            let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
            let temporary = "\(folder)/.\(name).tmp-\(getpid())-\(suffix)"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 { return (fd, temporary) }
            lastError = errno
            if lastError != EEXIST { break }
        }
        throw TinyGPTError.runtime("cannot write \(path): creating a temporary file in \(folder) failed: \(describe(lastError))")
    }

    /// Writes every byte, retrying short writes and interruptions. Returns 0 or an errno.
    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        guard let base = bytes.baseAddress else { return 0 }
        var done = 0
        while done < bytes.count {
            let n = systemWrite(fd, base + done, bytes.count - done)
            if n > 0 {
                done += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return n < 0 ? errno : EIO
            }
        }
        return 0
    }

    /// Flushes a file's data to the device. On Darwin fsync only reaches the drive's cache;
    /// F_FULLFSYNC asks the drive itself, with fsync as the fallback where it is unsupported.
    private static func flushToDisk(_ fd: Int32) -> Int32 {
        #if canImport(Darwin)
        if fcntl(fd, F_FULLFSYNC) == 0 { return 0 }
        #endif
        return fsync(fd)
    }

    /// Makes the rename itself durable. Best effort: some file systems refuse fsync on a folder,
    /// and by now the new file is complete and in place either way.
    private static func flushFolder(_ folder: String) {
        let fd = open(folder, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private static func isFolder(_ status: stat) -> Bool { status.st_mode & S_IFMT == S_IFDIR }

    private static func describe(_ code: Int32) -> String {
        String(cString: strerror(code)).lowercased()
    }
}

// The system calls under names that the members above do not shadow.
private func systemWrite(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, pointer, count) }
private func systemRead(_ fd: Int32, _ pointer: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, pointer, count) }
