import Testing
import NN
@testable import Search

/// The coarse stage's weight-sharing supernet on the NN engine (issue 5, item 2): paths of one
/// cluster share the Parameter objects of common (cell, level, input kind) nodes, training one
/// path moves the other, and a path touches only its own weights.
@Suite struct WeightSharingTests {
    static let settings = NetworkSettings(baseWidth: 2, inputChannels: 1, classes: 2, patch: [8, 16, 16])

    /// Shared-name prefixes of the (cell, level, input kind) nodes of a topology's graph, e.g.
    /// "cells.2.L3.prevDown" (the resample and op blocks of one cell input).
    static func cellNodes(_ g: NetworkGraph) -> Set<String> {
        Set(g.blocks.filter { $0.role == .cellOp }.map { String($0.sharedName.dropLast(".op".count)) })
    }

    /// A real cluster of the tiny space (8 cells, 3 levels, k = 4) and, from it, the first pair
    /// (in sorted order) that shares some cell node while the second uses a node the first lacks.
    static func clusterPair() throws -> (members: [Topology], a: Topology, b: Topology, onlyB: String) {
        let space = SearchSpace(cells: 8, levels: 3)
        let clustering = try KMedoids.pam(space.enumerate(), k: 4, seed: 1)
        let members = clustering.members.max { $0.count < $1.count }!.sorted()
        func graph(_ t: Topology) throws -> NetworkGraph {
            try NetworkGraph(settings.architecture(name: "t", topology: t, ops: Array(repeating: .conv3D, count: 8), levels: 3))
        }
        for a in members {
            for b in members where b != a {
                let na = cellNodes(try graph(a)), nb = cellNodes(try graph(b))
                if !na.isDisjoint(with: nb), let only = nb.subtracting(na).sorted().first {
                    return (members, a, b, only)
                }
            }
        }
        throw GraphError(name: "cluster", message: "no pair with shared and private nodes")
    }

    @Test func pathsOfOneClusterShareParameterObjects() throws {
        let (members, ta, tb, _) = try Self.clusterPair()
        let supernet = try SupernetModel(members: members, settings: Self.settings, levels: 3, seed: 5)
        let a = try supernet.network(for: ta), b = try supernet.network(for: tb)
        #expect(try supernet.network(for: ta) === a, "paths are cached")
        let byName = { (ps: [Parameter]) in Dictionary(uniqueKeysWithValues: ps.map { ($0.name, $0) }) }
        let pa = byName(a.parameters), pb = byName(b.parameters)
        let common = Self.cellNodes(a.graph).intersection(Self.cellNodes(b.graph))
        #expect(!common.isEmpty)
        var checked = 0
        for node in common {
            let names = pa.keys.filter { $0.hasPrefix(node + ".") }
            #expect(!names.isEmpty)
            for name in names {
                let p = try #require(pb[name], "\(name) missing from the second path")
                #expect(p === pa[name]!, "\(name): two objects for one shared node")
                #expect(p === supernet.store.byName[name]!, "\(name): not the supernet's object")
                checked += 1
            }
        }
        // Stem and head are shared by every path too; cell nodes at other levels are not.
        #expect(pa["stem.conv1.weight"]! === pb["stem.conv1.weight"]!)
        #expect(pa["head.classifier.weight"]! === pb["head.classifier.weight"]!)
        let privateToB = Set(pb.keys).subtracting(pa.keys)
        #expect(!privateToB.isEmpty)
        let aObjects = Set(a.parameters.map(ObjectIdentifier.init))
        #expect(privateToB.allSatisfy { !aObjects.contains(ObjectIdentifier(pb[$0]!)) })
        // The union of the members' paths is the supernet: every weight belongs to some path.
        let used = try Set(members.flatMap { try supernet.network(for: $0).parameters.map(\.name) })
        #expect(used == Set(supernet.parameters.map(\.name)))
        #expect(checked > 0)
        print("weight sharing: \(ta) and \(tb) share \(common.count) cell nodes (\(checked) tensors, one object each)")
    }

    @Test func trainingOnePathMovesTheOtherAndOnlyItsOwnWeights() throws {
        let (members, ta, tb, onlyB) = try Self.clusterPair()
        let supernet = try SupernetModel(members: members, settings: Self.settings, levels: 3, seed: 6)
        let a = try supernet.network(for: ta), b = try supernet.network(for: tb)
        let patch = Self.settings.patch
        let x = BuildFixtures.input(1, 1, patch, seed: 11)
        let y = BuildFixtures.labels(1, classes: 2, patch, seed: 12)
        let probe = BuildFixtures.input(1, 1, patch, seed: 13)
        let bBefore = noGrad { b(Variable(probe)).value }
        let weightsBefore = BuildFixtures.snapshot(supernet.parameters)

        // The coarse stage's optimiser sees every supernet weight; a step moves only the
        // weights that got a gradient from the sampled path.
        let sgd = SGD(parameters: supernet.parameters, learningRate: 0.05, momentum: 0.9, weightDecay: 4e-5)
        let own = Set(a.parameters.map(ObjectIdentifier.init))
        for step in 0..<3 {
            let loss = diceCELoss(logits: a(Variable(x)), labels: y)
            #expect(loss.item.isFinite)
            loss.backward()
            if step == 0 {
                // A single-path backward reaches exactly the path's weights.
                for p in supernet.parameters {
                    #expect((p.grad != nil) == own.contains(ObjectIdentifier(p)), "\(p.name): grad \(p.grad != nil)")
                }
            }
            sgd.step()
            sgd.zeroGrad()
        }
        for p in supernet.parameters {
            let moved = p.value != weightsBefore[p.name]!
            #expect(moved == own.contains(ObjectIdentifier(p)), "\(p.name): moved \(moved)")
        }
        let onlyBWeights = supernet.parameters.filter { $0.name.hasPrefix(onlyB + ".") }
        #expect(!onlyBWeights.isEmpty)
        #expect(onlyBWeights.allSatisfy { $0.value == weightsBefore[$0.name]! }, "\(onlyB) is not on the trained path")

        // The other path's output on a fixed input changed through the shared weights.
        let bAfter = noGrad { b(Variable(probe)).value }
        let change = bAfter.maxAbsDifference(bBefore)
        #expect(change > 1e-3, "path b's output moved by \(change)")
        print("weight sharing: 3 SGD steps on \(ta) moved \(tb)'s logits by up to \(change); \(onlyB) unchanged")
    }

    /// A topology with a node outside the union of the members gets no path (and the store does
    /// not grow): its weights would be untrained and missing from the optimizer and checkpoints.
    @Test func pathsOutsideTheClusterAreRejected() throws {
        let members = [Topology([1, 2, 2, 2, 2, 2, 1, 1]), Topology([1, 2, 3, 3, 2, 2, 1, 1])]
        let supernet = try SupernetModel(members: members, settings: Self.settings, levels: 3, seed: 2)
        let count = supernet.parameters.count
        // Valid in the space, but cell 1 at level 1 (keep) is in neither member.
        let outsider = Topology([1, 1, 2, 2, 2, 2, 1, 1])
        #expect(throws: GraphError.self) { try supernet.network(for: outsider) }
        #expect(supernet.parameters.count == count)
        _ = try supernet.network(for: members[1])
        #expect(supernet.parameters.count == count)
    }
}
