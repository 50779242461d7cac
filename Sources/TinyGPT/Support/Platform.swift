// Every call TinyGPT makes to the operating system, in this one file, each with its Linux
// (Glibc) and Darwin (macOS) form where the two differ. The rest of the code calls `Math`
// for libm and `Platform` for files, locks, signals, the terminal and the process; it never
// imports Glibc or Darwin itself (swift-argument-parser keeps its platform calls in one
// Platform.swift the same way). Foundation re-exports the C library on every platform (Glibc
// on Linux, Darwin on Apple's), so `Foundation.exp` names libm's exp everywhere without an #if.
//
// What differs between the two, and is handled below:
// - `mode_t` is UInt32 on Linux and UInt16 on Darwin (file types and permission bits);
// - fsync on Darwin only reaches the drive's cache; F_FULLFSYNC asks the drive itself;
// - peak memory: Linux reports it in /proc/self/status (VmHWM, kB), Darwin in getrusage
//   (ru_maxrss, in bytes there but in kB on Linux);
// - ioctl's request argument is `UInt` on both, TIOCGWINSZ a different number on each.
//
// One exception lives elsewhere: the instruction-set check of `tinygpt` (reading /proc/cpuinfo,
// or sysctlbyname on Darwin) is in Sources/tinygpt-cli/InstructionSetCheck.swift, because it
// must run before any code built for AVX-512, and this library may be (its Linux and Darwin
// branches are written there the same way).

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libm's elementary functions, exactly as the C library computes them.
enum Math {
    @inline(__always) static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) static func exp(_ x: Float) -> Float { Foundation.expf(x) }
    @inline(__always) static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inline(__always) static func log(_ x: Float) -> Float { Foundation.logf(x) }
    @inline(__always) static func cos(_ x: Double) -> Double { Foundation.cos(x) }
    @inline(__always) static func pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
    @inline(__always) static func erf(_ x: Float) -> Float { Foundation.erff(x) }
}

/// The operating system's calls, as TinyGPT uses them. Errors come back as errno values
/// (`Int32`), which `describe` turns into words; callers write the message a user reads.
public enum Platform {
    /// What a system call gave back: its value, or the errno it failed with.
    public enum Attempt<Value> {
        case success(Value)
        case failure(Errno)

        public func get() throws -> Value {
            switch self {
            case .success(let value): return value
            case .failure(let error): throw error
            }
        }
    }

    // MARK: - File status

    /// What fstat/stat/lstat report about a file, in the fields TinyGPT looks at.
    public struct FileStatus: Equatable, Sendable {
        public enum FileType: Sendable {
            case regular, folder, link, fifo, device, socket, other

            /// "a folder", "a FIFO (named pipe)", … for messages.
            public var phrase: String {
                switch self {
                case .regular: return "a file"
                case .folder: return "a folder"
                case .link: return "a symbolic link"
                case .fifo: return "a FIFO (named pipe)"
                case .device: return "a device"
                case .socket: return "a socket"
                case .other: return "not a regular file"
                }
            }
        }
        public var kind: FileType
        public var size: Int
        /// Permission bits (the low 12 bits of st_mode).
        public var permissions: UInt32
        public var device: UInt64
        public var inode: UInt64
        /// Last modification, in nanoseconds since 1970.
        public var modified: Int64
        public var owner: UInt32

        /// Same device and inode: one file, whatever names lead to it.
        public func isSameFile(as other: FileStatus) -> Bool { device == other.device && inode == other.inode }
    }

