/// Wiring and naming (C2FNAS.md, "Network skeleton" and "Wiring"). Cells are 0-based in names
/// (PyTorch ModuleList style); as steps, the stem is 0 and cell i is step i+1.
///
/// | block | layers (stand-alone names) |
/// |---|---|
/// | `stem` | conv1 3³ C→w, norm1, relu1, conv2 3³ stride 2 w→2w, norm2 (output at level 1) |
/// | `cells.i.in0.resample` (prev input) | down: relu, conv 3³ s2 C→2C, norm · keep: relu, conv 1³, norm · up: upsample, relu, conv 1³ 2C→C, norm |
/// | `cells.i.in{k}.op` (one per input) | the cell op: relu, conv (P3D: conv1, conv2), norm |
/// | `cells.i.fuse` | sum of the op blocks, then relu, conv 1³, norm |
/// | `head.up` (cell before last at level 2) | the up resampling: upsample, relu, conv 1³ 4w→2w, norm |
/// | `head` | concat(last cell, cell before), relu, conv1 3³ 4w→2w, norm1, upsample, conv2 3³ 2w→w, norm2, relu2, classifier 1³ w→K (+bias) |
///
/// Decisions where the spec is silent: the keep resampling (ReLU → conv1 → IN) applies to the
/// prev input of every keep cell, because rule 1 says the previous cell is "resampled by its
/// move" and keep is one of the three moves; the twoBack and skip inputs are already at the
/// cell's level and go straight to their op. The head's first conv3 maps the concat (4w) to
/// level 1's width 2w and its second conv3 maps 2w to w (the stem's full-resolution width).
/// Supernet names insert the level and input kind: `cells.i.L<l>.<kind>.resample|op`,
/// `cells.i.L<l>.fuse`; stem and head names are shared as they are.
extension NetworkGraph {
    /// The inputs of every cell of `t`, by the wiring rules:
    /// 1. the previous output, resampled by the cell's move;
    /// 2. a keep cell also takes the output two steps back when it is at the same level
    ///    (the stem counts as step 0, so cell 1 can take the stem);
    /// 3. an up cell also takes the most recent earlier output at its level.
    public static func wiring(of t: Topology) -> [[CellInput]] {
        var all: [[CellInput]] = []
        for i in 0..<t.cellCount {
            let level = t.levels[i]
            let prevLevel = t.level(atStep: i)
            guard let move = Move(rawValue: level - prevLevel) else { all.append([]); continue }
            var inputs = [CellInput(.prev(move), from: i)]
            switch move {
            case .keep:
                if i >= 1 && t.level(atStep: i - 1) == level { inputs.append(CellInput(.twoBack, from: i - 1)) }
            case .up:
                if let j = stride(from: i - 1, through: 0, by: -1).first(where: { t.level(atStep: $0) == level }) {
                    inputs.append(CellInput(.skip, from: j))
                }
            case .down:
                break
            }
            all.append(inputs)
        }
        return all
    }

    /// Builds the graph of a validated architecture.
    public init(_ arch: Architecture) throws {
        try arch.validate()
        var b = GraphAssembler(arch: arch)
        let stem = b.stem()
        var outputs = [stem]
        let wiring = NetworkGraph.wiring(of: arch.topology)
        for (i, inputs) in wiring.enumerated() {
            outputs.append(b.cell(i, inputs: inputs, outputs: outputs))
        }
        let n = arch.topology.cellCount
        let head = b.head(last: outputs[n], before: outputs[n - 1], beforeLevel: arch.topology.level(atStep: n - 1))
        self.init(architecture: arch, blocks: b.blocks, cellInputs: wiring, stemBlock: stem,
                  cellOutputBlocks: Array(outputs.dropFirst()), headBlock: head)
    }
}

/// Appends blocks with consistent names, channels and levels.
private struct GraphAssembler {
    let arch: Architecture
    var blocks: [GraphBlock] = []

    init(arch: Architecture) { self.arch = arch }

    func ch(_ level: Int) -> Int { arch.channels(atLevel: level) }

    /// Fills in the names of parameter-free layers ("<block>.relu", "<block>.relu2", ...).
    mutating func add(name: String, shared: String, role: GraphBlock.Role, inputs: [Int], merge: GraphBlock.Merge,
                      layers: [GraphLayer], inLevel: Int, cell: Int? = nil, inputIndex: Int? = nil,
                      inputKind: InputKind? = nil, move: Move? = nil, op: CellOp? = nil) -> Int {
        var named = layers
        var nth: [GraphLayer.Kind: Int] = [:]
        var totals: [GraphLayer.Kind: Int] = [:]
        for l in named where l.name.isEmpty { totals[l.kind, default: 0] += 1 }
        for k in named.indices where named[k].name.isEmpty {
            let kind = named[k].kind
            let total = totals[kind]!
            nth[kind, default: 0] += 1
            let suffix = kind.rawValue + (total > 1 ? "\(nth[kind]!)" : "")
            named[k].name = "\(name).\(suffix)"
            named[k].sharedName = "\(shared).\(suffix)"
        }
        let id = blocks.count
        blocks.append(GraphBlock(id: id, name: name, role: role, inputs: inputs, merge: merge, layers: named,
                                 cell: cell, inputIndex: inputIndex, inputKind: inputKind, move: move, op: op,
                                 inChannels: named.first?.inChannels ?? 0, outChannels: named.last?.outChannels ?? 0,
                                 inLevel: inLevel, level: named.last?.level ?? inLevel, sharedName: shared))
        return id
    }

