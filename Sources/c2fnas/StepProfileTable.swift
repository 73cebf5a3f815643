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
                     + String(format: "; empty fork/join after a 20 µs gap %.1f µs median, %.1f µs p90 (≈ %.1f ms per step)",
                              emptyForkJoinMicros.median, emptyForkJoinMicros.p90,
                              Double(jobs) * emptyForkJoinMicros.median / 1000))
        return lines.joined(separator: "\n")
    }

    /// Conv time per shape and path (`OpProfile.withDetail` labels), largest first: calls, fwd / dX /
    /// dW ms per step, the share of all conv time and the achieved GFLOP/s of the passes run.
    static func renderConvShapes(_ details: [(label: String, ms: [OpKind: Double], calls: [OpKind: Int], flops: Double)],
                                 steps: Int) -> String {
        let steps = Double(max(1, steps))
        let convKinds: [OpKind] = [.convForward, .convInputGrad, .convWeightGrad]
        let rows = details.filter { d in convKinds.contains { d.ms[$0] != nil } }
        let total = rows.reduce(0) { t, d in t + convKinds.reduce(0) { $0 + (d.ms[$1] ?? 0) } }
        let width = max(24, rows.map(\.label.count).max() ?? 0)
        var lines = ["conv shape".padding(toLength: width, withPad: " ", startingAt: 0)
                     + "  calls   fwd ms    dX ms    dW ms   share   GFLOP/s"]
        for d in rows {
            let ms = convKinds.map { (d.ms[$0] ?? 0) / steps }
            let sum = ms.reduce(0, +)
            let calls = Double(d.calls[.convForward] ?? 0) / steps
            lines.append(d.label.padding(toLength: width, withPad: " ", startingAt: 0)
                         + String(format: " %6.0f %8.1f %8.1f %8.1f  %5.1f %% %8.0f", calls, ms[0], ms[1], ms[2],
                                  100 * sum * steps / max(total, 1e-9), d.flops / steps / max(sum, 1e-9) / 1e6))
        }
        return lines.joined(separator: "\n")
    }

    /// Time of the other labelled ops (norms, ReLUs, sums, concats, upsamplings, gradient sums; by
    /// channels and extent), largest first: calls (forward and backward), ms per step and the share
    /// of the step.
    static func renderOtherShapes(_ details: [(label: String, ms: [OpKind: Double], calls: [OpKind: Int], flops: Double)],
                                  stepsMs: [Double]) -> String {
        let steps = Double(max(1, stepsMs.count)), stepMs = stepsMs.reduce(0, +) / steps
        let rows = details.filter { d in !d.ms.keys.contains { $0.isConv } }
        let width = max(24, rows.map(\.label.count).max() ?? 0)
        var lines = ["op".padding(toLength: width, withPad: " ", startingAt: 0) + "  calls    ms/step   share"]
        for d in rows {
            let ms = d.ms.values.reduce(0, +) / steps
            let calls = Double(d.calls.values.reduce(0, +)) / steps
            lines.append(d.label.padding(toLength: width, withPad: " ", startingAt: 0)
                         + String(format: " %6.0f %10.1f  %5.1f %%", calls, ms, 100 * ms / max(stepMs, 1e-9)))
        }
        return lines.joined(separator: "\n")
    }

    /// The pool loops whose caller waited longest at the join (its own items done, a worker still
    /// busy): where a step loses its second core to imbalance. Per step; at most `limit` rows.
    static func renderPoolSites(_ sites: [PoolSiteTotals], stepsMs: [Double], workerBusyMs: Double, limit: Int = 12) -> String {
        let steps = Double(max(1, stepsMs.count)), stepMs = stepsMs.reduce(0, +) / steps
        let rows = sites.filter { $0.joins > 0 || $0.inlineRuns > 0 }
        guard Compute.threads > 1, !rows.isEmpty else { return "pool loops: none (1 thread runs every loop inline)" }
        let wait = rows.reduce(0) { $0 + $1.waitMs } / steps, inline = rows.reduce(0) { $0 + $1.inlineMs } / steps
        let tail = rows.reduce(0) { $0 + $1.tailMs } / steps
        let workers = Double(max(1, Compute.threads - 1)), busy = workerBusyMs / steps / workers
        let width = max(28, rows.prefix(limit).map(\.site.count).max() ?? 0)
        var lines = [String(format: "pool workers busy %.1f ms/step of %.1f (idle %.1f: serial code, single-item loops, the tail of each loop)",
                            busy, stepMs, stepMs - busy),
                     String(format: "caller idle at joins %.2f ms/step, single-item loops %.2f ms/step (%.1f %% of the step together)",
                            wait, inline, 100 * (wait + inline) / max(stepMs, 1e-9)),
                     String(format: "workers idle in loop tails %.2f ms/step (done, the caller still in its items); outside loops %.2f ms/step (serial code, fork/join and profiling overhead)",
                            tail, max(0, stepMs - busy - tail - inline)),
                     "pool loop (file:line)".padding(toLength: width, withPad: " ", startingAt: 0)
                        + "  joins  items/join  caller ms  wait ms  tail ms  single-item runs  ms"]
        for r in rows.prefix(limit) {
            lines.append(r.site.padding(toLength: width, withPad: " ", startingAt: 0)
                         + String(format: " %6.0f %10.1f %10.2f %8.2f %8.2f  %16.0f %5.2f", Double(r.joins) / steps,
                                  r.joins > 0 ? Double(r.items) / Double(r.joins) : 0, r.workMs / steps, r.waitMs / steps,
                                  r.tailMs / steps,
                                  Double(r.inlineRuns) / steps, r.inlineMs / steps))
        }
        return lines.joined(separator: "\n")
    }

    /// Round trip of an empty job through the pool (wake the workers, wait for them), median and p90
    /// of 1000, 20 µs apart: ops of a step follow each other within microseconds, so the workers are
    /// still polling (`ThreadPool.spinNanos`); a worker asleep on a halted vCPU takes about 40 µs more
    /// to wake (measured with 200 µs gaps), which a step only pays after a long serial stretch.
    static func emptyForkJoinMicros() -> (median: Double, p90: Double) {
        guard Compute.threads > 1 else { return (0, 0) }
        var samples: [Double] = []
        for _ in 0..<1000 {
            // A busy gap of 20 µs, like the gaps between the ops of a step. After usleep(20) the
            // median was 16 µs with the workers' 100 µs of polling and 1.7 µs with 1000 µs: the sleep
            // outlasted the polling, so it timed wake-ups from sleep, which a step rarely pays (polling
            // ten times longer left the step time unchanged, 1.016x over 6 interleaved rounds at 2 threads).
            let gap = DispatchTime.now().uptimeNanoseconds
            while DispatchTime.now().uptimeNanoseconds &- gap < 20_000 {}
            let t0 = DispatchTime.now().uptimeNanoseconds
            Compute.parallelFor(Compute.threads) { _ in }
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000)
        }
        samples.sort()
        return (samples[samples.count / 2], samples[samples.count * 9 / 10])
    }
}