    static func status(_ raw: stat) -> FileStatus {
        let type = UInt32(raw.st_mode) & UInt32(S_IFMT)
        let kind: FileStatus.FileType
        switch type {
        case UInt32(S_IFREG): kind = .regular
        case UInt32(S_IFDIR): kind = .folder
        case UInt32(S_IFLNK): kind = .link
        case UInt32(S_IFIFO): kind = .fifo
        case UInt32(S_IFCHR), UInt32(S_IFBLK): kind = .device
        case UInt32(S_IFSOCK): kind = .socket
        default: kind = .other
        }
        #if canImport(Darwin)
        let modified = Int64(raw.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(raw.st_mtimespec.tv_nsec)
        #else
        let modified = Int64(raw.st_mtim.tv_sec) * 1_000_000_000 + Int64(raw.st_mtim.tv_nsec)
        #endif
        return FileStatus(kind: kind, size: Int(raw.st_size), permissions: UInt32(raw.st_mode) & 0o7777,
                          device: UInt64(truncatingIfNeeded: raw.st_dev), inode: UInt64(truncatingIfNeeded: raw.st_ino),
                          modified: modified, owner: UInt32(raw.st_uid))
    }

    /// The status of the file `path` names, following links; an errno on failure.
    public static func status(of path: String) -> Attempt<FileStatus> {
        var raw = stat()
        return stat(path, &raw) == 0 ? .success(status(raw)) : .failure(Errno(errno))
    }

    /// The status of `path` itself, a link not followed.
    public static func linkStatus(of path: String) -> Attempt<FileStatus> {
        var raw = stat()
        return lstat(path, &raw) == 0 ? .success(status(raw)) : .failure(Errno(errno))
    }

    /// The status of an open file.
    public static func status(of fd: Int32) -> Attempt<FileStatus> {
        var raw = stat()
        return fstat(fd, &raw) == 0 ? .success(status(raw)) : .failure(Errno(errno))
    }

    // MARK: - Opening, reading, writing

    /// An errno value with its description.
    public struct Errno: Error, Equatable, Sendable {
        public var code: Int32
        public init(_ code: Int32) { self.code = code }
        /// strerror's words, lower-cased ("no such file or directory").
        public var text: String { Platform.describe(code) }
        public static let notFound = Errno(ENOENT)
        public static let exists = Errno(EEXIST)
        public static let wouldBlock = Errno(EWOULDBLOCK)
        public static let loop = Errno(ELOOP)
        public static let permission = Errno(EACCES)
        public static let isFolder = Errno(EISDIR)
        public static let readOnlyFileSystem = Errno(EROFS)
        public static let interrupted = Errno(EINTR)
        public static let brokenPipe = Errno(EPIPE)
        public var isWouldBlock: Bool { code == EWOULDBLOCK || code == EAGAIN }
        public var isPermission: Bool { code == EACCES || code == EPERM }
    }

    /// How a file is opened.
    public struct OpenMode: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        /// Read only, without blocking on a FIFO or a device.
        public static let read = OpenMode(rawValue: O_RDONLY | O_NONBLOCK)
        public static let readWrite = OpenMode(rawValue: O_RDWR)
        public static let writeOnly = OpenMode(rawValue: O_WRONLY)
        public static let create = OpenMode(rawValue: O_CREAT)
        /// With `create`: fail when the name exists (EEXIST).
        public static let exclusive = OpenMode(rawValue: O_EXCL)
        /// Never wait: a FIFO or a device opens at once or fails.
        public static let nonBlocking = OpenMode(rawValue: O_NONBLOCK)
        /// Fail (ELOOP) when the last component of the path is a symbolic link.
        public static let noFollow = OpenMode(rawValue: O_NOFOLLOW)
    }

    /// Opens `path` (always close-on-exec); the descriptor, or an errno.
    public static func open(_ path: String, _ mode: OpenMode, permissions: UInt32 = 0o644) -> Attempt<Int32> {
        let fd = Glue.open(path, mode.rawValue | O_CLOEXEC, mode_t(permissions))
        return fd >= 0 ? .success(fd) : .failure(Errno(errno))
    }

    /// Opens a folder for fsync; nil when the system refuses.
    public static func openFolder(_ path: String) -> Int32? {
        let fd = Glue.open(path, O_RDONLY | O_CLOEXEC, 0)
        return fd >= 0 ? fd : nil
    }

    @discardableResult
    public static func close(_ fd: Int32) -> Errno? { Glue.close(fd) == 0 ? nil : Errno(errno) }

