import Testing
@testable import Search
import Tensor

@Suite struct KMedoidsTests {
    static let space12 = SearchSpace(cells: 12, levels: 4)
    static let all12 = space12.enumerate()

    @Test func deterministicUnderASeed() throws {
        let a = try KMedoids.pam(Self.all12, k: 4, seed: 11)
        let b = try KMedoids.pam(Self.all12, k: 4, seed: 11)
        #expect(a == b)
        // A different seed may only change tie-breaks; the result is still a valid clustering.
        let c = try KMedoids.pam(Self.all12.reversed(), k: 4, seed: 99)
        #expect(c.k == 4)
    }

    @Test func partitionMedoidsAndAssignment() throws {
        for (items, k) in [(Self.all12, 4), (Self.all12, 8), (SearchSpace(cells: 8, levels: 3).enumerate(), 4)] {
            let cl = try KMedoids.pam(items, k: k, seed: 3)
            #expect(cl.k == k)
            // Every topology lands in exactly one cluster.
            let flat = cl.members.flatMap { $0 }
            #expect(flat.count == items.count && Set(flat) == Set(items))
            var cost = 0
            for (c, members) in cl.members.enumerated() {
                let medoid = cl.medoids[c]
                #expect(Self.space12.contains(medoid) || SearchSpace(cells: 8, levels: 3).contains(medoid))
                #expect(members.contains(medoid))
                for m in members {
                    let own = m.hamming(to: medoid)
                    let nearest = cl.medoids.map { m.hamming(to: $0) }.min()!
                    #expect(own == nearest, "\(m) is closer to another medoid")
                    cost += own
                }
            }
            #expect(cost == cl.cost)
            #expect(KMedoids.cost(of: items, medoids: cl.medoids) == cl.cost)
        }
    }

    @Test func notWorseThanRandomMedoids() throws {
        let cl = try KMedoids.pam(Self.all12, k: 4, seed: 5)
        var rng = RNG(seed: 2024)
        for _ in 0..<30 {
            let random = rng.sample(4, from: Self.all12.count).map { Self.all12[$0] }
            #expect(cl.cost <= KMedoids.cost(of: Self.all12, medoids: random))
        }
    }

    /// SWAP stops only at a local optimum: no single medoid exchange lowers the cost (brute force).
    @Test func swapReachesALocalOptimum() throws {
        let items = SearchSpace(cells: 8, levels: 3).enumerate()
        let cl = try KMedoids.pam(items, k: 4, seed: 8)
        for m in cl.medoids.indices {
            for c in items where !cl.medoids.contains(c) {
                var trial = cl.medoids
                trial[m] = c
                #expect(KMedoids.cost(of: items, medoids: trial) >= cl.cost)
            }
        }
    }

    @Test func singleClusterIsTheTotalDistanceMinimiser() throws {
        let items = SearchSpace(cells: 8, levels: 3).enumerate()
        let cl = try KMedoids.pam(items, k: 1, seed: 0)
        let best = items.map { c in items.reduce(0) { $0 + $1.hamming(to: c) } }.min()!
        #expect(cl.cost == best)
    }

    @Test func errorsAreClear() {
        #expect(throws: ClusteringError.self) { try KMedoids.pam([], k: 2, seed: 0) }
        #expect(throws: ClusteringError.self) { try KMedoids.pam(Self.all12, k: 0, seed: 0) }
        let more = try? KMedoids.pam(Array(Self.all12.prefix(3)), k: 5, seed: 0)
        #expect(more?.k == 3)
    }
}
