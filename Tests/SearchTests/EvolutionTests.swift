import Foundation
import Testing
@testable import Search
import Tensor

@Suite struct EvolutionTests {
    static let space = SearchSpace(cells: 12, levels: 4)
    static let clustering = try! KMedoids.pam(space.enumerate(), k: 4, seed: 1)
    static let settings = NetworkSettings(baseWidth: 4, inputChannels: 1, classes: 2, patch: [16, 16, 16])

    static func state(cluster: Int = 0, seed: UInt64, config: EvolutionConfig) throws -> EvolutionState {
        try EvolutionState(space: space, clustering: clustering, cluster: cluster, settings: settings, config: config, seed: seed)
    }

    /// Synthetic fitness: minus the Hamming distance to a hidden target inside the cluster.
    static func target(cluster: Int, seed: UInt64) -> Topology {
        var rng = RNG(seed: seed ^ 0xABCD)
        return rng.element(of: clustering.members[cluster])!
    }

    @Test func neverScoresATopologyTwice() throws {
        var s = try Self.state(seed: 3, config: EvolutionConfig(populationSize: 8, generations: 40))
        var calls: [Topology: Int] = [:]
        let members = Set(Self.clustering.members[0])
        try s.run { t in
            calls[t, default: 0] += 1
            return Double(t.levels.reduce(0, +))
        }
        #expect(calls.values.allSatisfy { $0 == 1 })
        #expect(calls.count == s.candidates.count)
        #expect(s.candidates.allSatisfy { members.contains($0.topology) && $0.cluster == 0 })
        #expect(s.population.count == 8 && s.generation == 40 && s.isFinished)
        // Ages: the population is oldest first.
        #expect(s.population.map(\.born) == s.population.map(\.born).sorted())
        #expect(s.candidates.allSatisfy { $0.parameters > 0 && $0.macs > 0 && $0.memoryBytes > 0 })
        #expect(s.candidates.allSatisfy { $0.ops == Array(repeating: .conv3D, count: 12) })
        #expect(try s.step { _ in 0 } == [])   // finished: nothing more to do
    }

    /// Over 100 runs (4 clusters x 25 seeds) with P = 8 the target was first scored after a median
    /// of 13 generations (90th percentile 40, worst 87), so the budget is G = 100. Random search
    /// would need about half the cluster (~83 evaluations) on average.
    @Test func findsTheClusterOptimum() throws {
        var evaluationsToTarget: [Int] = []
        for cluster in 0..<Self.clustering.k {
            for seed: UInt64 in [1, 2, 3] {
                let target = Self.target(cluster: cluster, seed: seed)
                var s = try Self.state(cluster: cluster, seed: seed, config: EvolutionConfig(populationSize: 8, generations: 100))
                try s.run { t in -Double(t.hamming(to: target)) }
                #expect(s.best?.topology == target, "cluster \(cluster) seed \(seed)")
                #expect(s.best?.fitness == 0)
                #expect(s.candidates.count <= 108)
                if let i = s.candidates.firstIndex(where: { $0.topology == target }) { evaluationsToTarget.append(i + 1) }
            }
        }
        let mean = Double(evaluationsToTarget.reduce(0, +)) / Double(evaluationsToTarget.count)
        let halfCluster = Double(Self.clustering.members.map(\.count).min()!) / 2
        #expect(mean < halfCluster, "mean evaluations \(mean)")
    }

    @Test func reproducibleUnderASeed() throws {
        let target = Self.target(cluster: 1, seed: 9)
        let fitness = { (t: Topology) in -Double(t.hamming(to: target)) }
        let config = EvolutionConfig(populationSize: 8, generations: 25)
        var a = try Self.state(cluster: 1, seed: 9, config: config)
        var b = try Self.state(cluster: 1, seed: 9, config: config)
        try a.run(fitness: fitness)
        try b.run(fitness: fitness)
        #expect(a == b)
        var c = try Self.state(cluster: 1, seed: 10, config: config)
        try c.run(fitness: fitness)
        #expect(c.candidates.map(\.topology) != a.candidates.map(\.topology))
    }

