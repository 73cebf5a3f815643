// Per-op-kind wall time of a training step, for `c2fnas bench step --profile`.
//
// Ops wrap their work in `OpProfile.measure(.kind) { ... }`. When profiling is off (the default) that
// is one load of a global flag and a branch per op: no clock is read. When on, time is charged
// exclusively: a measured region nested inside another (a tensor allocation inside a conv, the
// input-gradient half inside a conv backward) is taken out of its parent's time, so the kinds add
// up to at most the step's wall time and the rest is bookkeeping ("other").
//
// Only the thread that turned profiling on records (ops run on one thread; pool workers only
// execute pieces of an op, whose time the op's region already covers).

import Foundation
import Synchronization

public enum OpKind: Int, CaseIterable, Sendable {
    case convForward, convInputGrad, convWeightGrad, norm, activation, resample, elementwise, loss,
         optimiser, allocation

    public var label: String {
        switch self {
        case .convForward: "conv fwd"
        case .convInputGrad: "conv dX"
        case .convWeightGrad: "conv dW"
        case .norm: "norm"
        case .activation: "activation"
        case .resample: "resample"
        case .elementwise: "elementwise"
        case .loss: "loss"
        case .optimiser: "optimiser"
        case .allocation: "allocation"
        }
    }

    /// Conv kinds (the share the rest of the step is compared with).
    public var isConv: Bool { self == .convForward || self == .convInputGrad || self == .convWeightGrad }
}

public enum OpProfile {
    /// Read once per op, and by the pool's workers (their busy time); written only by `start` / `stop`.
    @usableFromInline static let enabled = Atomic<Bool>(false)
    public static var isEnabled: Bool {
        @inlinable @inline(__always) get { enabled.load(ordering: .relaxed) }
    }
    nonisolated(unsafe) private static var owner: pthread_t?
    nonisolated(unsafe) private static var totals = [UInt64](repeating: 0, count: OpKind.allCases.count)
    nonisolated(unsafe) private static var calls = [Int](repeating: 0, count: OpKind.allCases.count)
    /// Child time of each open region (a stack; the innermost last).
    nonisolated(unsafe) private static var childTime: [UInt64] = []
    /// The label set by the innermost `withDetail` (e.g. a conv's shape) and the exclusive time and
    /// calls of each kind recorded under each label.
    nonisolated(unsafe) private static var detail: String?
    nonisolated(unsafe) private static var detailTotals: [String: [UInt64]] = [:]
    nonisolated(unsafe) private static var detailCalls: [String: [Int]] = [:]
    nonisolated(unsafe) private static var detailFlops: [String: Double] = [:]
    /// Per pool-loop call site ("file:line"): fork/joins, items, and the caller's time in its own
    /// items and idle at the join waiting for the workers (the loop's imbalance).
    nonisolated(unsafe) private static var joins: [String: PoolSiteTotals] = [:]
    private static let lock = Mutex<Void>(())

    /// Clears the totals and starts recording on the calling thread.
    public static func start() {
        lock.withLock { _ in
            totals = totals.map { _ in 0 }
            calls = calls.map { _ in 0 }
            childTime.removeAll(keepingCapacity: true)
            detail = nil
            detailTotals = [:]
            detailCalls = [:]
            detailFlops = [:]
            joins = [:]
            owner = pthread_self()
            enabled.store(true, ordering: .releasing)
        }
    }

    /// Stops recording; returns (kind, milliseconds, calls) for every kind.
    @discardableResult
    public static func stop() -> [(kind: OpKind, ms: Double, calls: Int)] {
        lock.withLock { _ in
            enabled.store(false, ordering: .releasing)
            owner = nil
            return OpKind.allCases.map { ($0, Double(totals[$0.rawValue]) / 1e6, calls[$0.rawValue]) }
        }
    }

    /// Per label (see `withDetail`): milliseconds and calls of each kind recorded under it, labels in
    /// descending total time. Read after `stop`.
    public static func details() -> [(label: String, ms: [OpKind: Double], calls: [OpKind: Int], flops: Double)] {
        lock.withLock { _ in
            detailTotals.map { label, t in
                var ms: [OpKind: Double] = [:], calls: [OpKind: Int] = [:]
                for k in OpKind.allCases where t[k.rawValue] > 0 {
                    ms[k] = Double(t[k.rawValue]) / 1e6
                    calls[k] = detailCalls[label]?[k.rawValue] ?? 0
                }
                return (label, ms, calls, detailFlops[label] ?? 0)
            }
            .sorted { a, b in
                let ta = a.ms.values.reduce(0, +), tb = b.ms.values.reduce(0, +)
                return ta != tb ? ta > tb : a.label < b.label
            }
        }
    }

