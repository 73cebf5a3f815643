import Testing
@testable import NN

/// The scratch buffers of the conv kernels: which free buffer a thread gets back, and the fixed
/// distance between the per-thread regions of a buffer split by pool slot.
@Suite("column workspaces")
struct ColumnWorkspaceTests {
    @Test("a thread gets back the last buffer it used itself, else the last one released")
    func pickOwnBuffer() {
        #expect(ColumnWorkspace.pick(owners: [], me: 7) == nil)
        #expect(ColumnWorkspace.pick(owners: [1, 2, 1, 3], me: 1) == 2)
        #expect(ColumnWorkspace.pick(owners: [1, 2, 1, 3], me: 2) == 1)
        #expect(ColumnWorkspace.pick(owners: [1, 2, 1, 3], me: 4) == 3)
        #expect(ColumnWorkspace.pick(owners: [5], me: 4) == 0)
    }

    @Test("slot regions start at the same offsets for every call up to 4 MiB, and never overlap")
    func slotStride() {
        guard ColumnWorkspace.fixedSlots else { return }
        let small = [1, 15, 16, 1000, 123_457, 1 << 20].map(ColumnWorkspace.slotStride)
        #expect(Set(small) == [1 << 20])
        for each in [(1 << 20) + 1, 3_000_001, 1 << 24] {
            let stride = ColumnWorkspace.slotStride(each)
            #expect(stride >= each && stride % 16 == 0 && stride - each < 16)
        }
    }
}
