import Foundation
import NN
import Tensor
import Search
import Volume

extension SearchEngine {
    /// After the coarse stage, before selection: times one inference window of every scored
    /// candidate (stand-alone network at the search width, seeded weights, one warm-up pass, median
    /// of three) and re-emits the candidates with their latency, so the Pareto view has all four
    /// costs. Latency is shown, never used for a choice (it depends on the machine's load).
    func measureCandidateLatencies() throws {
        guard progress.latencies == nil, !progress.candidates.isEmpty else { return }
        let data = try trainingData()
        let settings = networkSettings(data)
        let p = data.plan.patch
        var rng = SeedDomain.calibration.rng(config.seed, 7)
        let input = Tensor(shape: [1, data.channels, p.z, p.y, p.x],
                           scalars: (0..<(data.channels * p.count)).map { _ in Float(rng.gaussian()) })
        var latencies: [String: Double] = [:]
        var seen: [String: Candidate] = [:]
        for c in progress.candidates { seen[candidateID(c)] = c }
        let ids = seen.keys.sorted()
        emit(.stageStarted(stage: .selection, detail: "timing one inference window of \(ids.count) candidates"))
        for (i, id) in ids.enumerated() {
            try checkStop()
            let c = seen[id]!
            let arch = settings.architecture(name: id, topology: c.topology, ops: c.ops, levels: config.levels)
            let net = GraphNetwork(graph: try NetworkGraph(arch), store: ParameterStore(seed: config.seed))
            _ = noGrad { net(Variable(input)) }
            var times: [Double] = []
            for _ in 0..<3 {
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = noGrad { net(Variable(input)) }
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            latencies[id] = times.sorted()[1]
            let r = CandidateRecord(id: id, cluster: c.cluster, generation: c.generation, levels: c.topology.levels,
                                    ops: c.ops.map(\.rawValue), fitness: c.fitness, params: c.parameters,
                                    macs: Double(c.macs), memoryBytes: Double(c.memoryBytes), latencyMs: latencies[id])
            emit(.candidate(r))
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            if let line = try? enc.encode(r) { append(String(decoding: line, as: UTF8.self), to: work.candidates) }
            emit(.progress(done: i + 1, total: ids.count, label: "latency"))
        }
        progress.latencies = latencies
        try checkpoint([:])
    }

    /// The config's candidate budget (the coarse stage excludes candidates it does not admit).
    var candidateBudget: CandidateBudget { CandidateBudget(maxMemoryMB: config.maxMemoryMB, maxMACs: config.maxMACs) }

    /// The members of a cluster that fit the budget (cost with the coarse op at the search width,
    /// calibrated memory model, as the candidates record it); the excluded ones are never trained
    /// in the supernet nor scored, since evolution rejects children outside the member list.
    /// Logs how many were excluded and why the first one was.
    func admittedMembers(_ members: [Topology], settings: NetworkSettings) throws -> [Topology] {
        let budget = candidateBudget
        guard !budget.isUnlimited else { return members }
        var kept: [Topology] = [], firstReason: String?
        for t in members {
            let arch = settings.architecture(name: "candidate", topology: t, ops: [CellOp](repeating: coarseOp, count: t.cellCount),
                                             levels: config.levels)
            if let why = budget.rejection(try NetworkGraph(arch).cost(memory: .calibrated)) {
                firstReason = firstReason ?? "\(t): \(why)"
            } else {
                kept.append(t)
            }
        }
        if let firstReason {
            log("budget: \(members.count - kept.count) of \(members.count) topologies excluded before scoring (e.g. \(firstReason))",
                kept.isEmpty ? .warning : .info)
        }
        return kept
    }
}
