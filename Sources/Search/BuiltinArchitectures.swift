/// Named architectures that ship with the program.
extension Architecture {
    /// Names accepted by `builtin(_:)`.
    public static let builtinNames = ["c2fnas-panc", "unet"]

    /// C2FNAS-Panc, the paper's searched network (C2FNAS.md, "Reference architecture").
    public static let c2fnasPancTopology = Topology([1, 1, 2, 2, 3, 4, 3, 3, 2, 1, 1, 1])
    public static let c2fnasPancOps: [CellOp] = [.conv2D, .p3D, .conv3D, .conv3D, .conv3D, .conv3D,
                                                 .conv2D, .conv3D, .p3D, .conv3D, .conv2D, .conv3D]

    /// The U-Net baseline in the same space: 12 cells, all 3x3x3, two cells per level on the way
    /// down and two on the way up, like a plain 3D U-Net with two convs per stage. With the stem
    /// (two convs at full and half resolution) and the head it is the classic U-Net shape:
    /// encoder level 1: stem + cell 0; level 2: cells 1, 2; level 3: cells 3, 4; bottleneck
    /// level 4: cells 5, 6; decoder level 3: cells 7, 8; level 2: cells 9, 10; level 1: cell 11,
    /// each decoder level entered by an up cell that takes the U-Net skip from the encoder.
    /// It is a valid `ushape` topology. Multiply-adds are comparable to C2FNAS-Panc's: 0.944x at
    /// w = 8 (1.406 vs 1.489 GMAC at 48³; the ratio hardly depends on width or patch), with more
    /// parameters (2.00 M vs 1.22 M at w = 8) because it spends more cells at the wide deep levels
    /// and uses 3x3x3 everywhere, where C2FNAS-Panc spends cells at level 1 with cheaper ops.
    public static let unetTopology = Topology([1, 2, 2, 3, 3, 4, 4, 3, 3, 2, 2, 1])
    public static let unetOps = [CellOp](repeating: .conv3D, count: 12)

    /// A built-in architecture by name. Defaults follow the `cpu` preset (w = 8, 48³ patch) for a
    /// one-channel input with 3 classes (background, organ, tumour).
    public static func builtin(_ name: String, baseWidth: Int = 8, inputChannels: Int = 1, classes: Int = 3,
                               patch: [Int] = [48, 48, 48]) throws -> Architecture {
        let (topology, ops): (Topology, [CellOp])
        switch name {
        case "c2fnas-panc": (topology, ops) = (c2fnasPancTopology, c2fnasPancOps)
        case "unet": (topology, ops) = (unetTopology, unetOps)
        default:
            throw ArchitectureError(field: "name",
                message: "no built-in architecture '\(name)'; built-ins are \(builtinNames.joined(separator: ", "))")
        }
        let arch = Architecture(name: name, topology: topology, ops: ops, baseWidth: baseWidth, levels: 4,
                                inputChannels: inputChannels, classes: classes, patch: patch,
                                provenance: Provenance(source: "builtin"))
        try arch.validate()
        return arch
    }
}
