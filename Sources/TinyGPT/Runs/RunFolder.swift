// Where a training run writes, chosen so that no run ever overwrites or mixes with another:
// a folder that already holds a run (checkpoints or a training log) is left as it is and the
// new run goes to a numbered folder beside it (`lighthouse` -> `lighthouse-2`, `-3`, ...), as
// experiment trackers give each run its own `runs/exp2`. The chosen folder is locked for the
// run's lifetime (see RunLock), so a second process never writes into it at the same time.

import Foundation

/// A run folder chosen and locked for one training run.
public final class RunFolder {
    /// The folder the run writes into.
    public let path: String
    /// The folder that was asked for; `path` differs when that one held another run.
    public let requested: String
    private let lock: RunLock

    /// True when the run was moved to a numbered folder because `requested` held another run
    /// or was not this user's to write.
    public var isNumbered: Bool { path != requested }
    /// Why the run is not in `requested`: "holds another run" or "is not yours to write".
    public let whyNumbered: String

    private init(path: String, requested: String, lock: RunLock, whyNumbered: String = "holds another run") {
        self.path = path
        self.requested = requested
        self.lock = lock
        self.whyNumbered = whyNumbered
    }

    /// Gives up the folder's lock (the kernel also does it when the process ends).
    public func release() { lock.release() }

    // MARK: - Choosing a folder

    /// A folder for a new run: `requested` itself when it holds no run, otherwise the first of
    /// `requested-2`, `requested-3`, ... that holds none and is free. The folder is created and
    /// locked. Throws when `requested` is a file or is locked by a run still going.
    public static func forNewRun(_ requested: String) throws -> RunFolder {
        let requested = cleaned(requested)
        let lock: RunLock
        switch try lockOwn(requested) {
        case .locked(let held): lock = held
        // Another user's folder: this run goes beside it, as beside a folder holding a run.
        case .notPermitted(let refusal): return try numberedSibling(of: requested, refusal: refusal)
        }
        if !holdsRun(requested) { return RunFolder(path: requested, requested: requested, lock: lock) }
        lock.release()
        return try numberedSibling(of: requested)
    }

    private enum OwnLock {
        case locked(RunLock)
        /// The folder is another user's: the run goes to a numbered sibling instead.
        case notPermitted(RunLock.NotPermitted)
    }

    /// Creates and locks `folder`, or says it is not this user's to lock.
    private static func lockOwn(_ folder: String) throws -> OwnLock {
        do {
            return .locked(try lockCreating(folder))
        } catch let refusal as RunLock.NotPermitted {
            return .notPermitted(refusal)
        } catch let refusal as CreationRefused {
            throw TinyGPTError.runtime("cannot create the output folder \(folder): \(refusal.reason); train into a folder you can write to")
        }
    }

    /// A folder to continue the run saved in `checkpoint`. The run goes on in the checkpoint's
    /// own folder when `requested` is nil, that folder, or its base (`run` for `run-2`), and
    /// the checkpoint is the folder's `latest.ckpt` (or the folder has none). Resuming an older
    /// checkpoint (`best.ckpt`, a step checkpoint) would overwrite the newer ones, so that run,
    /// like one resumed into another folder, is placed as a new run is.
    public static func forResuming(_ checkpoint: String, requested: String?) throws -> RunFolder {
        let own = cleaned((checkpoint as NSString).deletingLastPathComponent)
        let requested = requested.map(cleaned) ?? own
        guard sameFolder(own, requested) || isNumbered(own, from: requested) else {
            return try forNewRun(requested)
        }
        let lock: RunLock
        switch try lockOwn(own) {
        case .locked(let held): lock = held
        case .notPermitted(let refusal): return try numberedSibling(of: own, refusal: refusal)
        }
        let latest = RunFiles(own).latest
        if !FileManager.default.fileExists(atPath: latest) || sameFile(latest, checkpoint) {
            return RunFolder(path: own, requested: own, lock: lock)
        }
        lock.release()
        return try numberedSibling(of: own)
    }

