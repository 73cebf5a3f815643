// Large buffers on 2 MiB pages.
//
// This host's kernel gives transparent huge pages only to memory that asks for them (THP "madvise"),
// and glibc's mappings for large blocks start at arbitrary 4 KiB boundaries, so every activation of a
// step (8 MiB at 64³, width 8) sat on 4 KiB pages: 2048 TLB entries per tensor, and in a KVM guest a
// TLB miss walks two page tables. Buffers of at least `minimumBytes` are mapped here instead, their
// start aligned to 2 MiB and their whole 2 MiB blocks advised as huge pages; a partial block at the end
// stays on 4 KiB pages, so the resident size is what is touched, as before.

import Foundation

public enum LargePages {
    /// The huge page size (x86-64 PMD).
    public static let hugeBytes = 2 << 20
    /// Buffers from this size up are mapped here (at least one whole huge page).
    public static let minimumBytes = hugeBytes
    /// C2FNAS_HUGE_PAGES=0: large buffers from malloc on 4 KiB pages (A/B).
    public static let enabled = ProcessInfo.processInfo.environment["C2FNAS_HUGE_PAGES"] != "0"

    public static func useFor(_ bytes: Int) -> Bool { enabled && bytes >= minimumBytes }

    static func mappedLength(_ bytes: Int) -> Int { (bytes + 4095) & ~4095 }

    /// `bytes` bytes starting on a 2 MiB boundary; free with `free(_:bytes:)`.
    public static func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        let length = mappedLength(bytes)
        let span = length + hugeBytes
        guard let raw = mmap(nil, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              raw != MAP_FAILED else {
            fatalError("out of memory: mmap of \(span) bytes failed (errno \(errno))")
        }
        let base = UInt(bitPattern: raw)
        let aligned = (base + UInt(hugeBytes) - 1) & ~UInt(hugeBytes - 1)
        let head = Int(aligned - base)
        if head > 0 { munmap(raw, head) }
        let tail = span - head - length
        if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: aligned + UInt(length)), tail) }
        let pointer = UnsafeMutableRawPointer(bitPattern: aligned)!
        let whole = bytes / hugeBytes * hugeBytes
        if whole > 0 { _ = madvise(pointer, whole, MADV_HUGEPAGE) }
        return pointer
    }

    public static func free(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        munmap(pointer, mappedLength(bytes))
    }

    /// A buffer of `bytes` bytes, `alignment`-aligned (a power of two up to 2 MiB): mapped here when
    /// `useFor(bytes)`, else from the heap. Free with `freeBuffer(_:bytes:)` and the same size.
    public static func allocateBuffer(bytes: Int, alignment: Int) -> UnsafeMutableRawPointer {
        useFor(bytes) ? allocate(bytes: bytes) : UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: alignment)
    }

    /// Gives back a buffer from `allocateBuffer(bytes:alignment:)`.
    public static func freeBuffer(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        if useFor(bytes) { free(pointer, bytes: bytes) } else { pointer.deallocate() }
    }
}
