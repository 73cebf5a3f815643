import Foundation
import Testing
@testable import Search

/// Independent reference: every vector in {1..L}^n checked against the rules written out plainly.
private func bruteForce(cells n: Int, levels L: Int, ushape: Bool) -> [[Int]] {
    var out: [[Int]] = []
    var v = [Int](repeating: 1, count: n)
    while true {
        var ok = v.last == 1
        var prev = 1
        for i in 0..<n where ok {
            let d = v[i] - prev
            if abs(d) > 1 { ok = false }
            if ushape && i < n / 2 && d < 0 { ok = false }
            if ushape && i >= n / 2 && d > 0 { ok = false }
            prev = v[i]
        }
        if ok { out.append(v) }
        var i = n - 1
        while i >= 0 && v[i] == L { v[i] = 1; i -= 1 }
        if i < 0 { break }
        v[i] += 1
    }
    return out
}

@Suite struct TopologyTests {
    @Test func specCountsUShape() {
        #expect(SearchSpace(cells: 12, levels: 4, rule: .ushape).enumerate().count == 662)
        #expect(SearchSpace(cells: 8, levels: 3, rule: .ushape).enumerate().count == 53)
        #expect(SearchSpace(cells: 12, levels: 3, rule: .ushape).enumerate().count == 262)
    }

    @Test func specCountLattice() {
        let space = SearchSpace(cells: 12, levels: 4, rule: .lattice)
        #expect(space.enumerate().count == 14_445)
        #expect(space.count() == 14_445)
    }

    @Test func enumerationMatchesBruteForce() {
        for (n, L) in [(4, 2), (6, 3), (8, 3), (7, 3), (6, 4)] {
            for rule in TopologyRule.allCases {
                let space = SearchSpace(cells: n, levels: L, rule: rule)
                let got = space.enumerate().map(\.levels)
                let want = bruteForce(cells: n, levels: L, ushape: rule == .ushape)
                #expect(got == want, "cells \(n) levels \(L) \(rule)")
                #expect(space.count() == want.count)
            }
        }
    }

    @Test func enumerationIsSortedUniqueAndValid() {
        let space = SearchSpace(cells: 12, levels: 4)
        let all = space.enumerate()
        #expect(all == all.sorted())
        #expect(Set(all).count == all.count)
        #expect(all.allSatisfy { space.contains($0) })
        #expect(all.contains(Architecture.c2fnasPancTopology))
        #expect(all.contains(Architecture.unetTopology))
    }

    @Test func validityNamesTheCell() throws {
        let space = SearchSpace(cells: 12, levels: 4)
        try space.validate(Topology([1, 1, 2, 2, 3, 4, 3, 3, 2, 1, 1, 1]))
        /// nil: valid; .some(cell): invalid, naming that cell (nil cell = whole topology).
        func failingCell(_ levels: [Int]) -> Int?? {
            do { try space.validate(Topology(levels)); return nil } catch let e as TopologyError { return .some(e.cell) } catch { return nil }
        }
        #expect(failingCell([1, 1, 2, 2, 3, 5, 3, 3, 2, 1, 1, 1]) == .some(5))   // level out of range
        #expect(failingCell([1, 1, 3, 3, 3, 3, 3, 3, 2, 1, 1, 1]) == .some(2))   // jump of two
        #expect(failingCell([1, 2, 1, 2, 3, 4, 3, 3, 2, 1, 1, 1]) == .some(2))   // up in the first half
        #expect(failingCell([1, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1]) == .some(7))   // down in the second half
        #expect(failingCell([1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]) == .some(11))  // does not return to level 1
        #expect(failingCell([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1]) == nil)        // starts with a down: valid
        #expect(failingCell([1, 1, 1]) == .some(nil))                             // wrong cell count
        // The lattice accepts what ushape forbids.
        #expect(SearchSpace(cells: 12, levels: 4, rule: .lattice).contains(Topology([1, 2, 1, 2, 3, 4, 3, 3, 2, 1, 1, 1])))
        let message = "\(TopologyError(cell: 5, message: "level 5 is outside 1...4"))"
        #expect(message == "topology[5]: level 5 is outside 1...4")
    }

    @Test func hamming() {
        let a = Topology([1, 1, 2, 2, 3, 4, 3, 3, 2, 1, 1, 1])
        let b = Topology([1, 2, 2, 3, 3, 4, 4, 3, 3, 2, 2, 1])
        // Differences at cells 1, 3, 6, 8, 9, 10.
        #expect(a.hamming(to: b) == 6)
        #expect(b.hamming(to: a) == 6)
        #expect(a.hamming(to: a) == 0)
        let all = SearchSpace(cells: 8, levels: 3).enumerate()
        for x in all.prefix(10) {
            for y in all.suffix(10) {
                for z in all[20..<25] { #expect(x.hamming(to: z) <= x.hamming(to: y) + y.hamming(to: z)) }
            }
        }
    }

    @Test func packedHammingAgreesWithPlain() {
        let all = SearchSpace(cells: 12, levels: 4).enumerate()
        let table = HammingTable(all)
        for i in stride(from: 0, to: all.count, by: 7) {
            for j in stride(from: 0, to: all.count, by: 11) { #expect(table.distance(i, j) == all[i].hamming(to: all[j])) }
        }
    }

    @Test func movesRoundTrip() throws {
        let t = Architecture.c2fnasPancTopology
        let m = try #require(t.moves)
        #expect(m == [.keep, .keep, .down, .keep, .down, .down, .up, .keep, .up, .up, .keep, .keep])
        #expect(Topology(moves: m) == t)
        #expect(Topology([1, 3]).moves == nil)
    }

    @Test func topologyCodesAsBareArray() throws {
        let data = try JSONEncoder().encode(Topology([1, 2, 1]))
        #expect(String(decoding: data, as: UTF8.self) == "[1,2,1]")
        #expect(try JSONDecoder().decode(Topology.self, from: data) == Topology([1, 2, 1]))
    }
}
