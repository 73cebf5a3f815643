/// Which level sequences a search space admits (C2FNAS.md, "Macro search space").
public enum TopologyRule: String, Sendable, Codable, CaseIterable {
    /// The first half of the cells (the first ⌊cells/2⌋) may only keep or go down, the second half
    /// only keep or go up, and the last cell is back at level 1. 12 cells / 4 levels: 662 topologies.
    case ushape
    /// Any path of ±1/0 moves inside 1...levels that ends at level 1. 12 cells / 4 levels: 14,445.
    case lattice
}

/// Why a topology is not in a search space; `cell` is 0-based (nil for whole-topology problems).
public struct TopologyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var cell: Int?
    public var message: String
    public var description: String {
        if let cell { return "topology[\(cell)]: \(message)" }
        return "topology: \(message)"
    }
}

/// The coarse stage's search space: `cells` cells over `levels` levels under a rule.
///
/// The counts in the spec follow from the plain reading of the rules (no reinterpretation was
/// needed): with m = cells/2, a `ushape` topology is k downs among the first m moves and k ups
/// among the last m, so there are Σ_{k=0}^{levels-1} C(m,k)² of them: 1+36+225+400 = 662 for
/// 12/4, 1+16+36 = 53 for 8/3, 1+36+225 = 262 for 12/3. `lattice` is a Motzkin-like path count
/// (14,445 for 12/4). Both include the path that never leaves level 1.
public struct SearchSpace: Sendable, Codable, Hashable {
    public var cells: Int
    public var levels: Int
    public var rule: TopologyRule

    public init(cells: Int, levels: Int, rule: TopologyRule = .ushape) {
        self.cells = cells
        self.levels = levels
        self.rule = rule
    }

    /// Cells 0..<firstHalf may only keep or go down under `ushape`; the rest only keep or go up.
    public var firstHalf: Int { cells / 2 }

    /// Whether `move` is allowed for cell `cell` by the rule (level range not considered).
    func allows(_ move: Move, at cell: Int) -> Bool {
        switch rule {
        case .lattice: true
        case .ushape: cell < firstHalf ? move != .up : move != .down
        }
    }

    /// Throws a `TopologyError` naming the first offending cell.
    public func validate(_ t: Topology) throws {
        guard cells >= 1, levels >= 1 else {
            throw TopologyError(cell: nil, message: "search space needs at least one cell and one level")
        }
        guard t.cellCount == cells else {
            throw TopologyError(cell: nil, message: "has \(t.cellCount) cells, the space has \(cells)")
        }
        var prev = Topology.stemLevel
        for (i, l) in t.levels.enumerated() {
            guard (1...levels).contains(l) else {
                throw TopologyError(cell: i, message: "level \(l) is outside 1...\(levels)")
            }
            guard let move = Move(rawValue: l - prev) else {
                throw TopologyError(cell: i, message: "jumps from level \(prev) to \(l); consecutive cells differ by at most one level")
            }
            guard allows(move, at: i) else {
                let half = i < firstHalf ? "first" : "second"
                throw TopologyError(cell: i, message: "goes \(move) in the \(half) half, which `ushape` forbids")
            }
            prev = l
        }
        guard prev == Topology.stemLevel else {
            throw TopologyError(cell: cells - 1, message: "last cell is at level \(prev); it must be back at level 1")
        }
    }

    public func contains(_ t: Topology) -> Bool { (try? validate(t)) != nil }

    /// Every valid topology, in lexicographic order of the level vectors.
    public func enumerate() -> [Topology] {
        guard cells >= 1, levels >= 1 else { return [] }
        var out: [Topology] = []
        var path = [Int](repeating: 0, count: cells)
        func visit(_ i: Int, _ prev: Int) {
            // Prune: from level `prev` the remaining cells must be able to return to level 1.
            if prev - Topology.stemLevel > cells - i { return }
            if i == cells {
                if prev == Topology.stemLevel { out.append(Topology(path)) }
                return
            }
            for move in [Move.up, .keep, .down] where allows(move, at: i) {
                let l = prev + move.rawValue
                guard (1...levels).contains(l) else { continue }
                path[i] = l
                visit(i + 1, l)
            }
        }
        visit(0, Topology.stemLevel)
        return out
    }

    /// Number of valid topologies by dynamic programming (no enumeration; fine for large spaces).
    public func count() -> Int {
        guard cells >= 1, levels >= 1 else { return 0 }
        var ways = [Int](repeating: 0, count: levels + 2)
        ways[Topology.stemLevel] = 1
        for i in 0..<cells {
            var next = [Int](repeating: 0, count: levels + 2)
            for l in 1...levels where ways[l] != 0 {
                for move in Move.allCases where allows(move, at: i) {
                    let n = l + move.rawValue
                    if (1...levels).contains(n) { next[n] += ways[l] }
                }
            }
            ways = next
        }
        return ways[Topology.stemLevel]
    }
}
