import Foundation
import Tensor

/// A synthetic but realistic view model, for tests and screenshots only (the real app is fed by
/// the engine). Deterministic: the project RNG with a fixed seed, no clock.
public enum WorkbenchDemo {
    /// C2FNAS-Panc (the reference architecture).
    public static let pancreas = TopologyPath(cellLevels: [1, 1, 2, 2, 3, 4, 3, 3, 2, 1, 1, 1],
                                              ops: ["2D", "P3D", "3D", "3D", "3D", "3D", "2D", "3D", "P3D", "3D", "2D", "3D"])

    public static func model(volumeSize: VolumeSize = VolumeSize(x: 48, y: 48, z: 32)) -> WorkbenchModel {
        var rng = RNG(seed: 42)
        let run = RunView(dataset: "Task09_Spleen", stage: "COARSE",
                          counters: [ProgressCounter("clusters", 2, of: 4), ProgressCounter("gen", 7, of: 10)],
                          etaSeconds: 2461, secondsPerStep: 0.84, ramBytes: 1_288_490_188, state: .running,
                          runDirectory: "runs/2026-11-27-spleen")

        var loss = [CurvePoint](), dice = [CurvePoint]()
        for step in stride(from: 0, through: 1200, by: 4) {
            let t = Double(step)
            let restart = step >= 600 ? 0.25 * exp(-(t - 600) / 80) : 0  // new cluster: a short bump
            loss.append(CurvePoint(step: step, value: 0.18 + 1.1 * exp(-t / 260) + restart + 0.04 * (rng.nextDouble() - 0.5)))
            if step % 50 == 0 {
                dice.append(CurvePoint(step: step, value: min(0.93, 0.05 + 0.8 * (1 - exp(-t / 380)) + 0.03 * (rng.nextDouble() - 0.5))))
            }
        }
        let curves = CurvesView(trainLoss: loss, valDice: dice,
                                boundaries: [StageBoundary(step: 300, label: "c2"), StageBoundary(step: 600, label: "c3")])

        let topology = TopologyView(levels: 4,
                                    current: TopologyPath(cellLevels: [1, 2, 2, 3, 3, 4, 4, 3, 2, 2, 1, 1]),
                                    best: TopologyPath(cellLevels: pancreas.cellLevels),
                                    medoid: TopologyPath(cellLevels: [1, 1, 2, 3, 3, 3, 3, 3, 2, 1, 1, 1]))

        var cells = [[Double]]()
        for c in 0..<12 {
            var p = (0..<3).map { _ in 0.2 + rng.nextDouble() }
            if c == 4 { p = [0.97, 0.02, 0.01] }  // one cell collapsed early: the warning shows
            let s = p.reduce(0, +)
            cells.append(p.map { $0 / s })
        }
        let ops = OpProbabilitiesView(opNames: ["2D", "3D", "P3D"], cells: cells, progress: 0.2)

        var candidates = [CandidateRow]()
        for i in 0..<20 {
            var levels = [1]
            for c in 1..<12 {
                let last = levels[c - 1], up = c >= 6
                let move = rng.nextDouble() < 0.5 ? 0 : (up ? -1 : 1)
                levels.append(max(1, min(4, last + move)))
            }
            levels[11] = 1
            for c in stride(from: 10, through: 6, by: -1) where levels[c] - levels[c + 1] > 1 { levels[c] = levels[c + 1] + 1 }
            let dice = 0.78 - 0.012 * Double(i) + 0.004 * rng.nextDouble()
            candidates.append(CandidateRow(id: String(format: "t%03d", 17 * i % 662), rank: i + 1, dice: dice,
                                           params: Int(1_000_000 + 900_000 * rng.nextDouble()),
                                           macs: Int64(20e9 + 30e9 * rng.nextDouble()), memoryBytes: Int64(0.8e9 + 1.5e9 * rng.nextDouble()),
                                           topology: TopologyPath(cellLevels: levels)))
        }

        let slices = SlicesView(caseIndex: 2, caseCount: 12, volume: volume(size: volumeSize))
        let log = [
            LogLine(.info, "run dir runs/2026-11-27-spleen; config printed to config.json"),
            LogLine(.info, "plan: spacing 1.6×1.6×3.2 mm, patch 96×96×48, 662 topologies, K=4"),
            LogLine(.debug, "cluster 1: medoid 112333332111, 181 members"),
            LogLine(.info, "cluster 1 finished: best 112234332111 Dice 0.781"),
            LogLine(.warning, "cell 5: α entropy 0.12 at 20% of the fine stage"),
            LogLine(.info, "gen 7/10: 12 children, 3 from memo, best 0.774"),
        ]
        return WorkbenchModel(run: run, curves: curves, topology: topology, ops: ops, candidates: candidates,
                              slices: slices, log: log)
    }

    /// A body-like phantom: a soft ellipse of tissue, a bright "spleen" ellipsoid labelled 1, and a
    /// prediction that is the label shifted by two voxels (so FP and FN both show).
    public static func volume(size s: VolumeSize) -> SliceVolume {
        var image = [Float](repeating: 0, count: s.count)
        var label = [UInt8](repeating: 0, count: s.count)
        var prediction = [UInt8](repeating: 0, count: s.count)
        let (cx, cy, cz) = (Double(s.x) / 2, Double(s.y) / 2, Double(s.z) / 2)
        func inOrgan(_ x: Double, _ y: Double, _ z: Double) -> Bool {
            let dx = (x - cx * 1.3) / (Double(s.x) * 0.16), dy = (y - cy * 0.9) / (Double(s.y) * 0.2), dz = (z - cz) / (Double(s.z) * 0.3)
            return dx * dx + dy * dy + dz * dz <= 1
        }
        for z in 0..<s.z {
            for y in 0..<s.y {
                for x in 0..<s.x {
                    let i = (z * s.y + y) * s.x + x
                    let bx = (Double(x) - cx) / (Double(s.x) * 0.46), by = (Double(y) - cy) / (Double(s.y) * 0.36)
                    let body = bx * bx + by * by <= 1
                    var v: Float = body ? 40 + Float((x * 7 + y * 3 + z * 5) % 11) : -900
                    if inOrgan(Double(x), Double(y), Double(z)) { v = 120; label[i] = 1 }
                    if inOrgan(Double(x) - 2, Double(y), Double(z)) { prediction[i] = 1 }
                    image[i] = v
                }
            }
        }
        return SliceVolume(name: "spleen_3", size: s, image: image, label: label, prediction: prediction,
                           classCount: 2, spacing: [1, 1, 1])
    }
}
