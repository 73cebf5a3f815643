/// Which plane a slice is cut in. Voxel data is x fastest, z slowest.
public enum PlaneAxis: String, Sendable, CaseIterable {
    case axial, coronal, sagittal

    /// Accepts "a", "c", "s" as well as the full names.
    public init?(letter: String) {
        switch letter.lowercased() {
        case "a", "axial": self = .axial
        case "c", "coronal": self = .coronal
        case "s", "sagittal": self = .sagittal
        default: return nil
        }
    }
}

/// One 2-D slice of a volume with its label and prediction: `u` columns, `v` rows, row 0 at the
/// top (the highest voxel index along the vertical axis, so superior / anterior is up).
public struct SlicePlane: Sendable, Equatable {
    public let u: Int
    public let v: Int
    /// Physical pixel size in mm (horizontal, vertical), for the displayed aspect ratio.
    public let spacingU: Double
    public let spacingV: Double
    public var intensity: [Float]
    public var label: [UInt8]?
    public var prediction: [UInt8]?

    public init(u: Int, v: Int, spacingU: Double = 1, spacingV: Double = 1, intensity: [Float],
                label: [UInt8]? = nil, prediction: [UInt8]? = nil) {
        precondition(intensity.count == u * v, "SlicePlane: \(intensity.count) intensities for \(u)×\(v)")
        self.u = u
        self.v = v
        self.spacingU = spacingU
        self.spacingV = spacingV
        self.intensity = intensity
        self.label = label
        self.prediction = prediction
    }

    /// Number of slices along `axis` for a volume of size (x, y, z).
    public static func count(axis: PlaneAxis, size: (x: Int, y: Int, z: Int)) -> Int {
        switch axis {
        case .axial: size.z
        case .coronal: size.y
        case .sagittal: size.x
        }
    }

    /// Cuts slice `index` (clamped) along `axis` out of x-fastest volumes.
    public static func extract(axis: PlaneAxis, index: Int, size: (x: Int, y: Int, z: Int), spacing: [Double],
                               image: [Float], label: [UInt8]?, prediction: [UInt8]?) -> SlicePlane {
        let sp = spacing.count == 3 ? spacing : [1, 1, 1]
        let (u, v, su, sv): (Int, Int, Double, Double)
        switch axis {
        case .axial: (u, v, su, sv) = (size.x, size.y, sp[0], sp[1])
        case .coronal: (u, v, su, sv) = (size.x, size.z, sp[0], sp[2])
        case .sagittal: (u, v, su, sv) = (size.y, size.z, sp[1], sp[2])
        }
        let k = max(0, min(count(axis: axis, size: size) - 1, index))
        var voxels = [Int](repeating: 0, count: u * v)
        for iv in 0..<v {
            let row = v - 1 - iv
            for iu in 0..<u {
                switch axis {
                case .axial: voxels[iv * u + iu] = (k * size.y + row) * size.x + iu
                case .coronal: voxels[iv * u + iu] = (row * size.y + k) * size.x + iu
                case .sagittal: voxels[iv * u + iu] = (row * size.y + iu) * size.x + k
                }
            }
        }
        return SlicePlane(u: u, v: v, spacingU: su, spacingV: sv, intensity: voxels.map { image[$0] },
                          label: label.map { l in voxels.map { l[$0] } }, prediction: prediction.map { p in voxels.map { p[$0] } })
    }

    /// The slice along `axis` with the most foreground voxels in `mask` (ties: the lowest index).
    public static func mostForeground(axis: PlaneAxis, size: (x: Int, y: Int, z: Int), mask: [UInt8]) -> Int {
        var counts = [Int](repeating: 0, count: count(axis: axis, size: size))
        var i = 0
        for z in 0..<size.z {
            for y in 0..<size.y {
                for x in 0..<size.x {
                    if mask[i] != 0 {
                        switch axis {
                        case .axial: counts[z] += 1
                        case .coronal: counts[y] += 1
                        case .sagittal: counts[x] += 1
                        }
                    }
                    i += 1
                }
            }
        }
        var best = 0
        for k in counts.indices where counts[k] > counts[best] { best = k }
        return best
    }

    /// Display size in pixels that fits `width`×`height` with the physical aspect ratio kept.
    public func fitted(width: Int, height: Int) -> (width: Int, height: Int) {
        guard u > 0, v > 0, width > 0, height > 0 else { return (0, 0) }
        let pu = Double(u) * spacingU, pv = Double(v) * spacingV
        let s = min(Double(width) / pu, Double(height) / pv)
        return (max(1, min(width, Int((pu * s).rounded()))), max(1, min(height, Int((pv * s).rounded()))))
    }
}