    @Test func resumesFromJSONLikeAnUninterruptedRun() throws {
        let target = Self.target(cluster: 2, seed: 4)
        let fitness = { (t: Topology) in -Double(t.hamming(to: target)) + 0.001 * Double(t.levels[3]) }
        let config = EvolutionConfig(populationSize: 6, generations: 20)
        var whole = try Self.state(cluster: 2, seed: 4, config: config)
        try whole.run(fitness: fitness)

        var part = try Self.state(cluster: 2, seed: 4, config: config)
        for _ in 0..<7 { try part.step(fitness: fitness) }   // initial population + 6 generations
        #expect(part.generation == 6)
        let data = try JSONEncoder().encode(part)
        var resumed = try JSONDecoder().decode(EvolutionState.self, from: data)
        #expect(resumed == part)
        try resumed.run(fitness: fitness)
        #expect(resumed == whole)
    }

    /// A failing fitness call leaves the state retryable: the retry continues exactly like a run
    /// without the failure and still scores nothing twice.
    @Test func retryAfterAFailedFitnessCall() throws {
        struct Flaky: Error {}
        let target = Self.target(cluster: 3, seed: 5)
        let config = EvolutionConfig(populationSize: 8, generations: 15)
        var whole = try Self.state(cluster: 3, seed: 5, config: config)
        try whole.run { -Double($0.hamming(to: target)) }

        var s = try Self.state(cluster: 3, seed: 5, config: config)
        var calls: [Topology: Int] = [:]
        var failures = 0
        var n = 0
        while !s.isFinished {
            do {
                try s.step { t in
                    n += 1
                    if n % 5 == 0 { failures += 1; throw Flaky() }
                    calls[t, default: 0] += 1
                    return -Double(t.hamming(to: target))
                }
            } catch is Flaky {}
        }
        #expect(failures > 2)
        #expect(calls.values.allSatisfy { $0 == 1 })
        #expect(s == whole)
    }

    @Test func rejectsBadSetupsAndFitness() throws {
        #expect(throws: EvolutionError.self) {
            try EvolutionState(space: Self.space, members: [], cluster: 0, settings: Self.settings, seed: 0)
        }
        #expect(throws: EvolutionError.self) {
            try EvolutionState(space: Self.space, members: [Topology([1, 3, 1])], cluster: 0, settings: Self.settings, seed: 0)
        }
        let badPatch = NetworkSettings(baseWidth: 4, inputChannels: 1, classes: 2, patch: [20, 16, 16])
        #expect(throws: EvolutionError.self) {
            try EvolutionState(space: Self.space, clustering: Self.clustering, cluster: 0, settings: badPatch, seed: 0)
        }
        var s = try Self.state(seed: 1, config: EvolutionConfig(populationSize: 4, generations: 2))
        #expect(throws: EvolutionError.self) { try s.step { _ in .nan } }
    }

    @Test func smallClusterAndSingleton() throws {
        // A cluster smaller than P: the population is the whole cluster.
        let members = Array(Self.clustering.members[0].prefix(3))
        var s = try EvolutionState(space: Self.space, members: members, cluster: 0, settings: Self.settings,
                                   config: EvolutionConfig(populationSize: 8, generations: 5), seed: 2)
        try s.run { Double($0.levels[1]) }
        #expect(Set(s.candidates.map(\.topology)).isSubset(of: Set(members)))
        #expect(s.population.count == 3)
        // A singleton cluster: the child is the parent itself, never scored again.
        var one = try EvolutionState(space: Self.space, members: [members[0]], cluster: 0, settings: Self.settings,
                                     config: EvolutionConfig(populationSize: 8, generations: 3), seed: 2)
        var calls = 0
        try one.run { _ in calls += 1; return 1 }
        #expect(calls == 1 && one.population.count == 1)
    }

    @Test func candidateOrderingAndCodable() throws {
        let cost = CostEstimate(parameters: 10, macs: 100, memoryBytes: 1000, activationBytes: 0, gradientBytes: 0,
                                parameterStateBytes: 0, workspaceBytes: 0)
        var cheap = cost
        cheap.macs = 50
        let a = Candidate(topology: Topology([1, 1]), ops: [.conv3D, .conv3D], fitness: 0.7, cost: cost, cluster: 0, generation: 1)
        let b = Candidate(topology: Topology([2, 1]), ops: [.conv3D, .conv3D], fitness: 0.7, cost: cheap, cluster: 1, generation: 2)
        let c = Candidate(topology: Topology([1, 1]), ops: [.conv3D, .conv3D], fitness: 0.8, cost: cost, cluster: 0, generation: 3)
        #expect(b.isBetter(than: a))       // tie on fitness: fewer MACs wins
        #expect(Candidate.best(of: [a, b, c]) == c)
        let back = try JSONDecoder().decode([Candidate].self, from: JSONEncoder().encode([a, b, c]))
        #expect(back == [a, b, c])
    }
}
