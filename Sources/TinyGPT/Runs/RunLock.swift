// The lock that keeps a run folder to one training process at a time: flock(2) on the file
// `train.lock` in the folder. The kernel drops the lock when its process ends in any way (a
// clean exit, a crash, kill -9, a power loss), so a lock file left behind is stale by
// construction and never blocks the next run; only a live process can hold it. The file
// holds the owner's process id, so a refusal can name the running process. SQLite guards its
// database against a second writer the same way.
//
// The lock file is opened with O_NOFOLLOW and must be a regular file: in a folder others can
// write to, a `train.lock` planted as a symbolic link to one of your files would otherwise get
// your process id written into that file, and then be deleted.

import Foundation

/// An exclusive lock on a run folder, held until `release()` or the end of the process.
public final class RunLock {
    /// The lock file's name inside the run folder.
    public static let fileName = "train.lock"

    /// Thrown when this user may not create or open the lock (the folder or the lock file
    /// belongs to someone else): a new run then goes to a numbered folder instead (RunFolder).
    public struct NotPermitted: Error {
        public let error: TinyGPTError
    }

    public let path: String
    private var descriptor: Int32

    /// Takes the lock on `folder` (which must exist), or throws a one-line error that names
    /// the process holding it (`NotPermitted` when the folder is not ours to write).
    public init(folder: String) throws {
        let path = (folder as NSString).appendingPathComponent(Self.fileName)
        self.path = path
        // A holder that releases removes the file; if that happened between our open and our
        // flock, we hold a lock on a file no one else will see, so we try again on the new one.
        for _ in 0..<64 {
            let fd = try Self.open(path, folder: folder)
            if let error = Platform.lockExclusively(fd) {
                Platform.close(fd)
                if error.isWouldBlock {
                    let holder = Self.holder(of: path).map { "process \($0)" } ?? "another process"
                    throw TinyGPTError.runtime("\(folder) is in use by a training run that is still going (\(holder)); wait for it to end or stop it, or train into another folder")
                }
                throw TinyGPTError.runtime("cannot lock \(path): \(error.text); train into another folder (--out)")
            }
            if case .success(let held) = Platform.status(of: fd), case .success(let current) = Platform.linkStatus(of: path),
               held.isSameFile(as: current) {
                _ = Platform.truncate(fd, to: 0)
                _ = Platform.write(fd, at: 0, Array("\(Platform.processID)\n".utf8))
                descriptor = fd
                return
            }
            Platform.close(fd)
        }
        throw TinyGPTError.runtime("cannot lock \(path): the lock file keeps changing; try again")
    }

    /// Opens (creating) the lock file without following a link; refuses anything but a
    /// regular file.
    private static func open(_ path: String, folder: String) throws -> Int32 {
        let fd: Int32
        switch Platform.open(path, [.readWrite, .create, .noFollow, .nonBlocking]) {
        case .success(let opened): fd = opened
        case .failure(let error):
            let kind = (try? Platform.linkStatus(of: path).get())?.kind
            if kind == .link || error == .loop {
                throw TinyGPTError.runtime("\(path) is a symbolic link, and tinygpt never follows one there (it could point at any of your files); remove it (rm \(path)) or train into another folder")
            }
            if kind == .folder || error == .isFolder {
                throw TinyGPTError.runtime("\(path) is a folder, where tinygpt keeps its lock file; remove it (rmdir \(path)) or train into another folder")
            }
            if let kind, kind != .regular {
                throw TinyGPTError.runtime("\(path) is \(kind.phrase), not a lock file; remove it or train into another folder")
            }
            if error.isPermission || error == .readOnlyFileSystem {
                throw NotPermitted(error: TinyGPTError.runtime("cannot lock \(folder): \(error.text) on \(path); train into a folder of your own (--out)"))
            }
            throw TinyGPTError.runtime("cannot create the lock file \(path): \(error.text); train into another folder (--out)")
        }
        guard case .success(let status) = Platform.status(of: fd), status.kind == .regular else {
            let kind = (try? Platform.status(of: fd).get())?.kind ?? .other
            Platform.close(fd)
            throw TinyGPTError.runtime("\(path) is \(kind.phrase), not a lock file; remove it or train into another folder")
        }
        return fd
    }

    deinit { release() }

    /// Removes the lock file and gives up the lock (in that order, so that a process waiting
    /// on the old file sees it gone and takes a fresh one). Safe to call more than once.
    public func release() {
        guard descriptor >= 0 else { return }
        Platform.unlink(path)
        Platform.close(descriptor)
        descriptor = -1
    }

    /// The process id written in the lock file at `path`. The holder writes it right after
    /// taking the lock, so a reader that comes in between waits a moment for it.
    static func holder(of path: String) -> Int32? {
        for attempt in 0..<20 {
            if case .success(let fd) = Platform.open(path, [.read, .noFollow]) {
                var bytes = [UInt8](repeating: 0, count: 24)
                let n = bytes.withUnsafeMutableBytes { (try? Platform.read(fd, at: 0, into: $0.baseAddress!, count: $0.count).get()) ?? 0 }
                Platform.close(fd)
                if let pid = Int32(String(decoding: bytes.prefix(n), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 {
                    return pid
                }
            }
            if attempt < 19 { Platform.sleep(microseconds: 10_000) }
        }
        return nil
    }
}
