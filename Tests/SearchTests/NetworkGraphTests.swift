import Testing
@testable import Search

@Suite struct NetworkGraphTests {
    /// The wiring of C2FNAS-Panc written by hand from the rules (steps: 0 = stem, s = cell s-1).
    /// Levels 1,1,2,2,3,4,3,3,2,1,1,1.
    @Test func c2fnasPancWiring() throws {
        let expected: [[CellInput]] = [
            [CellInput(.prevKeep, from: 0)],                               // cell 0: keep; no output two back
            [CellInput(.prevKeep, from: 1), CellInput(.twoBack, from: 0)],  // cell 1: keep; stem at level 1
            [CellInput(.prevDown, from: 2)],                               // cell 2: down to 2
            [CellInput(.prevKeep, from: 3)],                               // cell 3: keep; cell 1 is at level 1
            [CellInput(.prevDown, from: 4)],                               // cell 4: down to 3
            [CellInput(.prevDown, from: 5)],                               // cell 5: down to 4
            [CellInput(.prevUp, from: 6), CellInput(.skip, from: 5)],       // cell 6: up to 3; skip cell 4
            [CellInput(.prevKeep, from: 7)],                               // cell 7: keep; cell 5 is at level 4
            [CellInput(.prevUp, from: 8), CellInput(.skip, from: 4)],       // cell 8: up to 2; skip cell 3
            [CellInput(.prevUp, from: 9), CellInput(.skip, from: 2)],       // cell 9: up to 1; skip cell 1
            [CellInput(.prevKeep, from: 10)],                              // cell 10: keep; cell 8 is at level 2
            [CellInput(.prevKeep, from: 11), CellInput(.twoBack, from: 10)], // cell 11: keep; cell 9 at level 1
        ]
        #expect(NetworkGraph.wiring(of: Architecture.c2fnasPancTopology) == expected)
        let g = try NetworkGraph(Architecture.builtin("c2fnas-panc"))
        #expect(g.cellInputs == expected)
        // The graph's op blocks follow the wiring: one op block per input, fed by a resample
        // block for the prev input and directly by the source cell otherwise.
        for (i, inputs) in expected.enumerated() {
            let fuse = g.blocks[g.cellOutputBlocks[i]]
            #expect(fuse.inputs.count == inputs.count)
            for (k, input) in inputs.enumerated() {
                let op = g.blocks[fuse.inputs[k]]
                #expect(op.role == .cellOp && op.name == "cells.\(i).in\(k).op" && op.inputKind == input.kind)
                let feed = g.blocks[op.inputs[0]]
                if input.kind.move != nil {
                    #expect(feed.role == .resample && feed.inputs == [g.outputBlock(ofStep: input.sourceStep)])
                } else {
                    #expect(feed.id == g.outputBlock(ofStep: input.sourceStep))
                }
            }
        }
        // Head: concat(cell 11, cell 10), both at level 1, so no head.up block.
        let head = g.blocks[g.headBlock]
        #expect(head.inputs == [g.cellOutputBlocks[11], g.cellOutputBlocks[10]] && head.merge == .concat)
        #expect(!g.blocks.contains { $0.role == .headUp })
    }

    @Test func unetWiring() throws {
        // Levels 1,2,2,3,3,4,4,3,3,2,2,1: the skips are the last encoder outputs of each level.
        let w = NetworkGraph.wiring(of: Architecture.unetTopology)
        #expect(w[7] == [CellInput(.prevUp, from: 7), CellInput(.skip, from: 5)])
        #expect(w[9] == [CellInput(.prevUp, from: 9), CellInput(.skip, from: 3)])
        #expect(w[11] == [CellInput(.prevUp, from: 11), CellInput(.skip, from: 1)])
        #expect(w.enumerated().allSatisfy { i, inputs in [7, 9, 11].contains(i) || inputs.count == 1 })
        // The cell before last sits at level 2: the head brings it up first.
        let g = try NetworkGraph(Architecture.builtin("unet"))
        let up = try #require(g.blocks.first { $0.role == .headUp })
        #expect(up.inputs == [g.cellOutputBlocks[10]] && up.inLevel == 2 && up.level == 1)
        #expect(g.blocks[g.headBlock].inputs == [g.cellOutputBlocks[11], up.id])
    }

    @Test func c2fnasPancShapesAt96() throws {
        let w = 8
        let g = try NetworkGraph(Architecture.builtin("c2fnas-panc", baseWidth: w, classes: 3, patch: [96, 96, 96]))
        let levels = [1, 1, 2, 2, 3, 4, 3, 3, 2, 1, 1, 1]
        let want = levels.map { l in FeatureShape(channels: (1 << l) * w, d: 96 >> l, h: 96 >> l, w: 96 >> l) }
        #expect(try g.cellShapes(input: [96, 96, 96]) == want)
        #expect(want[5] == FeatureShape(channels: 128, d: 6, h: 6, w: 6))
        let trace = try g.traceShapes(input: [96, 96, 96])
        #expect(trace.blockOutputs[g.stemBlock] == FeatureShape(channels: 16, d: 48, h: 48, w: 48))
        #expect(trace.blockOutputs[g.headBlock] == FeatureShape(channels: 3, d: 96, h: 96, w: 96))
        // Non-cubic inputs work too; sides must be multiples of 16.
        #expect(try g.cellShapes(input: [32, 64, 96])[5] == FeatureShape(channels: 128, d: 2, h: 4, w: 6))
        #expect(throws: GraphError.self) { try g.traceShapes(input: [40, 96, 96]) }
    }

