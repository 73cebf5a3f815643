import Foundation

/// Segmentation quality of one class in one case.
///
/// Empty cases (documented convention):
/// - reference and prediction both empty: Dice 1, NSD 1, HD95 0 (nothing to find, nothing found);
/// - exactly one of them empty: Dice 0, NSD 0, HD95 +infinity (encoded as "inf" in JSON).
/// Callers that prefer nnU-Net's "skip empty references" can filter on `referenceVoxels == 0`.
public struct ClassMetrics: Sendable, Codable, Equatable {
    public var label: Int
    public var dice: Double
    /// Normalised surface Dice at `tolerance` mm.
    public var nsd: Double
    public var tolerance: Double
    /// 95th percentile Hausdorff distance in mm.
    public var hd95: Double
    public var referenceVoxels: Int
    public var predictionVoxels: Int
}

/// Dice, normalised surface Dice and HD95, with distances in millimetres (anisotropic spacing).
///
/// Surfaces are voxel surfaces: a foreground voxel with a 6-neighbour outside the mask (or on the
/// volume border) is a surface voxel. Surface distances are exact Euclidean distances between
/// voxel centres (separable distance transform). NSD = (|{a ∈ ∂A : d(a, ∂B) ≤ τ}| + |{b ∈ ∂B :
/// d(b, ∂A) ≤ τ}|) / (|∂A| + |∂B|). HD95 = max of the two directed 95th percentiles (MONAI's rule).
public enum Metrics {
    public static func evaluate(prediction: LabelVolume, reference: LabelVolume, labels: [Int],
                                tolerance: [Int: Double] = [:], defaultTolerance: Double = 1.0) throws -> [ClassMetrics] {
        guard prediction.shape == reference.shape else {
            throw VolumeError.invalidArgument("prediction \(prediction.shape) and reference \(reference.shape) have different shapes; predictions must be on the reference grid")
        }
        return labels.map { l in
            let a = prediction.data.map { Int($0) == l }, b = reference.data.map { Int($0) == l }
            return classMetrics(prediction: a, reference: b, shape: reference.shape, spacing: reference.spacing,
                                label: l, tolerance: tolerance[l] ?? defaultTolerance)
        }
    }

    public static func classMetrics(prediction a: [Bool], reference b: [Bool], shape: Shape3, spacing: SIMD3<Double>,
                                    label: Int, tolerance: Double) -> ClassMetrics {
        let na = a.reduce(0) { $0 + ($1 ? 1 : 0) }, nb = b.reduce(0) { $0 + ($1 ? 1 : 0) }
        var m = ClassMetrics(label: label, dice: 0, nsd: 0, tolerance: tolerance, hd95: .infinity,
                             referenceVoxels: nb, predictionVoxels: na)
        if na == 0 && nb == 0 { m.dice = 1; m.nsd = 1; m.hd95 = 0; return m }
        if na == 0 || nb == 0 { return m }
        m.dice = dice(a, b)
        let (dab, dba) = surfaceDistances(a, b, shape: shape, spacing: spacing)
        let within = dab.filter { $0 <= tolerance }.count + dba.filter { $0 <= tolerance }.count
        m.nsd = Double(within) / Double(dab.count + dba.count)
        m.hd95 = max(Stats.percentile(dab, 95), Stats.percentile(dba, 95))
        return m
    }

    public static func dice(_ a: [Bool], _ b: [Bool]) -> Double {
        var inter = 0, sa = 0, sb = 0
        for i in a.indices { if a[i] { sa += 1; if b[i] { inter += 1 } }; if b[i] { sb += 1 } }
        return sa + sb == 0 ? 1 : 2 * Double(inter) / Double(sa + sb)
    }

