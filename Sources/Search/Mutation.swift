import Tensor

/// The coarse stage's mutation moves (C2FNAS.md, "Coarse search" step 5), in move space: a
/// topology is the sequence of its cells' moves (down / keep / up) from the stem.
///
/// - `shift`: swap two adjacent, different moves, i.e. move one down or up step one cell earlier
///   or later. It changes exactly one cell's level.
/// - `addPair`: turn two keeps into a matched down/up pair (in either order; the rule decides
///   which orders survive, e.g. `ushape` only keeps down-then-up).
/// - `removePair`: turn one down and one up into keeps.
/// Every move keeps the net displacement, so children still end at the stem level; they can still
/// leave the level range or break the `ushape` halves, which is why proposals are validated.
public enum MutationKind: String, Sendable, Codable, CaseIterable {
    case shift, addPair, removePair
}

extension SearchSpace {
    /// One random mutation of `t`, drawn uniformly over the applicable kinds and then uniformly
    /// within the kind. The result may be invalid (the caller re-draws); nil when `t` is not a path
    /// or no move applies.
    public func proposeMutation(of t: Topology, using rng: inout RNG) -> Topology? {
        guard var m = t.moves else { return nil }
        let shifts = m.indices.dropLast().filter { m[$0] != m[$0 + 1] }
        let keeps = m.indices.filter { m[$0] == .keep }
        let downs = m.indices.filter { m[$0] == .down }
        let ups = m.indices.filter { m[$0] == .up }
        var kinds: [MutationKind] = []
        if !shifts.isEmpty { kinds.append(.shift) }
        if keeps.count >= 2 { kinds.append(.addPair) }
        if !downs.isEmpty && !ups.isEmpty { kinds.append(.removePair) }
        guard let kind = rng.element(of: kinds) else { return nil }
        switch kind {
        case .shift:
            let i = shifts[rng.int(below: shifts.count)]
            m.swapAt(i, i + 1)
        case .addPair:
            let pick = rng.sample(2, from: keeps.count)
            let (i, j) = (keeps[min(pick[0], pick[1])], keeps[max(pick[0], pick[1])])
            let downFirst = rng.int(below: 2) == 0
            m[i] = downFirst ? .down : .up
            m[j] = downFirst ? .up : .down
        case .removePair:
            m[downs[rng.int(below: downs.count)]] = .keep
            m[ups[rng.int(below: ups.count)]] = .keep
        }
        return Topology(moves: m)
    }

    /// Every valid topology one mutation away from `t` (excluding `t`), sorted.
    public func neighbours(of t: Topology) -> [Topology] {
        guard let m = t.moves else { return [] }
        var found = Set<Topology>()
        func consider(_ c: [Move]) {
            let child = Topology(moves: c)
            if child != t && contains(child) { found.insert(child) }
        }
        for i in m.indices.dropLast() where m[i] != m[i + 1] {
            var c = m
            c.swapAt(i, i + 1)
            consider(c)
        }
        let keeps = m.indices.filter { m[$0] == .keep }
        for a in keeps.indices {
            for b in keeps.indices where b > a {
                for downFirst in [true, false] {
                    var c = m
                    c[keeps[a]] = downFirst ? .down : .up
                    c[keeps[b]] = downFirst ? .up : .down
                    consider(c)
                }
            }
        }
        for i in m.indices where m[i] == .down {
            for j in m.indices where m[j] == .up {
                var c = m
                c[i] = .keep
                c[j] = .keep
                consider(c)
            }
        }
        return found.sorted()
    }

    /// A valid child of `t` that `accept` also approves (e.g. "stays in the cluster"), re-drawing
    /// rejected proposals up to `maxAttempts` times; nil if none was found.
    public func mutate(_ t: Topology, using rng: inout RNG, maxAttempts: Int = 100,
                       accept: (Topology) -> Bool = { _ in true }) -> Topology? {
        for _ in 0..<max(1, maxAttempts) {
            guard let child = proposeMutation(of: t, using: &rng) else { return nil }
            if child != t && contains(child) && accept(child) { return child }
        }
        return nil
    }
}
