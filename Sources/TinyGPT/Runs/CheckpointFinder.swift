// Finding "the newest model" when none is named: the most recently written `latest.ckpt`
// anywhere under the checkpoint folder, so that runs in numbered folders (`lighthouse-2`)
// and runs resumed later are all found by when they last saved, not by their names.

import Foundation

/// Looks for checkpoints under a folder of run folders.
public enum CheckpointFinder {
    /// The newest model under `root`: of the `latest.ckpt` files (one per run folder) the one
    /// written last; when there is none, the `.ckpt` file written last. Equal times (on file
    /// systems that keep whole seconds) go to the higher-numbered run folder, then the path.
    /// Nil when `root` holds no checkpoint.
    public static func newest(under root: String) -> String? {
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: root) else { return nil }
        var best: Found?
        for case let name as String in walker where RunFiles.isCheckpoint((name as NSString).lastPathComponent) {
            let path = (root as NSString).appendingPathComponent(name)
            guard let date = (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { continue }
            let candidate = Found(path: path, date: date)
            if best.map({ candidate.isNewer(than: $0) }) ?? true { best = candidate }
        }
        return best?.path
    }

    private struct Found {
        var path: String
        var date: Date

        var isLatest: Bool { (path as NSString).lastPathComponent == RunFiles.latestName }

        /// The N of a folder named `name-N`, 1 for an unnumbered one.
        var runNumber: Int {
            let folder = ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent
            guard let dash = folder.lastIndex(of: "-"), let n = Int(folder[folder.index(after: dash)...]), n >= 2 else { return 1 }
            return n
        }

        func isNewer(than other: Found) -> Bool {
            if isLatest != other.isLatest { return isLatest }
            if date != other.date { return date > other.date }
            if runNumber != other.runNumber { return runNumber > other.runNumber }
            return path > other.path
        }
    }
}