    /// Distances (mm) from each surface voxel of A to the surface of B, and from B's to A's.
    /// Works inside the joint bounding box (plus one voxel of background) to stay cheap.
    public static func surfaceDistances(_ a: [Bool], _ b: [Bool], shape s: Shape3, spacing: SIMD3<Double>) -> (aToB: [Double], bToA: [Double]) {
        var lo = [Int.max, Int.max, Int.max], hi = [-1, -1, -1]
        for k in 0..<s.z { for j in 0..<s.y { for i in 0..<s.x where a[s.index(i, j, k)] || b[s.index(i, j, k)] {
            lo[0] = min(lo[0], i); lo[1] = min(lo[1], j); lo[2] = min(lo[2], k)
            hi[0] = max(hi[0], i); hi[1] = max(hi[1], j); hi[2] = max(hi[2], k)
        } } }
        guard hi[0] >= 0 else { return ([], []) }
        // Sub-volume with a one-voxel background margin on every side.
        let sub = Shape3(hi[0] - lo[0] + 3, hi[1] - lo[1] + 3, hi[2] - lo[2] + 3)
        func extract(_ m: [Bool]) -> [Bool] {
            var out = [Bool](repeating: false, count: sub.count)
            for k in lo[2]...hi[2] { for j in lo[1]...hi[1] { for i in lo[0]...hi[0] {
                out[sub.index(i - lo[0] + 1, j - lo[1] + 1, k - lo[2] + 1)] = m[s.index(i, j, k)]
            } } }
            return out
        }
        let sa = surface(extract(a), shape: sub), sb = surface(extract(b), shape: sub)
        let da = distanceTransform(features: sa, shape: sub, spacing: spacing)
        let db = distanceTransform(features: sb, shape: sub, spacing: spacing)
        var aToB = [Double](), bToA = [Double]()
        for i in 0..<sub.count {
            if sa[i] { aToB.append(db[i].squareRoot()) }
            if sb[i] { bToA.append(da[i].squareRoot()) }
        }
        return (aToB, bToA)
    }

    /// Foreground voxels with at least one 6-neighbour that is background or outside the volume.
    public static func surface(_ m: [Bool], shape s: Shape3) -> [Bool] {
        var out = [Bool](repeating: false, count: s.count)
        for k in 0..<s.z { for j in 0..<s.y { for i in 0..<s.x {
            let o = s.index(i, j, k)
            guard m[o] else { continue }
            out[o] = i == 0 || j == 0 || k == 0 || i == s.x - 1 || j == s.y - 1 || k == s.z - 1
                || !m[o - 1] || !m[o + 1] || !m[o - s.x] || !m[o + s.x] || !m[o - s.x * s.y] || !m[o + s.x * s.y]
        } } }
        return out
    }

    /// Squared Euclidean distance (mm²) from every voxel to the nearest feature voxel
    /// (Felzenszwalb–Huttenlocher, one exact 1D pass per axis). Infinity when there is no feature.
    public static func distanceTransform(features: [Bool], shape s: Shape3, spacing: SIMD3<Double>) -> [Double] {
        var d = features.map { $0 ? 0.0 : Double.infinity }
        let strides = [1, s.x, s.x * s.y]
        for axis in 0..<3 {
            let n = s[axis], stride = strides[axis], w = spacing[axis] * spacing[axis]
            var f = [Double](repeating: 0, count: n), out = [Double](repeating: 0, count: n)
            var v = [Int](repeating: 0, count: n), z = [Double](repeating: 0, count: n + 1)
            let others = s.count / n
            for line in 0..<others {
                // First voxel of this line: decompose `line` over the two other axes.
                let base: Int
                switch axis {
                case 0: base = line * s.x
                case 1: base = (line / s.x) * s.x * s.y + line % s.x
                default: base = line
                }
                for t in 0..<n { f[t] = d[base + t * stride] }
                lowerEnvelope(f, n: n, w: w, v: &v, z: &z, out: &out)
                for t in 0..<n { d[base + t * stride] = out[t] }
            }
        }
        return d
    }

    /// 1D squared distance transform of sampled function f with squared spacing w.
    static func lowerEnvelope(_ f: [Double], n: Int, w: Double, v: inout [Int], z: inout [Double], out: inout [Double]) {
        var k = -1
        for q in 0..<n where f[q].isFinite {
            if k < 0 { k = 0; v[0] = q; z[0] = -.infinity; z[1] = .infinity; continue }
            func intersect(_ p: Int) -> Double {
                ((f[q] + w * Double(q * q)) - (f[p] + w * Double(p * p))) / (2 * w * Double(q - p))
            }
            var sIntersect = intersect(v[k])
            while sIntersect <= z[k] { k -= 1; sIntersect = intersect(v[k]) }   // z[0] = -inf stops it
            k += 1; v[k] = q; z[k] = sIntersect; z[k + 1] = .infinity
        }
        if k < 0 { for q in 0..<n { out[q] = .infinity }; return }
        var j = 0
        for q in 0..<n {
            while z[j + 1] < Double(q) { j += 1 }
            let dq = Double(q - v[j])
            out[q] = w * dq * dq + f[v[j]]
        }
    }
}
