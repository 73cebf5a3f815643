/// The operation a cell applies to each of its inputs (C2FNAS.md, "Cell ops").
///
/// Kernels are given in our tensor layout (N, C, D, H, W) as (d, h, w), with D the slice axis.
/// The paper writes kernels as (x, y, z) with z the slice axis, so its in-plane "3x3x1" is
/// (d, h, w) = (1, 3, 3) here and its "1x1x3" is (3, 1, 1).
public enum CellOp: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// ReLU → conv 3x3x1 (in-plane) → IN.
    case conv2D = "2D"
    /// ReLU → conv 3x3x3 → IN.
    case conv3D = "3D"
    /// ReLU → conv 3x3x1 → conv 1x1x3 → IN (pseudo-3D; no norm between the two convs).
    case p3D = "P3D"

    /// The coarse stage's default op for every cell.
    public static let coarseDefault: CellOp = .conv3D

    public var description: String { rawValue }

    /// Parses "2D", "3D", "P3D" (case-insensitive).
    public init?(name: String) {
        guard let op = CellOp.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else { return nil }
        self = op
    }

    /// Kernels of the op's convolutions, in order, as (d, h, w).
    public var convKernels: [Kernel3] {
        switch self {
        case .conv2D: [Kernel3(1, 3, 3)]
        case .conv3D: [Kernel3(3, 3, 3)]
        case .p3D: [Kernel3(1, 3, 3), Kernel3(3, 1, 1)]
        }
    }

    /// The op's layers for `channels` channels at `level`: ReLU, conv(s), IN. Parameter names are
    /// `prefix.conv` (or `prefix.conv1`/`prefix.conv2` for P3D) and `prefix.norm`; shared names
    /// likewise under `sharedPrefix`. The fine stage calls this once per candidate op, with a
    /// per-op prefix, to build a mixed op.
    public func layers(channels: Int, level: Int, prefix: String, sharedPrefix: String) -> [GraphLayer] {
        var out = [GraphLayer.relu(channels: channels, level: level)]
        let kernels = convKernels
        for (i, k) in kernels.enumerated() {
            let suffix = kernels.count == 1 ? "conv" : "conv\(i + 1)"
            out.append(.conv(name: "\(prefix).\(suffix)", shared: "\(sharedPrefix).\(suffix)",
                             in: channels, out: channels, kernel: k, stride: 1, level: level))
        }
        out.append(.norm(name: "\(prefix).norm", shared: "\(sharedPrefix).norm", channels: channels, level: level))
        return out
    }
}

/// A kernel size or padding as (d, h, w).
public struct Kernel3: Hashable, Sendable, Codable, CustomStringConvertible {
    public var d: Int, h: Int, w: Int
    public init(_ d: Int, _ h: Int, _ w: Int) { self.d = d; self.h = h; self.w = w }
    public static let one = Kernel3(1, 1, 1)
    public static func cube(_ k: Int) -> Kernel3 { Kernel3(k, k, k) }
    public var volume: Int { d * h * w }
    /// "Same" padding for odd kernels: k/2 on each axis.
    public var samePadding: Kernel3 { Kernel3(d / 2, h / 2, w / 2) }
    public var description: String { "\(d)x\(h)x\(w)" }
}
