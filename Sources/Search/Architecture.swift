import Foundation

/// A complete network description: what the search exports and the builder consumes.
/// Serialised as versioned JSON (see `ArchitectureJSON.swift`), e.g.
/// ```json
/// { "schemaVersion": 1, "name": "c2fnas-panc", "levels": 4,
///   "topology": [1,1,2,2,3,4,3,3,2,1,1,1], "ops": ["2D","P3D","3D", ...],
///   "baseWidth": 8, "inputChannels": 1, "classes": 3, "patch": [48,48,48],
///   "provenance": { "source": "builtin", "metrics": {} } }
/// ```
public struct Architecture: Hashable, Sendable {
    /// Version of the JSON layout this build writes and the newest it reads.
    public static let schemaVersion = 1

    public var name: String
    /// Level of each cell (1...levels); the stem is at level 1.
    public var topology: Topology
    /// The op of each cell, same count as the topology's cells.
    public var ops: [CellOp]
    /// Base width w: level l has 2^l·w channels.
    public var baseWidth: Int
    /// Number of levels of the space; the input's sides must be divisible by 2^levels.
    public var levels: Int
    /// Image channels C of the input (modalities).
    public var inputChannels: Int
    /// Output logits K, background included (K ≥ 2).
    public var classes: Int
    /// Training patch size as (D, H, W), D the slice axis.
    public var patch: [Int]
    public var provenance: Provenance

    public init(name: String, topology: Topology, ops: [CellOp], baseWidth: Int, levels: Int,
                inputChannels: Int, classes: Int, patch: [Int], provenance: Provenance = Provenance()) {
        self.name = name
        self.topology = topology
        self.ops = ops
        self.baseWidth = baseWidth
        self.levels = levels
        self.inputChannels = inputChannels
        self.classes = classes
        self.patch = patch
        self.provenance = provenance
    }

    /// Channels of a feature map at `level` (level 0 = input resolution has w).
    public func channels(atLevel level: Int) -> Int { baseWidth << level }

    /// Throws an `ArchitectureError` naming the first invalid field.
    public func validate() throws {
        func fail(_ field: String, _ message: String) -> ArchitectureError {
            ArchitectureError(field: field, message: message)
        }
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail("name", "must not be empty") }
        guard (1...8).contains(levels) else { throw fail("levels", "must be in 1...8, got \(levels)") }
        guard topology.cellCount >= 2 else {
            throw fail("topology", "needs at least 2 cells (the head concatenates the last two), got \(topology.cellCount)")
        }
        // Any ±1/0 path inside 1...levels ending at level 1 can be built, whatever rule found it.
        do {
            try SearchSpace(cells: topology.cellCount, levels: levels, rule: .lattice).validate(topology)
        } catch let e as TopologyError {
            throw fail(e.cell.map { "topology[\($0)]" } ?? "topology", e.message)
        }
        guard ops.count == topology.cellCount else {
            throw fail("ops", "has \(ops.count) ops for \(topology.cellCount) cells; give one op per cell")
        }
        guard (1...4096).contains(baseWidth) else { throw fail("baseWidth", "must be in 1...4096, got \(baseWidth)") }
        guard inputChannels >= 1 else { throw fail("inputChannels", "must be at least 1, got \(inputChannels)") }
        guard classes >= 2 else { throw fail("classes", "must be at least 2 (background included), got \(classes)") }
        guard patch.count == 3 else { throw fail("patch", "must have 3 sides (D, H, W), got \(patch.count)") }
        let unit = 1 << levels
        for (i, side) in patch.enumerated() {
            guard side > 0, side % unit == 0 else {
                throw fail("patch[\(i)]", "side \(side) must be a positive multiple of 2^levels = \(unit)")
            }
        }
    }

    /// A copy with another topology and ops (e.g. a candidate of the search).
    public func with(topology: Topology, ops: [CellOp]) -> Architecture {
        var a = self
        a.topology = topology
        a.ops = ops
        return a
    }
}

/// Where an architecture came from and how it scored.
public struct Provenance: Hashable, Sendable, Codable {
    /// e.g. "builtin", "search", "import".
    public var source: String?
    public var seed: UInt64?
    public var dataset: String?
    /// Named figures, e.g. "valDice", "params", "macs".
    public var metrics: [String: Double]
    public var notes: String?

    public init(source: String? = nil, seed: UInt64? = nil, dataset: String? = nil,
                metrics: [String: Double] = [:], notes: String? = nil) {
        self.source = source
        self.seed = seed
        self.dataset = dataset
        self.metrics = metrics
        self.notes = notes
    }
}

/// A bad architecture (file): names the field, and the source when known.
public struct ArchitectureError: Error, Sendable, Equatable, CustomStringConvertible {
    /// JSON path of the offending field, e.g. "ops[3]" or "patch[1]"; empty for the whole document.
    public var field: String
    public var message: String
    /// File name or other origin, when the error came from decoding.
    public var source: String?

    public init(field: String, message: String, source: String? = nil) {
        self.field = field
        self.message = message
        self.source = source
    }

    public var description: String {
        let place = field.isEmpty ? "" : "field '\(field)': "
        return (source.map { "\($0): " } ?? "") + "invalid architecture: " + place + message
    }
}
