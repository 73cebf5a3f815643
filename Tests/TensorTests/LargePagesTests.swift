import Foundation
import Testing
@testable import Tensor

/// Large buffers mapped on 2 MiB boundaries with their whole 2 MiB blocks advised as huge pages,
/// checked against the kernel's own account of the mapping (/proc/self/smaps).
@Suite("large pages")
struct LargePagesTests {
    /// The smaps entry of the mapping that contains `address`: its range and VmFlags.
    static func mapping(containing address: UInt) -> (start: UInt, end: UInt, flags: [Substring])? {
        // Read to the end: String(contentsOfFile:) stops after the first read of a /proc file.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/smaps") else { return nil }
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        var current: (UInt, UInt)?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let ends = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
                current = ends.count == 2 ? (ends[0], ends[1]) : nil
            } else if fields.first == "VmFlags:", let (s, e) = current, s <= address, address < e {
                return (s, e, Array(fields.dropFirst()))
            }
        }
        return nil
    }

    @Test("a buffer starts on 2 MiB, holds what is written, and its whole blocks are advised huge",
          arguments: [2 << 20, (9 << 20) + 12_345, (4 << 20) + 4096])
    func alignedAndAdvised(bytes: Int) throws {
        let p = LargePages.allocate(bytes: bytes)
        defer { LargePages.free(p, bytes: bytes) }
        let address = UInt(bitPattern: p)
        #expect(address % UInt(LargePages.hugeBytes) == 0)
        let words = p.bindMemory(to: UInt32.self, capacity: bytes / 4)
        for i in 0..<bytes / 4 { words[i] = UInt32(truncatingIfNeeded: i &* 2_654_435_761) }
        var wrong = 0
        for i in 0..<bytes / 4 where words[i] != UInt32(truncatingIfNeeded: i &* 2_654_435_761) { wrong += 1 }
        #expect(wrong == 0)
        let m = try #require(Self.mapping(containing: address))
        #expect(m.flags.contains("hg"), "VmFlags \(m.flags)")
        // The advised mapping covers the whole 2 MiB blocks and nothing before the buffer.
        #expect(m.start == address)
        #expect(m.end >= address + UInt(bytes / LargePages.hugeBytes * LargePages.hugeBytes))
        // A partial last block stays on small pages: no advice past the whole blocks.
        if bytes % LargePages.hugeBytes != 0 {
            let tail = try #require(Self.mapping(containing: address + UInt(bytes - 1)))
            #expect(!tail.flags.contains("hg"), "tail VmFlags \(tail.flags)")
        }
    }

    @Test("the buffer pool serves large sizes from large pages and reuses them")
    func poolReusesLargeBuffers() throws {
        guard LargePages.enabled else { return }
        let bytes = (6 << 20) + 64
        let a = BufferPool.allocate(bytes: bytes, planes: 1)
        #expect(UInt(bitPattern: a) % UInt(LargePages.hugeBytes) == 0)
        BufferPool.release(a, bytes: bytes, planes: 1)
        let b = BufferPool.allocate(bytes: bytes, planes: 1)
        defer { BufferPool.release(b, bytes: bytes, planes: 1) }
        #expect(UInt(bitPattern: b) % UInt(LargePages.hugeBytes) == 0)
    }
}