    /// Reads up to `count` bytes at the file's position, retrying interruptions: the number
    /// read (0 at the end of the file), or an errno.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int) -> Attempt<Int> {
        while true {
            let n = Glue.read(fd, buffer, count)
            if n >= 0 { return .success(n) }
            if errno != EINTR { return .failure(Errno(errno)) }
        }
    }

    /// Reads until `count` bytes or the end of the file: the number read, or an errno.
    public static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int) -> Attempt<Int> {
        var done = 0
        while done < count {
            switch read(fd, into: buffer + done, count: count - done) {
            case .success(0): return .success(done)
            case .success(let n): done += n
            case .failure(let e): return .failure(e)
            }
        }
        return .success(done)
    }

    /// Reads up to `count` bytes at `offset`, without moving the file's position.
    public static func read(_ fd: Int32, at offset: Int, into buffer: UnsafeMutableRawPointer, count: Int) -> Attempt<Int> {
        var done = 0
        while done < count {
            let n = Glue.pread(fd, buffer + done, count - done, off_t(offset + done))
            if n > 0 { done += n } else if n == 0 { break } else if errno != EINTR { return .failure(Errno(errno)) }
        }
        return .success(done)
    }

    /// Writes every byte, retrying short writes and interruptions. Nil, or an errno.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Errno? {
        guard let base = bytes.baseAddress else { return nil }
        var done = 0
        while done < bytes.count {
            let n = Glue.write(fd, base + done, bytes.count - done)
            if n > 0 {
                done += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return n < 0 ? Errno(errno) : Errno(EIO)
            }
        }
        return nil
    }

    /// Writes `bytes` at `offset` (the lock file's process id).
    public static func write(_ fd: Int32, at offset: Int, _ bytes: [UInt8]) -> Errno? {
        bytes.withUnsafeBytes { raw in
            Glue.pwrite(fd, raw.baseAddress, raw.count, off_t(offset)) == raw.count ? nil : Errno(errno)
        }
    }

    public static func truncate(_ fd: Int32, to length: Int) -> Errno? {
        Glue.ftruncate(fd, off_t(length)) == 0 ? nil : Errno(errno)
    }

    public static func setPermissions(_ fd: Int32, _ permissions: UInt32) -> Errno? {
        Glue.fchmod(fd, mode_t(permissions & 0o7777)) == 0 ? nil : Errno(errno)
    }

    /// Flushes a file's data to the device. On Darwin fsync only reaches the drive's cache;
    /// F_FULLFSYNC asks the drive itself, with fsync as the fallback where it is unsupported.
    public static func flushToDisk(_ fd: Int32) -> Errno? {
        #if canImport(Darwin)
        if Glue.fcntl(fd, F_FULLFSYNC) == 0 { return nil }
        #endif
        return Glue.fsync(fd) == 0 ? nil : Errno(errno)
    }

    /// Makes a rename or an unlink in `folder` durable. Best effort: some file systems refuse
    /// fsync on a folder.
    public static func flushFolder(_ folder: String) {
        guard let fd = openFolder(folder) else { return }
        _ = Glue.fsync(fd)
        _ = Glue.close(fd)
    }

    /// rename(2): replaces `to` atomically (POSIX).
    public static func rename(_ from: String, to: String) -> Errno? {
        Glue.rename(from, to) == 0 ? nil : Errno(errno)
    }

    /// mkdir(2) of one folder, with the given permission bits (less the umask).
    public static func makeFolder(_ path: String, permissions: UInt32 = 0o755) -> Errno? {
        Glue.mkdir(path, mode_t(permissions)) == 0 ? nil : Errno(errno)
    }

    @discardableResult
    public static func unlink(_ path: String) -> Errno? { Glue.unlink(path) == 0 ? nil : Errno(errno) }

    // MARK: - Locks

    /// flock(2) LOCK_EX | LOCK_NB: nil when taken, `isWouldBlock` when another process holds it.
    public static func lockExclusively(_ fd: Int32) -> Errno? {
        Glue.flock(fd, LOCK_EX | LOCK_NB) == 0 ? nil : Errno(errno)
    }

    // MARK: - Process and memory

    public static var processID: Int32 { getpid() }

    /// The user this process runs as.
    public static var userID: UInt32 { UInt32(getuid()) }

    /// The cores this process may use.
    public static var processorCount: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// The computer's memory in bytes.
    public static var physicalMemory: UInt64 { ProcessInfo.processInfo.physicalMemory }

    /// The process's peak resident memory in bytes, nil where the system does not say.
    public static func peakResidentBytes() -> Int? {
        #if os(Linux)
        // VmHWM, the high-water mark of the resident set, in kB.
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Int($0) }.first
            return kb.map { $0 * 1024 }
        }
        return nil
        #elseif canImport(Darwin)
        var usage = rusage()
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return nil }
        return Int(usage.ru_maxrss)  // bytes on Darwin
        #else
        return nil
        #endif
    }

    /// CPU time this process has used so far, all its threads together, in seconds
    /// (CLOCK_PROCESS_CPUTIME_ID): on a shared machine, the work done, whoever else runs.
    public static func processCPUSeconds() -> Double {
        var now = timespec()
        _ = clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// Gives the core to another thread (a spinning worker with nothing to do).
    @inline(__always) public static func yieldThread() { _ = sched_yield() }

    public static func sleep(microseconds: UInt32) { _ = usleep(microseconds) }

    // MARK: - Terminal

    /// Whether standard output is a terminal.
    public static var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Whether standard error is a terminal.
    public static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// The terminal's width in columns, nil when standard output is not a terminal.
    public static func terminalColumns() -> Int? {
        guard standardOutputIsTerminal else { return nil }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 else { return nil }
        return Int(size.ws_col)
    }

    /// Writes bytes to standard error with write(2) alone: safe inside a signal handler.
    public static func writeToStandardError(_ text: StaticString) {
        _ = Glue.write(STDERR_FILENO, text.utf8Start, text.utf8CodeUnitCount)
    }

    /// A descriptor open on /dev/null, for `silenceStandardOutput` (opened ahead, since a
    /// signal handler should not be the first to open it); -1 if it cannot be opened.
    public static func openNullDevice() -> Int32 {
        Glue.open("/dev/null", O_WRONLY | O_CLOEXEC, 0)
    }

    /// Points standard output at `nullDevice` (dup2, safe in a signal handler): every later
    /// write to it, from print or stdio's buffer, succeeds and goes nowhere.
    public static func silenceStandardOutput(nullDevice: Int32) {
        if nullDevice >= 0 { _ = dup2(nullDevice, STDOUT_FILENO) }
    }

    /// Leaves at once with `code`, running no exit handlers (safe in a signal handler).
    public static func exitImmediately(_ code: Int32) -> Never { _exit(code) }

    // MARK: - Signals

    /// The signals TinyGPT handles.
    public enum Signal: CaseIterable, Sendable {
        /// Ctrl-C.
        case interrupt
        /// kill's default, and what a system shutting down sends.
        case terminate
        /// The terminal went away (its window was closed, the ssh session ended).
        case hangUp
        /// A write to a pipe whose reader has gone (`tinygpt train | head -3`).
        case brokenPipe

        public var number: Int32 {
            switch self {
            case .interrupt: return SIGINT
            case .terminate: return SIGTERM
            case .hangUp: return SIGHUP
            case .brokenPipe: return SIGPIPE
            }
        }
    }

    /// A signal handler: a C function, which may only touch atomics and call async-signal-safe
    /// functions (write, _exit).
    public typealias SignalHandler = @convention(c) (Int32) -> Void

    /// Installs `handler` for `signal` (BSD semantics on both systems: the handler stays, and
    /// interrupted reads and writes restart).
    public static func handle(_ signal: Signal, with handler: SignalHandler) {
        var action = sigaction()
        #if canImport(Darwin)
        action.__sigaction_u.__sa_handler = handler
        action.sa_mask = 0  // sigset_t is a UInt32 there; sigemptyset is also a macro
        #else
        action.__sigaction_handler.sa_handler = handler
        sigemptyset(&action.sa_mask)
        #endif
        action.sa_flags = SA_RESTART
        _ = sigaction(signal.number, &action, nil)
    }

    /// Sends `signal` to this process (for tests).
    public static func raise(_ signal: Signal) { _ = Glue.raise(signal.number) }

    // MARK: - Errors

    /// strerror's words for `code`, lower-cased.
    public static func describe(_ code: Int32) -> String {
        String(cString: strerror(code)).lowercased()
    }
}

