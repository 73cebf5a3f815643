import Tensor

/// The result of clustering a search space: K clusters, each around a medoid that is itself one
/// of the clustered topologies (so it is valid).
public struct Clustering: Sendable, Codable, Hashable {
    /// One medoid per cluster; clusters are numbered in lexicographic order of their medoids.
    public var medoids: [Topology]
    /// Members of each cluster (sorted; every member is at least as close to its own medoid as to
    /// any other, ties going to the lower cluster number). Each medoid is a member of its cluster.
    public var members: [[Topology]]
    /// Total Hamming distance of every topology to its medoid (what PAM minimises).
    public var cost: Int

    public var k: Int { medoids.count }

    /// The cluster holding `t`, or nil if `t` was not clustered.
    public func cluster(of t: Topology) -> Int? {
        members.firstIndex { $0.contains(t) }
    }
}

public struct ClusteringError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { "clustering: \(message)" }
}

/// Hamming distances over a fixed list of topologies. Levels are packed 4 bits a cell into one
/// word when they fit (≤ 16 cells, levels ≤ 15), so a distance is a xor and a popcount.
struct HammingTable {
    let count: Int
    private let packed: [UInt64]?
    private let topologies: [Topology]

    init(_ items: [Topology]) {
        count = items.count
        topologies = items
        let fits = items.allSatisfy { $0.cellCount <= 16 && $0.levels.allSatisfy { (0...15).contains($0) } }
        packed = fits ? items.map { t in
            t.levels.enumerated().reduce(UInt64(0)) { $0 | (UInt64($1.element) << (4 * UInt64($1.offset))) }
        } : nil
    }

    @inline(__always) func distance(_ i: Int, _ j: Int) -> Int {
        if let packed {
            let x = packed[i] ^ packed[j]
            let nibbles = (x | (x >> 1) | (x >> 2) | (x >> 3)) & 0x1111_1111_1111_1111
            return nibbles.nonzeroBitCount
        }
        return topologies[i].hamming(to: topologies[j])
    }
}

/// k-medoids by PAM (Kaufman & Rousseeuw): BUILD picks medoids greedily, SWAP then applies the
/// best (medoid, non-medoid) exchange while it lowers the total distance. SWAP evaluates all k
/// exchanges of one candidate in a single pass (the FastPAM1 bookkeeping of Schubert & Rousseeuw
/// 2019), which finds the same best swap as the classic loop, k times faster.
///
/// The seed only breaks ties: candidates are visited in a seeded random order and a candidate
/// must be strictly better to win, so equal-cost choices go to the earliest in that order. The
/// result is a pure function of (items, k, seed).
public enum KMedoids {
    public static func pam(_ items: [Topology], k: Int, seed: UInt64, maxSwaps: Int = 10_000) throws -> Clustering {
        guard !items.isEmpty else { throw ClusteringError(message: "nothing to cluster (empty topology list)") }
        guard k >= 1 else { throw ClusteringError(message: "k must be at least 1, got \(k)") }
        guard Set(items).count == items.count else { throw ClusteringError(message: "the topology list has duplicates") }
        let table = HammingTable(items)
        let n = items.count
        var rng = RNG(seed: seed)
        var order = Array(0..<n)
        rng.shuffle(&order)

        var medoids = build(table, k: min(k, n), order: order)
        swap(table, medoids: &medoids, order: order, maxSwaps: maxSwaps)
        return makeClustering(items, table: table, medoidIndices: medoids)
    }

    /// Total distance of every item to its nearest medoid (medoids given as topologies).
    public static func cost(of items: [Topology], medoids: [Topology]) -> Int {
        items.reduce(0) { sum, t in sum + medoids.map { t.hamming(to: $0) }.min()! }
    }

    static func build(_ table: HammingTable, k: Int, order: [Int]) -> [Int] {
        let n = table.count
        // First medoid: the item with the smallest total distance to all others.
        var best = -1, bestSum = Int.max
        for c in order {
            var s = 0
            for o in 0..<n { s += table.distance(c, o) }
            if s < bestSum { bestSum = s; best = c }
        }
        var medoids = [best]
        var isMedoid = [Bool](repeating: false, count: n)
        isMedoid[best] = true
        var nearest = (0..<n).map { table.distance($0, best) }
        while medoids.count < k {
            var pick = -1, pickGain = -1
            for c in order where !isMedoid[c] {
                var gain = 0
                for o in 0..<n { gain += max(nearest[o] - table.distance(o, c), 0) }
                if gain > pickGain { pickGain = gain; pick = c }
            }
            medoids.append(pick)
            isMedoid[pick] = true
            for o in 0..<n { nearest[o] = min(nearest[o], table.distance(o, pick)) }
        }
        return medoids
    }

    static func swap(_ table: HammingTable, medoids: inout [Int], order: [Int], maxSwaps: Int) {
        let n = table.count, k = medoids.count
        guard k < n else { return }
        var nearestSlot = [Int](repeating: 0, count: n)
        var dNearest = [Int](repeating: 0, count: n)
        var dSecond = [Int](repeating: 0, count: n)
        var deltas = [Int](repeating: 0, count: k)
        for _ in 0..<maxSwaps {
            // Nearest and second-nearest medoid distance of every item.
            for o in 0..<n {
                var b = Int.max, s = Int.max, slot = 0
                for (m, mi) in medoids.enumerated() {
                    let d = table.distance(o, mi)
                    if d < b { s = b; b = d; slot = m } else if d < s { s = d }
                }
                // With k = 1 there is no second medoid: any bound above every distance makes the
                // FastPAM1 sums exact (it cancels out).
                nearestSlot[o] = slot; dNearest[o] = b; dSecond[o] = s == Int.max ? 1 << 32 : s
            }
            // Removal loss of each medoid: its items fall back to their second-nearest medoid.
            var removal = [Int](repeating: 0, count: k)
            for o in 0..<n { removal[nearestSlot[o]] += dSecond[o] - dNearest[o] }
            var isMedoid = [Bool](repeating: false, count: n)
            for m in medoids { isMedoid[m] = true }

            var bestDelta = 0, bestSlot = -1, bestCandidate = -1
            for c in order where !isMedoid[c] {
                for m in 0..<k { deltas[m] = removal[m] }
                var shared = 0
                for o in 0..<n {
                    let d = table.distance(o, c)
                    let slot = nearestSlot[o]
                    if d < dNearest[o] {
                        shared += d - dNearest[o]
                        deltas[slot] += dNearest[o] - dSecond[o]
                    } else if d < dSecond[o] {
                        deltas[slot] += d - dSecond[o]
                    }
                }
                for m in 0..<k where deltas[m] + shared < bestDelta {
                    bestDelta = deltas[m] + shared; bestSlot = m; bestCandidate = c
                }
            }
            guard bestSlot >= 0 else { return }
            medoids[bestSlot] = bestCandidate
        }
    }

    static func makeClustering(_ items: [Topology], table: HammingTable, medoidIndices: [Int]) -> Clustering {
        // Number clusters by medoid order so numbering does not depend on BUILD's pick order.
        let sortedMedoids = medoidIndices.sorted { items[$0] < items[$1] }
        var members = [[Topology]](repeating: [], count: sortedMedoids.count)
        var cost = 0
        for o in items.indices {
            var best = 0, bestD = Int.max
            for (slot, m) in sortedMedoids.enumerated() {
                let d = table.distance(o, m)
                if d < bestD { bestD = d; best = slot }
            }
            members[best].append(items[o])
            cost += bestD
        }
        return Clustering(medoids: sortedMedoids.map { items[$0] }, members: members.map { $0.sorted() }, cost: cost)
    }
}