    /// Whether `folder` holds files of a training run: a checkpoint or a training log.
    public static func holdsRun(_ folder: String) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.contains { RunFiles.isCheckpoint($0) || $0 == RunFiles.trainingLogName }
    }

    /// `base-N` for N = 2, 3, ...: the first that holds no run and is not locked, created and
    /// locked. `refusal` is why `base` itself could not be locked, when that was the reason;
    /// a sibling that cannot be created either ends the search with it.
    private static func numberedSibling(of base: String, refusal: RunLock.NotPermitted? = nil) throws -> RunFolder {
        let base = numberingBase(base)
        var isFolder: ObjCBool = false
        for number in 2...9_999 {
            let candidate = "\(base)-\(number)"
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isFolder) {
                if !isFolder.boolValue || holdsRun(candidate) { continue }
            }
            let lock: RunLock
            do {
                lock = try lockCreating(candidate)
            } catch is RunLock.NotPermitted {
                continue  // another user's numbered folder
            } catch let error as CreationRefused {
                let parent = (base as NSString).deletingLastPathComponent
                let why = refusal.map { "\(base) is not yours to write (\($0.error.message))" } ?? "\(base) holds another run"
                throw TinyGPTError.runtime("\(why), and no numbered folder can be made beside it (\(error.reason) in \(parent.isEmpty ? "." : parent)); train into a folder of your own")
            } catch {
                continue
            }
            if holdsRun(candidate) {
                lock.release()
                continue
            }
            return RunFolder(path: candidate, requested: base, lock: lock,
                             whyNumbered: refusal == nil ? "holds another run" : "is not yours to write")
        }
        throw TinyGPTError.runtime("\(base)-2 to \(base)-9999 all hold runs; move some away or choose another folder")
    }

    /// A folder that could not be created, and why.
    private struct CreationRefused: Error {
        let reason: String
    }

    /// Creates `folder` if needed and locks it.
    private static func lockCreating(_ folder: String) throws -> RunLock {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
            if !isFolder.boolValue {
                throw TinyGPTError.runtime("cannot save the run in \(folder): it is a file, not a folder; give a folder for the checkpoints")
            }
        } else if let error = Platform.makeFolder(folder), error != .exists {
            if error.isPermission || error == .readOnlyFileSystem { throw CreationRefused(reason: error.text) }
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw TinyGPTError.runtime("cannot create the output folder \(folder); check the path and permissions")
            }
        }
        return try RunLock(folder: folder)
    }

    // MARK: - Paths

    /// The path without trailing slashes ("." for an empty one).
    static func cleaned(_ path: String) -> String {
        var trimmed = path.isEmpty ? "." : path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
    }

    /// The name numbered folders are made from: "." and ".." become the absolute folder they
    /// name, so that a sibling reads `project-2` rather than `.-2`.
    static func numberingBase(_ base: String) -> String {
        let last = (base as NSString).lastPathComponent
        return last == "." || last == ".." ? URL(fileURLWithPath: base).standardizedFileURL.path : base
    }

    /// Whether `folder` is `base-N` for a whole number N >= 2.
    static func isNumbered(_ folder: String, from base: String) -> Bool {
        let folder = absolute(folder), base = absolute(base)
        guard folder.hasPrefix(base + "-") else { return false }
        let suffix = folder.dropFirst(base.count + 1)
        return !suffix.isEmpty && suffix.allSatisfy(\.isASCII) && (Int(suffix) ?? 0) >= 2
    }

    static func sameFolder(_ a: String, _ b: String) -> Bool { absolute(a) == absolute(b) }

    private static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    private static func sameFile(_ a: String, _ b: String) -> Bool {
        guard case .success(let sa) = Platform.status(of: a), case .success(let sb) = Platform.status(of: b) else { return false }
        return sa.isSameFile(as: sb)
    }
}
