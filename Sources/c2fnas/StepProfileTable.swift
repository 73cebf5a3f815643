// The table `c2fnas bench step --profile` prints: time per op kind over the timed steps, its share of
// the step, the conv / non-conv split, page faults and thread-pool fork/joins per step.

import Foundation
import Tensor

enum StepProfileTable {
    static func render(_ kinds: [(kind: OpKind, ms: Double, calls: Int)], stepsMs: [Double], faultsPerStep: [Int],
                       poolJobsPerStep: [Int], emptyForkJoinMicros: (median: Double, p90: Double)) -> String {
        let steps = max(1, stepsMs.count)
        let stepMs = stepsMs.reduce(0, +) / Double(steps)
        let measured = kinds.reduce(0) { $0 + $1.ms } / Double(steps)
        var lines = ["op kind        ms/step   share   calls/step"]
        func row(_ label: String, _ ms: Double, _ calls: Int?) {
            let share = stepMs > 0 ? 100 * ms / stepMs : 0
            let c = calls.map { String(format: "%10d", $0 / steps) } ?? ""
            lines.append(label.padding(toLength: 13, withPad: " ", startingAt: 0)
                         + String(format: " %8.1f  %5.1f %%", ms, share) + c)
        }
        for k in kinds { row(k.kind.label, k.ms / Double(steps), k.calls) }
        row("other", max(0, stepMs - measured), nil)
        let conv = kinds.filter { $0.kind.isConv }.reduce(0) { $0 + $1.ms } / Double(steps)
        lines.append(String(format: "step %.1f ms (mean of %d): conv %.1f ms (%.1f %%), non-conv %.1f ms (%.1f %%)",
                            stepMs, steps, conv, 100 * conv / max(stepMs, 1e-9), stepMs - conv,
                            100 * (stepMs - conv) / max(stepMs, 1e-9)))
        let faults = faultsPerStep.reduce(0, +) / max(1, faultsPerStep.count)
        let jobs = poolJobsPerStep.reduce(0, +) / max(1, poolJobsPerStep.count)
        lines.append("minor page faults per step \(faults); thread-pool fork/joins per step \(jobs)"
                     + String(format: "; empty fork/join %.1f µs median, %.1f µs p90 (≈ %.1f ms per step)",
                              emptyForkJoinMicros.median, emptyForkJoinMicros.p90,
                              Double(jobs) * emptyForkJoinMicros.median / 1000))
        return lines.joined(separator: "\n")
    }

    /// Round trip of an empty job through the pool (wake the workers, wait for them), median and p90
    /// of 1000, 200 µs apart so the workers are asleep as between the ops of a step.
    static func emptyForkJoinMicros() -> (median: Double, p90: Double) {
        guard Compute.threads > 1 else { return (0, 0) }
        var samples: [Double] = []
        for _ in 0..<1000 {
            usleep(200)
            let t0 = DispatchTime.now().uptimeNanoseconds
            Compute.parallelFor(Compute.threads) { _ in }
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000)
        }
        samples.sort()
        return (samples[samples.count / 2], samples[samples.count * 9 / 10])
    }
}