    /// Runs `body` with `label` as the detail of every region measured inside it (the conv shape, so
    /// the profile can split conv time by shape); `flops` is the arithmetic `body` does, for a rate.
    /// Label and count are computed only when profiling is on.
    @inlinable @inline(__always)
    public static func withDetail<R>(_ label: @autoclosure () -> String, flops: @autoclosure () -> Double = 0,
                                     _ body: () throws -> R) rethrows -> R {
        if !isEnabled { return try body() }
        return try withDetailEnabled(label(), flops(), body)
    }

    @usableFromInline
    static func withDetailEnabled<R>(_ label: String, _ flops: Double, _ body: () throws -> R) rethrows -> R {
        guard let owner, pthread_equal(owner, pthread_self()) != 0 else { return try body() }
        let saved = detail
        detail = label
        detailFlops[label, default: 0] += flops
        defer { detail = saved }
        return try body()
    }

    /// Records one fork/join of the pool from `file`:`line` (called by `ThreadPool.run` when
    /// profiling is on; ignored from other threads than the profiling one).
    static func recordJoin(file: StaticString, line: UInt, items: Int, workNanos: UInt64, waitNanos: UInt64,
                           tailNanos: UInt64) {
        updateSite(file: file, line: line) { t in
            t.joins += 1
            t.items += items
            t.workMs += Double(workNanos) / 1e6
            t.waitMs += Double(waitNanos) / 1e6
            t.tailMs += Double(tailNanos) / 1e6
        }
    }

    /// Records a pool loop of one item, run inline on a multi-thread pool (the workers idle).
    static func recordInline(file: StaticString, line: UInt, nanos: UInt64) {
        updateSite(file: file, line: line) { t in
            t.inlineRuns += 1
            t.inlineMs += Double(nanos) / 1e6
        }
    }

    private static func updateSite(file: StaticString, line: UInt, _ change: (inout PoolSiteTotals) -> Void) {
        guard let owner, pthread_equal(owner, pthread_self()) != 0 else { return }
        let site = "\(file):\(line)"
        change(&joins[site, default: PoolSiteTotals(site: site)])
    }

    /// Pool-loop call sites by descending idle time (join wait, loop tail and single-item runs).
    /// Read after `stop`.
    public static func poolSites() -> [PoolSiteTotals] {
        lock.withLock { _ in
            joins.values.sorted { a, b in
                let ia = a.waitMs + a.tailMs + a.inlineMs, ib = b.waitMs + b.tailMs + b.inlineMs
                return ia != ib ? ia > ib : a.site < b.site
            }
        }
    }

    /// Milliseconds and calls recorded so far (profiling stays on).
    public static func snapshot() -> [(kind: OpKind, ms: Double, calls: Int)] {
        OpKind.allCases.map { ($0, Double(totals[$0.rawValue]) / 1e6, calls[$0.rawValue]) }
    }

    /// Runs `body`, charging its exclusive wall time to `kind` when profiling is on.
    @inlinable @inline(__always)
    public static func measure<R>(_ kind: OpKind, _ body: () throws -> R) rethrows -> R {
        if !isEnabled { return try body() }
        return try measured(kind, body)
    }

    @usableFromInline
    static func measured<R>(_ kind: OpKind, _ body: () throws -> R) rethrows -> R {
        guard let owner, pthread_equal(owner, pthread_self()) != 0 else { return try body() }
        childTime.append(0)
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer {
            let elapsed = DispatchTime.now().uptimeNanoseconds &- t0
            let children = childTime.removeLast()
            let exclusive = elapsed &- min(children, elapsed)
            totals[kind.rawValue] &+= exclusive
            calls[kind.rawValue] += 1
            if let detail {
                detailTotals[detail, default: [UInt64](repeating: 0, count: OpKind.allCases.count)][kind.rawValue] &+= exclusive
                detailCalls[detail, default: [Int](repeating: 0, count: OpKind.allCases.count)][kind.rawValue] += 1
            }
            if !childTime.isEmpty { childTime[childTime.count - 1] &+= elapsed }
        }
        return try body()
    }
}

/// One pool-loop call site's fork/joins over a profile (see `OpProfile.poolSites`).
public struct PoolSiteTotals: Sendable {
    public let site: String
    public var joins = 0, items = 0
    /// The calling thread's time in its own items, and idle at the join after them.
    public var workMs = 0.0, waitMs = 0.0
    /// The workers' idle time (mean over workers) between leaving the loop's items and the caller
    /// finishing its own: the imbalance the caller's wait does not show.
    public var tailMs = 0.0
    /// Loops of a single item, run inline by the caller while the workers idle.
    public var inlineRuns = 0, inlineMs = 0.0
}

/// Minor and major page faults of this process so far (getrusage), for faults-per-step figures.
public enum PageFaults {
    public static var minor: Int {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Int(u.ru_minflt)
    }
}
