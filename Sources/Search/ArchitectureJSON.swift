import Foundation

/// Versioned JSON for `Architecture`. Decoding checks the schema version first, then every field,
/// and throws `ArchitectureError` naming the field ("ops[3]", "patch[1]", "schemaVersion", ...).
extension Architecture: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case schemaVersion, name, levels, topology, ops, baseWidth, inputChannels, classes, patch, provenance
    }

    public init(from decoder: any Decoder) throws {
        let c: KeyedDecodingContainer<CodingKeys>
        do {
            c = try decoder.container(keyedBy: CodingKeys.self)
        } catch let e as DecodingError {
            throw ArchitectureError(field: "", message: "expected a JSON object (\(Architecture.reason(e)))")
        }
        func field<T: Decodable>(_ key: CodingKeys, as type: T.Type) throws -> T {
            guard c.contains(key) else { throw ArchitectureError(field: key.stringValue, message: "is missing") }
            do {
                return try c.decode(T.self, forKey: key)
            } catch let e as DecodingError {
                throw ArchitectureError(field: Architecture.path(e, under: key), message: Architecture.reason(e))
            } catch {
                // Foundation's parser reports e.g. an out-of-range number with an internal error type.
                throw ArchitectureError(field: key.stringValue, message: "has an invalid value (\(error))")
            }
        }

        let version = try field(.schemaVersion, as: Int.self)
        guard (1...Architecture.schemaVersion).contains(version) else {
            throw ArchitectureError(field: "schemaVersion",
                message: "version \(version) is not supported; this build reads versions 1...\(Architecture.schemaVersion)")
        }
        let opNames = try field(.ops, as: [String].self)
        var ops: [CellOp] = []
        for (i, n) in opNames.enumerated() {
            guard let op = CellOp(name: n) else {
                let allowed = CellOp.allCases.map(\.rawValue).joined(separator: ", ")
                throw ArchitectureError(field: "ops[\(i)]", message: "unknown cell op '\(n)'; expected one of \(allowed)")
            }
            ops.append(op)
        }
        self.init(name: try field(.name, as: String.self),
                  topology: Topology(try field(.topology, as: [Int].self)),
                  ops: ops,
                  baseWidth: try field(.baseWidth, as: Int.self),
                  levels: try field(.levels, as: Int.self),
                  inputChannels: try field(.inputChannels, as: Int.self),
                  classes: try field(.classes, as: Int.self),
                  patch: try field(.patch, as: [Int].self),
                  provenance: c.contains(.provenance) ? try field(.provenance, as: Provenance.self) : Provenance())
        try validate()
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Architecture.schemaVersion, forKey: .schemaVersion)
        try c.encode(name, forKey: .name)
        try c.encode(levels, forKey: .levels)
        try c.encode(topology, forKey: .topology)
        try c.encode(ops, forKey: .ops)
        try c.encode(baseWidth, forKey: .baseWidth)
        try c.encode(inputChannels, forKey: .inputChannels)
        try c.encode(classes, forKey: .classes)
        try c.encode(patch, forKey: .patch)
        try c.encode(provenance, forKey: .provenance)
    }

    /// Decodes an architecture document; errors carry `source` (e.g. the file name).
    public static func decode(from data: Data, source: String = "architecture JSON") throws -> Architecture {
        do {
            return try JSONDecoder().decode(Architecture.self, from: data)
        } catch var e as ArchitectureError {
            e.source = source
            throw e
        } catch let e as DecodingError {
            throw ArchitectureError(field: "", message: "not valid JSON (\(reason(e)))", source: source)
        }
    }

    /// Pretty-printed JSON with sorted keys (stable output for diffs and tests).
    public func jsonData() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try enc.encode(self)
    }

    /// "ops[3]" / "provenance.seed" from a decoding error raised under `key`.
    static func path(_ e: DecodingError, under key: CodingKeys) -> String {
        let codingPath: [any CodingKey]
        switch e {
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx), .dataCorrupted(let ctx): codingPath = ctx.codingPath
        case .keyNotFound(let k, let ctx): codingPath = ctx.codingPath + [k]
        @unknown default: codingPath = []
        }
        var out = ""
        for k in codingPath {
            if let i = k.intValue { out += "[\(i)]" } else { out += out.isEmpty ? k.stringValue : ".\(k.stringValue)" }
        }
        return out.isEmpty || !out.hasPrefix(key.stringValue) ? key.stringValue + out : out
    }

    /// A one-line reason without Foundation's debug noise.
    static func reason(_ e: DecodingError) -> String {
        switch e {
        case .typeMismatch(let t, let ctx): "expected \(typeName(t)) (\(ctx.debugDescription))"
        case .valueNotFound(let t, _): "expected \(typeName(t)), found null"
        case .keyNotFound(let k, _): "missing key '\(k.stringValue)'"
        case .dataCorrupted(let ctx):
            if let u = ctx.underlyingError { "\(ctx.debugDescription) \(u.localizedDescription)" } else { ctx.debugDescription }
        @unknown default: "\(e)"
        }
    }

    static func typeName(_ t: Any.Type) -> String {
        switch t {
        case is Int.Type, is UInt64.Type: "an integer"
        case is String.Type: "a string"
        case is Double.Type: "a number"
        case is [Int].Type: "an array of integers"
        case is [String].Type: "an array of strings"
        default: "\(t)"
        }
    }
}