    mutating func stem() -> Int {
        let c = arch.inputChannels, w = arch.baseWidth
        return add(name: "stem", shared: "stem", role: .stem, inputs: [], merge: .single, layers: [
            .conv(name: "stem.conv1", shared: "stem.conv1", in: c, out: w, kernel: .cube(3), stride: 1, level: 0),
            .norm(name: "stem.norm1", shared: "stem.norm1", channels: w, level: 0),
            .relu(channels: w, level: 0, name: "stem.relu1", shared: "stem.relu1"),
            .conv(name: "stem.conv2", shared: "stem.conv2", in: w, out: 2 * w, kernel: .cube(3), stride: 2, level: 1),
            .norm(name: "stem.norm2", shared: "stem.norm2", channels: 2 * w, level: 1),
        ], inLevel: 0)
    }

    /// Resampling layers that bring a map at `from` to the adjacent level `to`.
    func resampleLayers(from: Int, to: Int, name: String, shared: String) -> [GraphLayer] {
        let cin = ch(from), cout = ch(to)
        let conv = { (k: Kernel3, s: Int) in
            GraphLayer.conv(name: "\(name).conv", shared: "\(shared).conv", in: cin, out: cout, kernel: k, stride: s, level: to)
        }
        let norm = GraphLayer.norm(name: "\(name).norm", shared: "\(shared).norm", channels: cout, level: to)
        switch Move(rawValue: to - from)! {
        case .down: return [.relu(channels: cin, level: from), conv(.cube(3), 2), norm]
        case .keep: return [.relu(channels: cin, level: from), conv(.one, 1), norm]
        case .up: return [.upsample(channels: cin, level: to), .relu(channels: cin, level: to), conv(.one, 1), norm]
        }
    }

    mutating func cell(_ i: Int, inputs: [CellInput], outputs: [Int]) -> Int {
        let level = arch.topology.levels[i]
        let op = arch.ops[i]
        let cellName = "cells.\(i)"
        let cellShared = "cells.\(i).L\(level)"
        var opBlocks: [Int] = []
        for (k, input) in inputs.enumerated() {
            let source = outputs[input.sourceStep]
            let sourceLevel = arch.topology.level(atStep: input.sourceStep)
            let shared = "\(cellShared).\(input.kind.rawValue)"
            var opInput = source
            if let move = input.kind.move {
                opInput = add(name: "\(cellName).in\(k).resample", shared: "\(shared).resample", role: .resample,
                              inputs: [source], merge: .single,
                              layers: resampleLayers(from: sourceLevel, to: level, name: "\(cellName).in\(k).resample",
                                                     shared: "\(shared).resample"),
                              inLevel: sourceLevel, cell: i, inputIndex: k, inputKind: input.kind, move: move)
            }
            let opName = "\(cellName).in\(k).op"
            opBlocks.append(add(name: opName, shared: "\(shared).op", role: .cellOp, inputs: [opInput], merge: .single,
                                layers: op.layers(channels: ch(level), level: level, prefix: opName, sharedPrefix: "\(shared).op"),
                                inLevel: level, cell: i, inputIndex: k, inputKind: input.kind, op: op))
        }
        let fuse = "\(cellName).fuse", fuseShared = "\(cellShared).fuse"
        return add(name: fuse, shared: fuseShared, role: .fuse, inputs: opBlocks, merge: opBlocks.count > 1 ? .sum : .single,
                   layers: [.relu(channels: ch(level), level: level),
                            .conv(name: "\(fuse).conv", shared: "\(fuseShared).conv", in: ch(level), out: ch(level),
                                  kernel: .one, stride: 1, level: level),
                            .norm(name: "\(fuse).norm", shared: "\(fuseShared).norm", channels: ch(level), level: level)],
                   inLevel: level, cell: i)
    }

    mutating func head(last: Int, before: Int, beforeLevel: Int) -> Int {
        var second = before
        if beforeLevel != 1 {
            second = add(name: "head.up", shared: "head.up", role: .headUp, inputs: [before], merge: .single,
                         layers: resampleLayers(from: beforeLevel, to: 1, name: "head.up", shared: "head.up"),
                         inLevel: beforeLevel, move: .up)
        }
        let c1 = ch(1), c0 = ch(0)
        return add(name: "head", shared: "head", role: .head, inputs: [last, second], merge: .concat, layers: [
            .relu(channels: 2 * c1, level: 1, name: "head.relu1", shared: "head.relu1"),
            .conv(name: "head.conv1", shared: "head.conv1", in: 2 * c1, out: c1, kernel: .cube(3), stride: 1, level: 1),
            .norm(name: "head.norm1", shared: "head.norm1", channels: c1, level: 1),
            .upsample(channels: c1, level: 0, name: "head.upsample", shared: "head.upsample"),
            .conv(name: "head.conv2", shared: "head.conv2", in: c1, out: c0, kernel: .cube(3), stride: 1, level: 0),
            .norm(name: "head.norm2", shared: "head.norm2", channels: c0, level: 0),
            .relu(channels: c0, level: 0, name: "head.relu2", shared: "head.relu2"),
            .conv(name: "head.classifier", shared: "head.classifier", in: c0, out: arch.classes, kernel: .one,
                  stride: 1, level: 0, bias: true),
        ], inLevel: 1)
    }
}
