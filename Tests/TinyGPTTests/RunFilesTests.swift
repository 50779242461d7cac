// Tests of Runs/RunFiles.swift: the one place that names the files of a run folder.

import Foundation
import XCTest
@testable import TinyGPT

/// RunFiles is the only place that names a file of a run folder: no other source holds one of
/// its names in a string literal (comments, and command lines shown as help examples, may).
final class RunFilesTests: XCTestCase {
    func testOnlyRunFilesNamesTheFilesOfARunFolder() throws {
        let names = [RunFiles.latestName, RunFiles.bestName, RunFiles.trainingLogName, RunFiles.healthName,
                     RunFiles.timeLapseName, RunFiles.descriptionName, RunFiles.reportName, RunFiles.lossPlotName, "step-"]
        for folder in ["Sources/TinyGPT", "Sources/TinyGPTViews", "Sources/tinygpt-cli"] {
            for (path, text) in try FieldFlagsTests.sources(folder) where !path.hasSuffix("/RunFiles.swift") {
                for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    guard !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") else { continue }
                    let literals = line.replacingOccurrences(of: "\\\"", with: "").split(separator: "\"", omittingEmptySubsequences: false).enumerated()
                        .filter { $0.offset % 2 == 1 }.map { String($0.element) }
                    for literal in literals where !literal.hasPrefix("tinygpt ") {
                        for name in names where literal.contains(name) {
                            XCTFail("\(path):\(n + 1) names \(name); ask RunFiles: \(line)")
                        }
                    }
                }
            }
        }
        XCTAssertEqual(RunFiles.stepCheckpointName(250), "step-0000250.ckpt")
        XCTAssertTrue(RunFiles.isStepCheckpoint("step-0000250.ckpt"))
        XCTAssertFalse(RunFiles.isCheckpoint(".latest.ckpt"))
        XCTAssertEqual(RunFiles("run").latest, "run/latest.ckpt")
    }
}