    /// Independent parameter count of C2FNAS-Panc, written out from the spec by hand.
    static func handParameters(w: Int, inputs C: Int, classes K: Int) -> Int {
        func c(_ l: Int) -> Int { (1 << l) * w }
        func conv(_ i: Int, _ o: Int, _ k: Int) -> Int { i * o * k }
        func norm(_ ch: Int) -> Int { 2 * ch }
        func op2D(_ l: Int) -> Int { conv(c(l), c(l), 9) + norm(c(l)) }
        func op3D(_ l: Int) -> Int { conv(c(l), c(l), 27) + norm(c(l)) }
        func opP3D(_ l: Int) -> Int { conv(c(l), c(l), 9) + conv(c(l), c(l), 3) + norm(c(l)) }
        func down(_ l: Int) -> Int { conv(c(l - 1), c(l), 27) + norm(c(l)) }   // into level l
        func keep(_ l: Int) -> Int { conv(c(l), c(l), 1) + norm(c(l)) }
        func up(_ l: Int) -> Int { conv(c(l + 1), c(l), 1) + norm(c(l)) }      // into level l
        func fuse(_ l: Int) -> Int { conv(c(l), c(l), 1) + norm(c(l)) }
        let stem = conv(C, w, 27) + norm(w) + conv(w, 2 * w, 27) + norm(2 * w)
        let cells = [
            keep(1) + op2D(1) + fuse(1),                    // 0: 2D, [prevKeep]
            keep(1) + 2 * opP3D(1) + fuse(1),               // 1: P3D, [prevKeep, twoBack]
            down(2) + op3D(2) + fuse(2),                    // 2: 3D, [prevDown]
            keep(2) + op3D(2) + fuse(2),                    // 3: 3D, [prevKeep]
            down(3) + op3D(3) + fuse(3),                    // 4: 3D, [prevDown]
            down(4) + op3D(4) + fuse(4),                    // 5: 3D, [prevDown]
            up(3) + 2 * op2D(3) + fuse(3),                  // 6: 2D, [prevUp, skip]
            keep(3) + op3D(3) + fuse(3),                    // 7: 3D, [prevKeep]
            up(2) + 2 * opP3D(2) + fuse(2),                 // 8: P3D, [prevUp, skip]
            up(1) + 2 * op3D(1) + fuse(1),                  // 9: 3D, [prevUp, skip]
            keep(1) + op2D(1) + fuse(1),                    // 10: 2D, [prevKeep]
            keep(1) + 2 * op3D(1) + fuse(1),                // 11: 3D, [prevKeep, twoBack]
        ]
        let head = conv(4 * w, 2 * w, 27) + norm(2 * w) + conv(2 * w, w, 27) + norm(w) + conv(w, K, 1) + K
        return stem + cells.reduce(0, +) + head
    }

    @Test func c2fnasPancParameterCount() throws {
        for (w, C, K) in [(8, 1, 3), (32, 1, 3), (4, 2, 2)] {
            let g = try NetworkGraph(Architecture.builtin("c2fnas-panc", baseWidth: w, inputChannels: C, classes: K))
            #expect(g.parameterCount == Self.handParameters(w: w, inputs: C, classes: K))
            #expect(g.parameters.reduce(0) { $0 + $1.count } == g.parameterCount)
            #expect(try g.cost().parameters == g.parameterCount)
        }
    }

