import Testing
@testable import Search

@Suite struct CostModelTests {
    /// A tiny network counted by hand: C = 1, w = 1, K = 2, one level, cells [1, 1] (2D ops), 4³ input.
    /// Elements per layer output (channels x voxels; level 0 has 64 voxels, level 1 has 8):
    /// stem 64+64+64+16+16 = 224; cell 0 (resample, op, fuse: 9 layers of 2x8) = 144;
    /// cell 1 (resample, 2 ops, fuse: 12 layers) = 192 plus the summed input 16;
    /// head: concat 4x8 = 32, relu 32, conv1 16, norm 16, upsample 128, conv2 64, norm 64, relu 64,
    /// classifier 128 → 32 + 512. With the 64-element input: 1184 saved elements.
    @Test func tinyNetworkByHand() throws {
        let arch = Architecture(name: "tiny", topology: Topology([1, 1]), ops: [.conv2D, .conv2D], baseWidth: 1,
                                levels: 1, inputChannels: 1, classes: 2, patch: [4, 4, 4])
        let cost = try NetworkGraph(arch).cost()
        // Params: stem 27+2+54+4 = 87; cell 0: resample 4+4, op 36+4, fuse 4+4 = 56;
        // cell 1: 8 + 2·40 + 8 = 96; head: 216+4+54+2+2+2 = 280.
        #expect(cost.parameters == 519)
        // MACs: stem 1728+432; cell 0: 32+288+32; cell 1: 32+576+32; head 1728+3456+128.
        #expect(cost.macs == 8464)
        #expect(cost.activationBytes == 1184 * 4)
        #expect(cost.gradientBytes == 2 * 128 * 4)                  // largest tensor: 2x4³
        #expect(cost.parameterStateBytes == 519 * 3 * 4)            // weight + grad + momentum
        #expect(cost.workspaceBytes == 2 * 27 * 64 * 4)             // head.conv2's column buffer
        #expect(cost.memoryBytes == 4736 + 1024 + 6228 + 13824)

        var m = MemoryModel(batch: 2, optimizerStatesPerParameter: 2)
        m.workspaceCapElements = 1000
        m.baseBytes = 100
        let c2 = try NetworkGraph(arch).cost(memory: m)
        #expect(c2.memoryBytes == 2 * 4736 + 2 * 1024 + 519 * 4 * 4 + 4000 + 100)
        #expect(c2.macs == cost.macs)   // MACs are per sample
    }

    @Test func costGrowsWithPatchAndWidth() throws {
        let small = try Architecture.builtin("c2fnas-panc", baseWidth: 8, patch: [48, 48, 48]).cost()
        let big = try Architecture.builtin("c2fnas-panc", baseWidth: 8, patch: [96, 96, 96]).cost()
        #expect(big.macs == 8 * small.macs)   // every conv's output voxels scale by 8
        #expect(big.parameters == small.parameters)
        #expect(big.memoryBytes > small.memoryBytes)
    }
}
