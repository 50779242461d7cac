// Temporary: measures finite-difference methods on a checkpoint named by TINYGPT_MEASURE_CKPT.
import Foundation
import XCTest
@testable import TinyGPT

final class GradientCheckMeasureTests: XCTestCase {
    func testMeasureMethods() throws {
        guard let path = ProcessInfo.processInfo.environment["TINYGPT_MEASURE_CKPT"] else { throw XCTSkip("no checkpoint") }
        let data = ProcessInfo.processInfo.environment["TINYGPT_MEASURE_DATA"] ?? "Corpora/lighthouse.txt"
        let ckpt = try Checkpoint(contentsOf: path)
        let tok = try CharTokenizer(vocabulary: ckpt.vocabulary)
        let tokens = try TextFile.readTokens(data, tokenizer: tok).tokens
        let ds = try TokenDataset(tokens: tokens, validationFraction: 0.1, contextLength: ckpt.config.contextLength, name: data)
        let model = GPT(config: ckpt.config, parameters: ckpt.parameters)
        let B = 4, T = ckpt.config.contextLength
        var inputs = [Int32](repeating: 0, count: B * T), targets = inputs
        var rng = RandomGenerator(seed: 1337)
        inputs.withUnsafeMutableBufferPointer { i in targets.withUnsafeMutableBufferPointer { t in
            ds.sampleBatch(inputs: i.baseAddress!, targets: t.baseAddress!, B: B, T: T, validation: false, rng: &rng) } }
        func loss() -> Double {
            var unused = RandomGenerator(seed: 0)
            inputs.withUnsafeBufferPointer { i in targets.withUnsafeBufferPointer { t in
                _ = model.forward(tokens: i.baseAddress!, targets: t.baseAddress!, B: B, T: T, rng: &unused) } }
            var total = 0.0
            for l in model.positionLosses { total += Double(l) }
            return total / Double(B * T)
        }
        model.zeroGradients(); _ = loss(); model.backward()
        let g = model.gradients.pointer, p = model.parameters.pointer
        let methods: [(String, Double, GradientCheck.DifferenceMethod)] = [
            ("c 2e-2", 2e-2, .central), ("c 1e-2", 1e-2, .central), ("c 5e-3", 5e-3, .central), ("c 2.5e-3", 2.5e-3, .central),
            ("c 1e-3", 1e-3, .central), ("r 4e-2", 4e-2, .richardson), ("r 2e-2", 2e-2, .richardson), ("r 1e-2", 1e-2, .richardson), ("r 5e-3", 5e-3, .richardson), ("adaptive", 1e-2, .adaptive)]
        var worst = [Double](repeating: 0, count: methods.count), worstName = [String](repeating: "", count: methods.count)
        for tensor in model.layout.tensors {
            for local in GradientCheck.largestEntries(g + tensor.offset, count: tensor.count, k: 3) {
                let i = tensor.offset + local
                let a = Double(g[i])
                var line = "\(tensor.name)[\(local)] a=\(String(format: "%.3e", a))"
                for (m, method) in methods.enumerated() {
                    let n = method.2 == .adaptive
                        ? GradientCheck.adaptiveDifference(at: i, of: p, step: method.1, tolerance: 1e-2, noise: 3e-5, loss: loss).value
                        : GradientCheck.difference(at: i, of: p, step: method.1, method: method.2, loss: loss)
                    let rel = abs(a - n) / max(abs(a), abs(n))
                    line += String(format: " %@:%.1e", method.0, rel)
                    if rel > worst[m] { worst[m] = rel; worstName[m] = "\(tensor.name)[\(local)] a=\(a)" }
                }
                print(line)
            }
        }
        // The smallest scale of one tensor's gradient the check detects, per tensor.
        let result = GradientCheck(samplesPerTensor: 3).run(model: model, inputs: inputs, targets: targets, B: B, T: T)
        print("CHECK passed \(result.passed), halved steps: \(result.entries.filter { $0.step < 1e-2 }.count) of \(result.entries.count)")
        var needed: [Double] = []
        for tensor in model.layout.tensors {
            let entries = result.entries.filter { $0.tensor == tensor.name }
            let factors = stride(from: 1.001, through: 1.2, by: 0.001)
            let f = factors.first { f in entries.contains { e in
                let a = e.analytic * f
                return abs(a - e.numeric) > result.tolerance * max(abs(a), abs(e.numeric)) + e.floor
            } } ?? 9
            needed.append(f)
            let flip = entries.first.map { e in abs(-e.analytic - e.numeric) > result.tolerance * max(abs(e.analytic), abs(e.numeric)) + e.floor } ?? false
            print("DETECT \(tensor.name) scale ×\(String(format: "%.3f", f)) flip detected: \(flip)")
        }
        print("DETECT worst ×\(needed.max()!) median ×\(needed.sorted()[needed.count / 2])")
        for (m, method) in methods.enumerated() { print("WORST \(method.0): \(String(format: "%.2e", worst[m])) at \(worstName[m])") }
    }
}
