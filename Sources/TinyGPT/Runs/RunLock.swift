// The lock that keeps a run folder to one training process at a time: flock(2) on the file
// `train.lock` in the folder. The kernel drops the lock when its process ends in any way (a
// clean exit, a crash, kill -9, a power loss), so a lock file left behind is stale by
// construction and never blocks the next run; only a live process can hold it. The file
// holds the owner's process id, so a refusal can name the running process. SQLite guards its
// database against a second writer the same way.

import Foundation

/// An exclusive lock on a run folder, held until `release()` or the end of the process.
public final class RunLock {
    /// The lock file's name inside the run folder.
    public static let fileName = "train.lock"

    public let path: String
    private var descriptor: Int32

    /// Takes the lock on `folder` (which must exist), or throws a one-line error that names
    /// the process holding it.
    public init(folder: String) throws {
        let path = (folder as NSString).appendingPathComponent(Self.fileName)
        self.path = path
        // A holder that releases removes the file; if that happened between our open and our
        // flock, we hold a lock on a file no one else will see, so we try again on the new one.
        for _ in 0..<64 {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw TinyGPTError.runtime("cannot create the lock file \(path): \(String(cString: strerror(errno))); check that the folder is writable")
            }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                close(fd)
                if code == EAGAIN || code == EWOULDBLOCK {
                    let holder = Self.holder(of: path).map { "process \($0)" } ?? "another process"
                    throw TinyGPTError.runtime("\(folder) is in use by a training run that is still going (\(holder)); wait for it to end or stop it, or train into another folder")
                }
                throw TinyGPTError.runtime("cannot lock \(path): \(String(cString: strerror(code)))")
            }
            var held = stat(), current = stat()
            if fstat(fd, &held) == 0, stat(path, &current) == 0, held.st_ino == current.st_ino, held.st_dev == current.st_dev {
                let text = Array("\(getpid())\n".utf8)
                _ = ftruncate(fd, 0)
                _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
                descriptor = fd
                return
            }
            close(fd)
        }
        throw TinyGPTError.runtime("cannot lock \(path): the lock file keeps changing; try again")
    }

    deinit { release() }

    /// Removes the lock file and gives up the lock (in that order, so that a process waiting
    /// on the old file sees it gone and takes a fresh one). Safe to call more than once.
    public func release() {
        guard descriptor >= 0 else { return }
        unlink(path)
        close(descriptor)
        descriptor = -1
    }

    /// The process id written in the lock file at `path`. The holder writes it right after
    /// taking the lock, so a reader that comes in between waits a moment for it.
    static func holder(of path: String) -> Int32? {
        for attempt in 0..<20 {
            if let data = FileManager.default.contents(atPath: path),
               let pid = Int32(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 {
                return pid
            }
            if attempt < 19 { usleep(10_000) }
        }
        return nil
    }
}
