/// The macro topology of a network: the level of each cell (level 1 = half the input resolution,
/// the stem's output; level l = 1/2^l of the input). The stem sits at level 1 and counts as step 0,
/// so cell `i` (0-based) moves from the level of output `i` (the stem for i = 0) to `levels[i]`.
///
/// A `Topology` is a plain value; whether it belongs to a search space is `SearchSpace`'s question.
public struct Topology: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Level of each cell, 1-based (1...levels of the space).
    public var levels: [Int]

    public init(_ levels: [Int]) { self.levels = levels }

    /// The stem's level: cells start from here.
    public static let stemLevel = 1

    public var cellCount: Int { levels.count }

    /// Level of output `step` where step 0 is the stem and step i+1 is cell i.
    public func level(atStep step: Int) -> Int { step == 0 ? Topology.stemLevel : levels[step - 1] }

    /// Level of the output feeding cell `cell` (the previous cell, or the stem for cell 0).
    public func previousLevel(of cell: Int) -> Int { level(atStep: cell) }

    /// The move of each cell relative to its predecessor. `nil` where two consecutive levels
    /// differ by more than one (not a path at all).
    public var moves: [Move]? {
        var out: [Move] = []
        out.reserveCapacity(levels.count)
        var prev = Topology.stemLevel
        for l in levels {
            guard let m = Move(rawValue: l - prev) else { return nil }
            out.append(m)
            prev = l
        }
        return out
    }

    /// Rebuilds the levels from moves starting at the stem (may leave the level range: check it).
    public init(moves: [Move]) {
        var l = Topology.stemLevel
        levels = moves.map { l += $0.rawValue; return l }
    }

    /// Number of cells placed at different levels (the similarity measure of the coarse stage).
    public func hamming(to other: Topology) -> Int {
        precondition(levels.count == other.levels.count, "Hamming distance needs equal cell counts")
        var d = 0
        for i in levels.indices where levels[i] != other.levels[i] { d += 1 }
        return d
    }

    public static func < (a: Topology, b: Topology) -> Bool { a.levels.lexicographicallyPrecedes(b.levels) }

    public var description: String { levels.map(String.init).joined(separator: ",") }

    // Encoded as a bare array of levels, e.g. [1,1,2,2,3,4,3,3,2,1,1,1].
    public init(from decoder: any Decoder) throws {
        levels = try decoder.singleValueContainer().decode([Int].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(levels)
    }
}

/// How a cell's level relates to its predecessor's. "Down" goes deeper (coarser resolution,
/// level + 1), as in the paper's U-shaped pictures; "up" goes back towards the input.
public enum Move: Int, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case up = -1
    case keep = 0
    case down = 1

    public var description: String {
        switch self {
        case .up: "up"
        case .keep: "keep"
        case .down: "down"
        }
    }
}