/// The C calls under names that `Platform`'s own members do not shadow.
private enum Glue {
    static func open(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
        #if canImport(Darwin)
        return Darwin.open(path, flags, mode)
        #else
        return Glibc.open(path, flags, mode)
        #endif
    }
    static func close(_ fd: Int32) -> Int32 {
        #if canImport(Darwin)
        return Darwin.close(fd)
        #else
        return Glibc.close(fd)
        #endif
    }
    static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        #if canImport(Darwin)
        return Darwin.read(fd, buffer, count)
        #else
        return Glibc.read(fd, buffer, count)
        #endif
    }
    static func pread(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, _ offset: off_t) -> Int {
        #if canImport(Darwin)
        return Darwin.pread(fd, buffer, count, offset)
        #else
        return Glibc.pread(fd, buffer, count, offset)
        #endif
    }
    static func write(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
        #if canImport(Darwin)
        return Darwin.write(fd, buffer, count)
        #else
        return Glibc.write(fd, buffer, count)
        #endif
    }
    static func pwrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ offset: off_t) -> Int {
        #if canImport(Darwin)
        return Darwin.pwrite(fd, buffer, count, offset)
        #else
        return Glibc.pwrite(fd, buffer, count, offset)
        #endif
    }
    static func ftruncate(_ fd: Int32, _ length: off_t) -> Int32 {
        #if canImport(Darwin)
        return Darwin.ftruncate(fd, length)
        #else
        return Glibc.ftruncate(fd, length)
        #endif
    }
    static func fchmod(_ fd: Int32, _ mode: mode_t) -> Int32 {
        #if canImport(Darwin)
        return Darwin.fchmod(fd, mode)
        #else
        return Glibc.fchmod(fd, mode)
        #endif
    }
    static func fsync(_ fd: Int32) -> Int32 {
        #if canImport(Darwin)
        return Darwin.fsync(fd)
        #else
        return Glibc.fsync(fd)
        #endif
    }
    #if canImport(Darwin)
    static func fcntl(_ fd: Int32, _ command: Int32) -> Int32 { Darwin.fcntl(fd, command) }
    #endif
    static func rename(_ from: String, _ to: String) -> Int32 {
        #if canImport(Darwin)
        return Darwin.rename(from, to)
        #else
        return Glibc.rename(from, to)
        #endif
    }
    static func unlink(_ path: String) -> Int32 {
        #if canImport(Darwin)
        return Darwin.unlink(path)
        #else
        return Glibc.unlink(path)
        #endif
    }
    static func mkdir(_ path: String, _ mode: mode_t) -> Int32 {
        #if canImport(Darwin)
        return Darwin.mkdir(path, mode)
        #else
        return Glibc.mkdir(path, mode)
        #endif
    }
    static func flock(_ fd: Int32, _ operation: Int32) -> Int32 { systemFlock(fd, operation) }
    static func raise(_ signal: Int32) -> Int32 {
        #if canImport(Darwin)
        return Darwin.raise(signal)
        #else
        return Glibc.raise(signal)
        #endif
    }
}

/// flock(2) at file scope, where the name is not shadowed (qualified, it names the struct).
private func systemFlock(_ fd: Int32, _ operation: Int32) -> Int32 { flock(fd, operation) }

// MARK: - Mutexes (issue 22: SharedWord on macOS 13 and 14)
//
// A pthread mutex placed in memory that never moves (Foundation's NSLock would do, but
// SharedWord keeps its word and its mutex in one block). The CPU check of issue 22 is not here:
// it must run before any code built for AVX-512, and this library is, so it lives in the
// executable, which is built for the baseline: Sources/tinygpt-cli/InstructionSetCheck.swift.

enum PlatformMutex {
    static func initialize(at address: UnsafeMutableRawPointer) {
        let mutex = address.bindMemory(to: pthread_mutex_t.self, capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
    }

    @inline(__always) static func lock(at address: UnsafeMutableRawPointer) {
        pthread_mutex_lock(address.assumingMemoryBound(to: pthread_mutex_t.self))
    }

    @inline(__always) static func unlock(at address: UnsafeMutableRawPointer) {
        pthread_mutex_unlock(address.assumingMemoryBound(to: pthread_mutex_t.self))
    }
}