    /// Independent multiply-add count of C2FNAS-Panc at a cubic patch of side s.
    @Test func c2fnasPancMACs() throws {
        let w = 8, K = 3, s = 48
        func c(_ l: Int) -> Int { (1 << l) * w }
        func vox(_ l: Int) -> Int { let n = s >> l; return n * n * n }
        func conv(_ i: Int, _ o: Int, _ k: Int, _ l: Int) -> Int { i * o * k * vox(l) }
        func op(_ k: Int, _ l: Int) -> Int { k * c(l) * c(l) * vox(l) }   // k = taps: 2D 9, 3D 27, P3D 12
        func down(_ l: Int) -> Int { conv(c(l - 1), c(l), 27, l) }
        func keep(_ l: Int) -> Int { conv(c(l), c(l), 1, l) }
        func up(_ l: Int) -> Int { conv(c(l + 1), c(l), 1, l) }          // 1x1x1 after upsampling
        let fuse = keep
        let stem = conv(1, w, 27, 0) + conv(w, 2 * w, 27, 1)
        let cells = [
            keep(1) + op(9, 1) + fuse(1), keep(1) + 2 * op(12, 1) + fuse(1),
            down(2) + op(27, 2) + fuse(2), keep(2) + op(27, 2) + fuse(2),
            down(3) + op(27, 3) + fuse(3), down(4) + op(27, 4) + fuse(4),
            up(3) + 2 * op(9, 3) + fuse(3), keep(3) + op(27, 3) + fuse(3),
            up(2) + 2 * op(12, 2) + fuse(2), up(1) + 2 * op(27, 1) + fuse(1),
            keep(1) + op(9, 1) + fuse(1), keep(1) + 2 * op(27, 1) + fuse(1),
        ]
        let head = conv(4 * w, 2 * w, 27, 1) + conv(2 * w, w, 27, 0) + conv(w, K, 1, 0)
        let g = try NetworkGraph(Architecture.builtin("c2fnas-panc", baseWidth: w, classes: K, patch: [s, s, s]))
        #expect(try g.cost().macs == stem + cells.reduce(0, +) + head)
    }

    @Test func namesAreUniqueAndStable() throws {
        for name in Architecture.builtinNames {
            let g = try NetworkGraph(Architecture.builtin(name))
            let layerNames = g.layers.map(\.name)
            #expect(Set(layerNames).count == layerNames.count)
            #expect(!layerNames.contains(""))
            let shared = g.layers.map(\.sharedName)
            #expect(Set(shared).count == shared.count)
        }
        let g = try NetworkGraph(Architecture.builtin("c2fnas-panc"))
        let params = Set(g.parameters.map(\.name))
        for n in ["stem.conv1.weight", "stem.norm2.bias", "cells.3.in0.op.conv.weight", "cells.3.in0.resample.conv.weight",
                  "cells.1.in1.op.conv2.weight", "cells.3.fuse.conv.weight", "cells.3.fuse.norm.weight",
                  "head.conv1.weight", "head.classifier.weight", "head.classifier.bias"] {
            #expect(params.contains(n), "missing \(n)")
        }
        #expect(!params.contains("head.conv1.bias"))   // bias-free except the classifier
        let sharedParams = Set(g.sharedParameters.map(\.name))
        #expect(sharedParams.contains("cells.2.L2.prevDown.resample.conv.weight"))
        #expect(sharedParams.contains("cells.6.L3.skip.op.conv.weight"))
        #expect(sharedParams.contains("cells.11.L1.twoBack.op.conv.weight"))
        let conv = try #require(g.layers.first { $0.name == "cells.1.in1.op.conv2" })
        #expect(conv.kernel == Kernel3(3, 1, 1) && conv.inChannels == 16 && conv.level == 1)
        #expect(conv.parameters[0].shape == [16, 16, 3, 1, 1])
        let down = try #require(g.layers.first { $0.name == "cells.2.in0.resample.conv" })
        #expect(down.stride == 2 && down.kernel == Kernel3(3, 3, 3) && down.inChannels == 16 && down.outChannels == 32)
    }

    /// Weight sharing keyed by (cell, level, input kind) is consistent: across every topology of
    /// the space, a shared name always has the same shape, so each is a sub-network of one supernet.
    @Test func sharedNamesHaveOneShapeAcrossTheSpace() throws {
        let space = SearchSpace(cells: 12, levels: 4)
        let settings = NetworkSettings(baseWidth: 4, inputChannels: 1, classes: 2, patch: [16, 16, 16])
        var shapes: [String: [Int]] = [:]
        var conflicts = 0
        let all = space.enumerate()
        for t in all {
            let arch = settings.architecture(name: "t", topology: t, ops: Array(repeating: .conv3D, count: 12), levels: 4)
            for p in try NetworkGraph(arch).sharedParameters {
                if let s = shapes[p.name], s != p.shape { conflicts += 1 }
                shapes[p.name] = p.shape
            }
        }
        #expect(conflicts == 0)
        let layout = try SupernetLayout(members: all, settings: settings, levels: 4)
        #expect(Set(layout.parameters.map(\.name)) == Set(shapes.keys))
        // Stem and head classifier weights are used by every member.
        let stem = try #require(layout.parameters.firstIndex { $0.name == "stem.conv1.weight" })
        #expect(layout.usage[stem] == all.count)
        // Every member's own parameters are a subset of its cluster's supernet.
        let clusters = try KMedoids.pam(all, k: 4, seed: 1)
        let sub = try SupernetLayout(members: clusters.members[0], settings: settings, levels: 4)
        let names = Set(sub.parameters.map(\.name))
        for t in clusters.members[0].prefix(20) {
            let arch = settings.architecture(name: "t", topology: t, ops: Array(repeating: .conv3D, count: 12), levels: 4)
            #expect(try NetworkGraph(arch).sharedParameters.allSatisfy { names.contains($0.name) })
        }
        #expect(sub.parameterCount < layout.parameterCount)
    }
}
