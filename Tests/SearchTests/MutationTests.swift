import Testing
@testable import Search
import Tensor

@Suite struct MutationTests {
    @Test func neighboursAreValidDistinctChildren() {
        for space in [SearchSpace(cells: 8, levels: 3), SearchSpace(cells: 12, levels: 4),
                      SearchSpace(cells: 8, levels: 3, rule: .lattice)] {
            for t in space.enumerate() {
                let near = space.neighbours(of: t)
                #expect(near.allSatisfy { space.contains($0) && $0 != t })
                #expect(Set(near).count == near.count)
            }
        }
    }

    /// ushape, 4 cells, 2 levels (cells 0-1 keep/down, cells 2-3 keep/up). [1,2,2,1] has the
    /// moves keep, down, keep, up. Shifts: swap 0/1 → down,keep,keep,up = [2,2,2,1]; swap 1/2 puts
    /// a down in the second half (invalid); swap 2/3 → keep,down,up,keep = [1,2,1,1]. Adding a pair
    /// on the keeps 0 and 2 gives down,down,up,up = [2,3,2,1], above level 2 (invalid), and the
    /// up-first order breaks the halves. Removing the pair gives [1,1,1,1].
    @Test func handNeighbourhood() {
        let near = SearchSpace(cells: 4, levels: 2).neighbours(of: Topology([1, 2, 2, 1]))
        #expect(near == [Topology([1, 1, 1, 1]), Topology([1, 2, 1, 1]), Topology([2, 2, 2, 1])])
        // With 3 levels the added pair fits.
        let near3 = SearchSpace(cells: 4, levels: 3).neighbours(of: Topology([1, 2, 2, 1]))
        #expect(near3 == [Topology([1, 1, 1, 1]), Topology([1, 2, 1, 1]), Topology([2, 2, 2, 1]), Topology([2, 3, 2, 1])])
    }

    @Test func proposalsStayInTheNeighbourhood() {
        let space = SearchSpace(cells: 12, levels: 4)
        var rng = RNG(seed: 7)
        for t in space.enumerate().prefix(80) {
            let near = Set(space.neighbours(of: t))
            for _ in 0..<30 {
                guard let c = space.proposeMutation(of: t, using: &rng) else { continue }
                // Every proposal keeps the net displacement, so it ends at level 1 again ...
                #expect(c.levels.last == 1)
                // ... and, when valid and different, it is one of the enumerated neighbours.
                if c != t && space.contains(c) { #expect(near.contains(c)) }
            }
            if let c = space.mutate(t, using: &rng) {
                #expect(space.contains(c) && c != t)
            }
        }
    }

    @Test func shiftChangesOneCell() {
        // C2FNAS-Panc: swapping the keep of cell 1 with the down of cell 2 changes only cell 1.
        let space = SearchSpace(cells: 12, levels: 4)
        let t = Architecture.c2fnasPancTopology
        let child = Topology([1, 2, 2, 2, 3, 4, 3, 3, 2, 1, 1, 1])
        #expect(space.neighbours(of: t).contains(child))
        #expect(child.hamming(to: t) == 1)
    }

    /// Every topology can reach every other through mutations, so evolution can find any optimum.
    @Test func mutationGraphIsConnected() {
        let space = SearchSpace(cells: 12, levels: 4)
        let all = space.enumerate()
        var seen: Set<Topology> = [all[0]]
        var frontier = [all[0]]
        while let t = frontier.popLast() {
            for n in space.neighbours(of: t) where seen.insert(n).inserted { frontier.append(n) }
        }
        #expect(seen.count == all.count)
    }

    @Test func mutateRespectsAccept() {
        let space = SearchSpace(cells: 8, levels: 3)
        var rng = RNG(seed: 1)
        let t = Topology([1, 1, 2, 2, 2, 2, 1, 1])
        let c = space.mutate(t, using: &rng) { $0.levels[0] == 1 }
        #expect(c.map { $0.levels[0] == 1 && space.contains($0) } == true)
        #expect(space.mutate(t, using: &rng, maxAttempts: 20) { _ in false } == nil)
    }
}
