import Foundation
import Synchronization
import Files
import Tensor

/// Which scanner the abdomen phantom imitates: CT in Hounsfield units, or a T1-weighted MR.
public enum AbdomenModality: String, Sendable, CaseIterable {
    case ct, mr
}

/// Settings of the harder synthetic task (../shared/notes/phantom-recipe.md). The recipe gives organ
/// sizes in anatomical millimetres (a 300 mm wide body); a 128-voxel slice at 0.7–1.0 mm covers only
/// 90–136 mm, so the anatomy is mapped into the world by a fixed `anatomyScale` (in-plane, through-plane).
public struct AbdomenConfig: Sendable {
    public var modality: AbdomenModality
    /// Voxels along x and y (each drawn separately).
    public var inPlaneSize: ClosedRange<Int> = 120...136
    /// Slices; the count is chosen so the slab is `slabThickness` thick, then clamped to this range.
    public var sliceCount: ClosedRange<Int> = 48...96
    public var inPlaneSpacing: ClosedRange<Double> = 0.7...1.0
    public var sliceSpacing: ClosedRange<Double> = 2.5...5.0
    public var slabThickness: ClosedRange<Double> = 170...240
    /// World millimetres per anatomical millimetre: in-plane (the body fits the smallest field of
    /// view with its warp), through-plane (the organs fill 60–90 % of the slab).
    public var anatomyScale = SIMD2<Double>(0.22, 0.75)
    /// Paint the liver tumour (off only in tests, to check the tumour lies inside the liver).
    var includeTumour = true
    /// Only the block-averaged tissue means, without texture, bias and noise (tests of partial volume).
    var cleanIntensities = false

    public init(modality: AbdomenModality = .ct) { self.modality = modality }

    /// The same task on a grid `f` times smaller along every axis (field of view and anatomy
    /// shrink with it; spacings stay). For fast tests.
    public func scaled(_ f: Double) -> AbdomenConfig {
        func scale(_ r: ClosedRange<Int>) -> ClosedRange<Int> {
            let lo = max(4, Int((Double(r.lowerBound) * f).rounded()))
            return lo...max(lo, Int((Double(r.upperBound) * f).rounded()))
        }
        var c = self
        c.inPlaneSize = scale(inPlaneSize)
        c.sliceCount = scale(sliceCount)
        c.slabThickness = (slabThickness.lowerBound * f)...(slabThickness.upperBound * f)
        c.anatomyScale = anatomyScale * f
        return c
    }
}

/// How a case's voxels are stored on disk (the canonical arrays are the same either way).
public enum AbdomenStorage: String, Sendable {
    case ras = "RAS", lps = "LPS"
}

/// One generated case: canonical (RAS) arrays, the header it is written with, and how it is stored.
public struct AbdomenCase: Sendable {
    public var image: Volume          // CT: Hounsfield units (integers in [-1024, 3071]); MR: arbitrary units
    public var labels: LabelVolume    // values of `AbdomenPhantom.labels`
    public var header: NIfTIHeader
    public var storage: AbdomenStorage
}

/// A harder synthetic abdomen: warped organs with texture, thin pancreas, a lobulated liver tumour,
/// vertebrae and aorta as unlabelled distractors, partial volume from 2×2×4 supersampling, a bias
/// field and noise; anisotropic spacing with RAS and LPS storage mixed; CT or MR intensities.
///
/// Each case is drawn from its own streams of the Volume module's `RNG` and rendered by one
/// thread, so bytes depend only on (seed, index, config), never on the thread count.
public enum AbdomenPhantom {
    public static let labels: [Int: String] = [0: "background", 1: "liver", 2: "spleen", 3: "kidney",
                                               4: "pancreas", 5: "stomach", 6: "tumour"]

    /// Generates case `index` (training cases are 0..., test images 1000...).
    public static func generate(index: Int, seed: UInt64, config: AbdomenConfig = .init()) -> AbdomenCase {
        AbdomenRenderer(index: index, seed: seed, config: config).render()
    }

    /// Writes a complete MSD task: `dataset.json`, `imagesTr/`, `labelsTr/` (int16 images, uint8
    /// labels, gzip) and `imagesTs/`. Cases are rendered in parallel on the compute pool; the files
    /// do not depend on the thread count. Returns the case ids (training, then test).
    @discardableResult
    public static func writeTask(to folder: URL, trainingCases: Int = 24, testCases: Int = 3, seed: UInt64 = 0,
                                 config: AbdomenConfig = .init(), progress: (@Sendable (String) -> Void)? = nil) throws -> [String] {
        let fm = FileManager.default
        for sub in ["imagesTr", "labelsTr", "imagesTs"] {
            do { try fm.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true) }
            catch { throw VolumeError.writeFailed(path: folder.appendingPathComponent(sub).path, detail: error.localizedDescription) }
        }
        let prefix = config.modality == .ct ? "abdomenct" : "abdomenmr"
        let total = trainingCases + testCases
        let ids = (0..<total).map { n in
            n < trainingCases ? String(format: "\(prefix)_%03d", n + 1) : String(format: "\(prefix)_%03d", 101 + n - trainingCases)
        }
        let failures = Mutex<[Int: any Error]>([:])
        Compute.parallelFor(total) { n in
            let isTest = n >= trainingCases
            let name = "\(ids[n]).nii.gz"
            do {
                let c = generate(index: isTest ? 1000 + n - trainingCases : n, seed: seed, config: config)
                if isTest {
                    try NIfTI.write(c.image, storage: .int16, like: c.header, to: folder.appendingPathComponent("imagesTs/\(name)"))
                } else {
                    try NIfTI.write(c.image, storage: .int16, like: c.header, to: folder.appendingPathComponent("imagesTr/\(name)"))
                    try NIfTI.write(c.labels, like: c.header, to: folder.appendingPathComponent("labelsTr/\(name)"))
                }
                progress?(ids[n])
            } catch {
                failures.withLock { $0[n] = error }
            }
        }
        if let first = failures.withLock({ f in f.keys.min().map { f[$0]! } }) { throw first }

        let training = ids.prefix(trainingCases).map { "{\"image\": \"./imagesTr/\($0).nii.gz\", \"label\": \"./labelsTr/\($0).nii.gz\"}" }
        let test = ids.dropFirst(trainingCases).map { "\"./imagesTs/\($0).nii.gz\"" }
        let modality = config.modality == .ct ? "CT" : "MRI"
        try MSDDatasetJSON.write(to: folder, name: "Abdomen\(config.modality == .ct ? "CT" : "MR")",
                                 description: "Synthetic \(modality) abdomen (c2fnas sample --kind abdomen, seed \(seed)): warped organs, thin pancreas, lobulated liver tumour, vertebrae and aorta unlabelled, partial volume, bias field, noise; anisotropic spacing, RAS and LPS storage mixed",
                                 reference: "generated by `c2fnas sample --kind abdomen`", modality: modality, labels: labels,
                                 training: training, test: test)
        return ids
    }
}

/// Tissues painted on the supersampled grid; each maps to one label.
enum AbdomenTissue: Int, CaseIterable {
    case air, fat, soft, bone, disc, aorta, liver, spleen, medulla, cortex, pancreas, stomachWall, stomachGas,
         stomachFluid, tumour, necrosis

    static let count = allCases.count
    static let label: [UInt8] = allCases.map { t in
        switch t {
        case .air, .fat, .soft, .bone, .disc, .aorta: 0
        case .liver: 1
        case .spleen: 2
        case .medulla, .cortex: 3
        case .pancreas: 4
        case .stomachWall, .stomachGas, .stomachFluid: 5
        case .tumour, .necrosis: 6
        }
    }
    var bit: UInt32 { 1 << UInt32(rawValue) }
    static func mask(_ ts: [AbdomenTissue]) -> UInt32 { ts.reduce(0) { $0 | $1.bit } }
}

/// One painted primitive in warped anatomical coordinates (mm). It overwrites a sample only where
/// the sample's current tissue is in `allowed`, so paint order plus masks keep organs disjoint.
struct AbdomenSolid {
    enum Kind { case ellipsoid, cylinder, column, lumen }
    var kind: Kind
    var tissue: UInt8
    /// Second tissue: the disc (column) or the fluid below the gas level (lumen).
    var other: UInt8 = 0
    var allowed: UInt32
    var centre: SIMD3<Float>
    /// Rows: principal axes divided by their radii (u = m · (p − centre), inside when |u| ≤ 1).
    var m0: SIMD3<Float>, m1: SIMD3<Float>, m2: SIMD3<Float>
    var lower: SIMD3<Float>, upper: SIMD3<Float>
    /// Column: z phase, period and disc fraction; lumen: the gas–fluid level (y).
    var p0: Float = 0, p1: Float = 1, p2: Float = 0

    /// An ellipsoid with principal axes `axes` (orthonormal) and radii `r`.
    static func ellipsoid(_ t: AbdomenTissue, allowed: UInt32, centre c: SIMD3<Double>, axes: [SIMD3<Double>], radii r: SIMD3<Double>) -> AbdomenSolid {
        var half = SIMD3<Double>.zero
        for a in 0..<3 {
            half[a] = ((axes[0][a] * r.x) * (axes[0][a] * r.x) + (axes[1][a] * r.y) * (axes[1][a] * r.y)
                       + (axes[2][a] * r.z) * (axes[2][a] * r.z)).squareRoot()
        }
        return AbdomenSolid(kind: .ellipsoid, tissue: UInt8(t.rawValue), allowed: allowed, centre: SIMD3<Float>(c),
                            m0: SIMD3<Float>(axes[0] / r.x), m1: SIMD3<Float>(axes[1] / r.y), m2: SIMD3<Float>(axes[2] / r.z),
                            lower: SIMD3<Float>(c - half), upper: SIMD3<Float>(c + half))
    }

    /// An elliptic cylinder along z over the whole slab.
    static func cylinder(_ t: AbdomenTissue, allowed: UInt32, x: Double, y: Double, rx: Double, ry: Double) -> AbdomenSolid {
        AbdomenSolid(kind: .cylinder, tissue: UInt8(t.rawValue), allowed: allowed, centre: SIMD3<Float>(Float(x), Float(y), 0),
                     m0: SIMD3<Float>(Float(1 / rx), 0, 0), m1: SIMD3<Float>(0, Float(1 / ry), 0), m2: .zero,
                     lower: SIMD3<Float>(Float(x - rx), Float(y - ry), -.infinity), upper: SIMD3<Float>(Float(x + rx), Float(y + ry), .infinity))
    }
}

/// Renders one case. Everything is drawn up front from the case's streams; the rendering loops
/// reuse buffers allocated once per case.
struct AbdomenRenderer {
    let config: AbdomenConfig
    let index: Int
    let seed: UInt64
    let shape: Shape3
    let spacing: SIMD3<Double>
    let storage: AbdomenStorage
    /// World mm per anatomical mm along x, y, z.
    let scale: SIMD3<Double>

    private var geometry: RNG
    private var intensity: RNG
    private var fields: RNG

    init(index: Int, seed: UInt64, config: AbdomenConfig) {
        self.config = config; self.index = index; self.seed = seed
        // Streams salted apart from `Phantom` (which uses split(index)) and from each other, so the
        // MR variant and a tumour-free rendering share the CT case's geometry draw for draw.
        let base = 0x4142_444F_0000_0000 &+ UInt64(index) &* 4
        var g = RNG(seed: seed, stream: base &+ 1)
        intensity = RNG(seed: seed, stream: base &+ 2)
        fields = RNG(seed: seed, stream: base &+ 3)
        let nx = g.int(in: config.inPlaneSize), ny = g.int(in: config.inPlaneSize)
        let dx = (g.uniformDouble(config.inPlaneSpacing.lowerBound, config.inPlaneSpacing.upperBound) * 100).rounded() / 100
        let dz = (g.uniformDouble(config.sliceSpacing.lowerBound, config.sliceSpacing.upperBound) * 10).rounded() / 10
        let slab = g.uniformDouble(config.slabThickness.lowerBound, config.slabThickness.upperBound)
        let nz = min(max(Int((slab / dz).rounded()), config.sliceCount.lowerBound), config.sliceCount.upperBound)
        shape = Shape3(nx, ny, nz)
        spacing = SIMD3(dx, dx, dz)
        storage = index % 2 == 0 ? .lps : .ras
        scale = SIMD3(config.anatomyScale.x, config.anatomyScale.x, config.anatomyScale.y)
        geometry = g
    }

    // MARK: Header

    /// Centred on the world origin; LPS storage runs x to the Left and y Posterior (like DICOM
    /// conversions), RAS storage runs along the canonical axes. Both give the same canonical grid.
    func makeHeader() -> NIfTIHeader {
        let half = SIMD3(Double(shape.x - 1), Double(shape.y - 1), Double(shape.z - 1)) * spacing / 2
        let s = spacing
        let affine = storage == .lps
            ? Affine(rowMajor: [-s.x, 0, 0, half.x, 0, -s.y, 0, half.y, 0, 0, s.z, -half.z, 0, 0, 0, 1])
            : Affine(rowMajor: [s.x, 0, 0, -half.x, 0, s.y, 0, -half.y, 0, 0, s.z, -half.z, 0, 0, 0, 1])
        return NIfTIHeader(fileShape: shape, fileAffine: affine,
                           descrip: "c2fnas abdomen \(config.modality.rawValue) \(index) seed \(seed)")
    }

    // MARK: Anatomy (anatomical mm, RAS: +x patient right, +y anterior, +z superior)

    struct Anatomy {
        var bodyA: Double, bodyB: Double, fat: Double
        var solids: [AbdomenSolid]
    }

    private mutating func jitter(_ v: SIMD3<Double>, _ f: Double) -> SIMD3<Double> {
        v * SIMD3(geometry.uniformDouble(1 - f, 1 + f), geometry.uniformDouble(1 - f, 1 + f), geometry.uniformDouble(1 - f, 1 + f))
    }

    /// Axes of a rotation by small random angles (degrees) about z, then x, then y.
    private mutating func rotation(z: Double, x: Double, y: Double) -> [SIMD3<Double>] {
        let a = geometry.uniformDouble(-z, z) * .pi / 180, b = geometry.uniformDouble(-x, x) * .pi / 180, c = geometry.uniformDouble(-y, y) * .pi / 180
        func rz(_ v: SIMD3<Double>) -> SIMD3<Double> { SIMD3(cos(a) * v.x - sin(a) * v.y, sin(a) * v.x + cos(a) * v.y, v.z) }
        func rx(_ v: SIMD3<Double>) -> SIMD3<Double> { SIMD3(v.x, cos(b) * v.y - sin(b) * v.z, sin(b) * v.y + cos(b) * v.z) }
        func ry(_ v: SIMD3<Double>) -> SIMD3<Double> { SIMD3(cos(c) * v.x + sin(c) * v.z, v.y, -sin(c) * v.x + cos(c) * v.z) }
        return [SIMD3(1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, 0, 1)].map { ry(rx(rz($0))) }
    }

    /// An organ ellipsoid: centre jittered by ±15 % of its radii, radii ±15 %, small rotation.
    private mutating func organ(_ t: AbdomenTissue, allowed: UInt32, centre: SIMD3<Double>, radii: SIMD3<Double>,
                                zShift: Double, angles: SIMD3<Double> = SIMD3(25, 15, 15)) -> (AbdomenSolid, SIMD3<Double>, [SIMD3<Double>], SIMD3<Double>) {
        let r = jitter(radii, 0.15)
        let c = centre + radii * SIMD3(geometry.uniformDouble(-0.15, 0.15), geometry.uniformDouble(-0.15, 0.15), geometry.uniformDouble(-0.15, 0.15))
            + SIMD3(0, 0, zShift)
        let axes = rotation(z: angles.x, x: angles.y, y: angles.z)
        return (.ellipsoid(t, allowed: allowed, centre: c, axes: axes, radii: r), c, axes, r)
    }

    private mutating func drawAnatomy() -> Anatomy {
        let bodyA = 150 * geometry.uniformDouble(0.9, 1.1), bodyB = 110 * geometry.uniformDouble(0.9, 1.1)
        let fat = geometry.uniformDouble(5, 15)
        let sx = bodyA / 150, sy = bodyB / 110
        // The organ block spans about z −80...+105; centre it in the slab, ±10 mm.
        let zShift = -12 + geometry.uniformDouble(-10, 10)
        let inner = AbdomenTissue.mask([.soft, .liver, .spleen, .medulla, .cortex, .pancreas, .stomachWall, .stomachGas, .stomachFluid])
        var solids: [AbdomenSolid] = []

        let liver = organ(.liver, allowed: inner, centre: SIMD3(55 * sx, 0, 40), radii: SIMD3(90, 75, 65), zShift: zShift)
        solids.append(liver.0)
        let spleen = organ(.spleen, allowed: inner, centre: SIMD3(-85 * sx, -30 * sy, 45), radii: SIMD3(25, 55, 35), zShift: zShift)
        solids.append(spleen.0)
        let withCortex = geometry.bernoulli(0.5)
        for side in [1.0, -1.0] {
            let k = organ(withCortex ? .cortex : .medulla, allowed: inner, centre: SIMD3(50 * side * sx, -55 * sy, side > 0 ? -25 : -15),
                          radii: SIMD3(25, 30, 55), zShift: zShift, angles: SIMD3(20, 10, 10))
            solids.append(k.0)
            if withCortex {
                let cortex = geometry.uniformDouble(5, 8)
                solids.append(.ellipsoid(.medulla, allowed: AbdomenTissue.cortex.bit, centre: k.1, axes: k.2,
                                         radii: k.3 - SIMD3(repeating: cortex)))
            }
        }
        // Stomach: a 4–6 mm wall around a lumen with gas above (anterior) a fluid level.
        let stomach = organ(.stomachWall, allowed: inner, centre: SIMD3(-45 * sx, 40 * sy, 45), radii: SIMD3(45, 30, 50), zShift: zShift)
        solids.append(stomach.0)
        let wall = geometry.uniformDouble(4, 6)
        var lumen = AbdomenSolid.ellipsoid(.stomachGas, allowed: AbdomenTissue.stomachWall.bit, centre: stomach.1, axes: stomach.2,
                                           radii: stomach.3 - SIMD3(repeating: wall))
        lumen.kind = .lumen
        lumen.other = UInt8(AbdomenTissue.stomachFluid.rawValue)
        lumen.p0 = Float(stomach.1.y + stomach.3.y * geometry.uniformDouble(-0.3, 0.6))
        solids.append(lumen)
        // Pancreas: a bent chain of three ellipsoids about 20 mm thick, head (right) to tail (left).
        let chain = [SIMD3(22 * sx, 5 * sy, -40), SIMD3(-10 * sx, 15 * sy, -30), SIMD3(-50 * sx, 5 * sy, -5)].map { p in
            p + SIMD3(geometry.uniformDouble(-8, 8), geometry.uniformDouble(-6, 6), geometry.uniformDouble(-8, 8) + zShift)
        }
        for i in 0..<3 {
            let prev = chain[max(0, i - 1)], next = chain[min(2, i + 1)]
            var t = next - prev
            t /= (t * t).sum().squareRoot()
            let up = SIMD3<Double>(0, 0, 1)
            var e2 = up - (up * t).sum() * t
            e2 /= (e2 * e2).sum().squareRoot()
            let e3 = SIMD3(t.y * e2.z - t.z * e2.y, t.z * e2.x - t.x * e2.z, t.x * e2.y - t.y * e2.x)
            let gap = min(simdLength(chain[i] - prev, orZero: 1e9), simdLength(chain[i] - next, orZero: 1e9))
            let long = 0.65 * gap + (i == 0 ? 4 : 0)
            let thin = SIMD2(geometry.uniformDouble(8.5, 11.5), geometry.uniformDouble(8.5, 11.5)) * (i == 0 ? 1.3 : 1)
            solids.append(.ellipsoid(.pancreas, allowed: inner, centre: chain[i], axes: [t, e2, e3], radii: SIMD3(long, thin.x, thin.y)))
        }
        // Distractors: aorta (contrast-filled tube) anterior-left of the spine; vertebral bodies with discs.
        let innerAll = inner | AbdomenTissue.mask([.bone, .disc, .aorta])
        let spineY = -bodyB + 45 + geometry.uniformDouble(-5, 5), spineR = 18 * geometry.uniformDouble(0.9, 1.1)
        let aortaR = 12.5 * geometry.uniformDouble(0.9, 1.1)
        solids.append(.cylinder(.aorta, allowed: innerAll, x: -12 + geometry.uniformDouble(-4, 4), y: spineY + spineR + aortaR + geometry.uniformDouble(0, 4),
                                rx: aortaR, ry: aortaR))
        var column = AbdomenSolid.cylinder(.bone, allowed: innerAll, x: 0, y: spineY, rx: spineR, ry: spineR * 0.9)
        column.kind = .column
        column.other = UInt8(AbdomenTissue.disc.rawValue)
        column.p0 = Float(geometry.uniformDouble(0, 33)); column.p1 = 33; column.p2 = Float(geometry.uniformDouble(0.2, 0.3))
        solids.append(column)
        solids.append(.cylinder(.bone, allowed: innerAll | AbdomenTissue.fat.bit, x: 0, y: spineY - spineR - 10, rx: 7, ry: 13))

        // Tumour: 2–4 spheres inside the liver, clipped to it; optional necrotic core.
        let minimum = max(12, 2.5 * spacing.x / scale.x, 1.2 * spacing.z / scale.z)
        let r1 = max(geometry.uniformDouble(12, 30), minimum)
        var u = SIMD3<Double>(repeating: 1)
        while (u * u).sum() > 1 { u = SIMD3(geometry.uniformDouble(-1, 1), geometry.uniformDouble(-1, 1), geometry.uniformDouble(-1, 1)) }
        let shrink = SIMD3<Double>(repeating: 0.45) * liver.3 - SIMD3(repeating: 0.3 * r1)
        let local = u * pointwiseMax(shrink, SIMD3<Double>(repeating: 0))
        let c1 = liver.1 + liver.2[0] * local.x + liver.2[1] * local.y + liver.2[2] * local.z
        let identity = [SIMD3<Double>(1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, 0, 1)]
        var tumour: [AbdomenSolid] = [.ellipsoid(.tumour, allowed: AbdomenTissue.liver.bit, centre: c1, axes: identity, radii: SIMD3(repeating: r1))]
        for _ in 1..<geometry.int(in: 2...4) {
            let r = geometry.uniformDouble(5, max(5.5, 0.8 * r1))
            var d = SIMD3(geometry.gaussian(), geometry.gaussian(), geometry.gaussian())
            d /= max((d * d).sum().squareRoot(), 1e-9)
            tumour.append(.ellipsoid(.tumour, allowed: AbdomenTissue.liver.bit, centre: c1 + d * (r1 + r) * geometry.uniformDouble(0.3, 0.7),
                                     axes: identity, radii: SIMD3(repeating: r)))
        }
        if geometry.bernoulli(0.4) {
            tumour.append(.ellipsoid(.necrosis, allowed: AbdomenTissue.tumour.bit, centre: c1, axes: identity, radii: SIMD3(repeating: 0.45 * r1)))
        }
        if config.includeTumour { solids += tumour }
        return Anatomy(bodyA: bodyA, bodyB: bodyB, fat: fat, solids: solids)
    }

    // MARK: Rendering

    func render() -> AbdomenCase {
        var me = self
        return me.renderCase()
    }

    private mutating func renderCase() -> AbdomenCase {
        let anatomy = drawAnatomy()
        let header = makeHeader()
        let n = shape.count
        let (nx, ny, nz) = (shape.x, shape.y, shape.z)
        let fx = 2 * nx

        // Unwarped anatomical coordinates of the supersamples: 2 per voxel in x and y, 4 in z.
        func supersamples(_ n: Int, per: Int, axis: Int) -> [Float] {
            let mmPerStep: Double = spacing[axis] / scale[axis]
            let first: Double = 0.5 / Double(per) - 0.5 - Double(n - 1) / 2
            return (0..<(n * per)).map { (f: Int) -> Float in Float((first + Double(f) / Double(per)) * mmPerStep) }
        }
        let qx = supersamples(nx, per: 2, axis: 0), qy = supersamples(ny, per: 2, axis: 1), qz = supersamples(nz, per: 4, axis: 2)

        // One smooth displacement field for all masks: Gaussian-filtered noise on a 10 mm lattice,
        // RMS length 5–10 mm, smoothed over 25 mm.
        let lower = SIMD3<Double>(Double(qx[0]), Double(qy[0]), Double(qz[0]))
        let upper = SIMD3<Double>(Double(qx[qx.count - 1]), Double(qy[qy.count - 1]), Double(qz[qz.count - 1]))
        let warp = WarpLattice(lower: lower, upper: upper,
                               step: 10, sigma: 25, rms: geometry.uniformDouble(5, 10), rng: &fields)
        let cells = qx.map { warp.cell(Double($0), axis: 0) }

        // Painted tissues of the 8 supersample rows (2 in y × 4 in z) of one voxel row.
        var tissues = [UInt8](repeating: 0, count: 8 * fx)
        var wx = [Float](repeating: 0, count: fx), wy = wx, wz = wx
        var warpRow = [SIMD3<Float>](repeating: .zero, count: warp.count.x)

        // Per voxel: tissue fractions → mean intensity and texture weights; majority label.
        let means = drawMeans()
        let textureAmp = (0..<AbdomenTissue.count).map { t -> (Float, Float) in
            if t == AbdomenTissue.air.rawValue || t == AbdomenTissue.stomachGas.rawValue { return (0, 0) }
            let a = geometry.uniformDouble(5, 10) * (config.modality == .mr ? 4 : 1), th = geometry.uniformDouble(0, 2 * .pi)
            return (Float(a * cos(th)), Float(a * sin(th)))
        }
        var mixed = [Float](repeating: 0, count: n), texA = mixed, texB = mixed
        var labelData = [UInt8](repeating: 0, count: n)
        let solids = anatomy.solids
        let bodyA = Float(anatomy.bodyA), bodyB = Float(anatomy.bodyB), fat = Float(anatomy.fat)
        let tissueLabel = AbdomenTissue.label
        let meanF = means.map { Float($0) }

        tissues.withUnsafeMutableBufferPointer { tis in
        wx.withUnsafeMutableBufferPointer { wx in
        wy.withUnsafeMutableBufferPointer { wy in
        wz.withUnsafeMutableBufferPointer { wz in
        warpRow.withUnsafeMutableBufferPointer { row in
            for k in 0..<nz {
                for j in 0..<ny {
                    for r in 0..<8 {
                        let yq = qy[2 * j + (r & 1)], zq = qz[4 * k + (r >> 1)]
                        warp.row(y: Double(yq), z: Double(zq), into: row)
                        var ylo = Float.infinity, yhi = -Float.infinity, zlo = Float.infinity, zhi = -Float.infinity
                        for f in 0..<fx {
                            let c = cells[f]
                            let d = row[c.index] * (1 - c.t) + row[c.index + 1] * c.t
                            wx[f] = qx[f] + d.x; wy[f] = yq + d.y; wz[f] = zq + d.z
                            ylo = min(ylo, wy[f]); yhi = max(yhi, wy[f]); zlo = min(zlo, wz[f]); zhi = max(zhi, wz[f])
                        }
                        let out = tis.baseAddress! + r * fx
                        paintRow(out: out, wx: wx, wy: wy, wz: wz, count: fx, yRange: (ylo, yhi), zRange: (zlo, zhi),
                                 solids: solids, bodyA: bodyA, bodyB: bodyB, fat: fat)
                    }
                    // Block average (tissue fractions) and majority vote over the 16 supersamples.
                    let base = (k * ny + j) * nx
                    for i in 0..<nx {
                        var tc = (UInt64(0), UInt64(0))   // 16 tissue counts, 8 bits each
                        var lc = UInt64(0)                // 7 label counts, 8 bits each
                        for r in 0..<8 {
                            for s in 0..<2 {
                                let t = Int(tis[r * fx + 2 * i + s])
                                if t < 8 { tc.0 &+= 1 << UInt64(8 * t) } else { tc.1 &+= 1 << UInt64(8 * (t - 8)) }
                                lc &+= 1 << UInt64(8 * Int(tissueLabel[t]))
                            }
                        }
                        var m: Float = 0, a: Float = 0, b: Float = 0
                        for t in 0..<16 {
                            let c = Float(((t < 8 ? tc.0 : tc.1) >> UInt64(8 * (t & 7))) & 0xFF)
                            if c > 0 { m += c * meanF[t]; a += c * textureAmp[t].0; b += c * textureAmp[t].1 }
                        }
                        // Majority label; a tie goes to the higher class (the smaller structure).
                        var best = 0, bestCount: UInt64 = 0
                        for l in 0..<7 {
                            let c = (lc >> UInt64(8 * l)) & 0xFF
                            if c >= bestCount && c > 0 { best = l; bestCount = c }
                        }
                        mixed[base + i] = m / 16; texA[base + i] = a / 16; texB[base + i] = b / 16
                        labelData[base + i] = UInt8(best)
                    }
                }
            }
        } } } } }

        let image = finishIntensities(mixed: mixed, texA: texA, texB: texB)
        return AbdomenCase(image: Volume(grid: header.grid, data: image), labels: LabelVolume(grid: header.grid, data: labelData),
                           header: header, storage: storage)
    }

    /// Paints one supersample row: body (air, fat ring, soft tissue), then every solid in order.
    private func paintRow(out: UnsafeMutablePointer<UInt8>, wx: UnsafeMutableBufferPointer<Float>, wy: UnsafeMutableBufferPointer<Float>,
                          wz: UnsafeMutableBufferPointer<Float>, count: Int, yRange: (Float, Float), zRange: (Float, Float),
                          solids: [AbdomenSolid], bodyA: Float, bodyB: Float, fat: Float) {
        let ia = 1 / bodyA, ib = 1 / bodyB, fa = 1 / (bodyA - fat), fb = 1 / (bodyB - fat)
        for f in 0..<count {
            let x = wx[f], y = wy[f]
            let outer = (x * ia) * (x * ia) + (y * ib) * (y * ib)
            let inner = (x * fa) * (x * fa) + (y * fb) * (y * fb)
            out[f] = inner <= 1 ? UInt8(AbdomenTissue.soft.rawValue) : (outer <= 1 ? UInt8(AbdomenTissue.fat.rawValue) : 0)
        }
        for s in solids {
            if s.upper.y < yRange.0 || s.lower.y > yRange.1 || s.upper.z < zRange.0 || s.lower.z > zRange.1 { continue }
            let lx = s.lower.x, ux = s.upper.x
            switch s.kind {
            case .ellipsoid, .lumen:
                for f in 0..<count {
                    let x = wx[f]
                    if x < lx || x > ux || (s.allowed >> UInt32(out[f])) & 1 == 0 { continue }
                    let p = SIMD3(x, wy[f], wz[f]) - s.centre
                    let u0 = (s.m0 * p).sum(), u1 = (s.m1 * p).sum(), u2 = (s.m2 * p).sum()
                    if u0 * u0 + u1 * u1 + u2 * u2 <= 1 {
                        out[f] = s.kind == .lumen && wy[f] < s.p0 ? s.other : s.tissue
                    }
                }
            case .cylinder, .column:
                for f in 0..<count {
                    let x = wx[f]
                    if x < lx || x > ux || (s.allowed >> UInt32(out[f])) & 1 == 0 { continue }
                    let u0 = (x - s.centre.x) * s.m0.x, u1 = (wy[f] - s.centre.y) * s.m1.y
                    if u0 * u0 + u1 * u1 <= 1 {
                        if s.kind == .column {
                            let phase = (wz[f] - s.p0) / s.p1
                            out[f] = phase - phase.rounded(.down) < s.p2 ? s.other : s.tissue
                        } else {
                            out[f] = s.tissue
                        }
                    }
                }
            }
        }
    }

    /// Mean intensity per tissue (recipe values, small per-case jitter), in tissue order.
    private mutating func drawMeans() -> [Double] {
        var g = intensity
        defer { intensity = g }
        func j(_ v: Double, _ d: Double) -> Double { v + g.uniformDouble(-d, d) }
        let hypo = g.bernoulli(0.75), delta = g.uniformDouble(20, 40)
        let cortexEnhanced = g.uniformDouble(0, 1)   // drawn in both modalities to keep the streams aligned
        switch config.modality {
        case .ct:
            let liver = j(60, 3)
            return [-1000, j(-100, 5), 40, g.uniformDouble(400, 700), 80, g.uniformDouble(150, 250), liver, j(50, 3), 30,
                    120 + 60 * cortexEnhanced, j(45, 3), 40, -1000, j(10, 5), liver + (hypo ? -delta : delta), 10]
        case .mr:
            // T1-like: fat bright, fluid dark, pancreas bright, flowing blood dark.
            let liver = j(500, 20), d = delta * 5
            return [0, j(900, 30), 300, g.uniformDouble(500, 650), 250, 80, liver, j(400, 20), 280,
                    380 + 150 * cortexEnhanced, j(550, 20), 320, 0, j(100, 15), liver + (hypo ? -d : d), 100]
        }
    }

    /// Texture (two smooth fields mixed per tissue), bias field and noise; CT clipped to
    /// [−1024, 3071], integers (stored as int16).
    private mutating func finishIntensities(mixed: [Float], texA: [Float], texB: [Float]) -> [Float] {
        if config.cleanIntensities { return mixed }
        let n = shape.count
        // Texture: σ ≈ 5 anatomical mm, unit standard deviation before the per-tissue amplitude.
        let texSigma = SIMD3(5 * scale.x / spacing.x, 5 * scale.y / spacing.y, 5 * scale.z / spacing.z)
        var f1 = SmoothNoise.field(shape: shape, sigma: texSigma, rng: &fields)
        var f2 = SmoothNoise.field(shape: shape, sigma: texSigma, rng: &fields)
        // Bias: three broad Gaussians whose weights sum to at most `peak` in absolute value.
        var g = intensity
        let peak = config.modality == .ct ? g.uniformDouble(10, 20) : g.uniformDouble(0.05, 0.15)
        let extent = SIMD3(Double(shape.x), Double(shape.y), Double(shape.z))
        var w = (0..<3).map { _ in g.uniformDouble(-1, 1) }
        let wsum = max(w.reduce(0) { $0 + abs($1) }, 1e-9)
        w = w.map { $0 * peak / wsum }
        let factors: [[[Float]]] = (0..<3).map { _ in
            let c = SIMD3(g.uniformDouble(0, 1), g.uniformDouble(0, 1), g.uniformDouble(0, 1)) * extent
            let s = SIMD3(g.uniformDouble(0.4, 0.8), g.uniformDouble(0.4, 0.8), g.uniformDouble(0.4, 0.8)) * extent
            return (0..<3).map { a in (0..<shape[a]).map { i in Float(exp(-0.5 * pow((Double(i) - c[a]) / s[a], 2))) } }
        }
        let noiseSigma = config.modality == .ct ? g.uniformDouble(10, 25) : g.uniformDouble(15, 35)
        let correlated = g.bernoulli(0.5)
        intensity = g
        var noise = correlated && config.modality == .ct
            ? SmoothNoise.field(shape: shape, sigma: SIMD3(1, 1, 0), rng: &fields)
            : SmoothNoise.white(count: n, rng: &fields)
        var noise2 = config.modality == .mr ? SmoothNoise.white(count: n, rng: &fields) : []

        var out = [Float](repeating: 0, count: n)
        let wf = w.map { Float($0) }, sigma = Float(noiseSigma)
        let isCT = config.modality == .ct
        f1.withUnsafeMutableBufferPointer { f1 in
        f2.withUnsafeMutableBufferPointer { f2 in
        noise.withUnsafeMutableBufferPointer { nz in
        noise2.withUnsafeMutableBufferPointer { nz2 in
            var o = 0
            for k in 0..<shape.z {
                for j in 0..<shape.y {
                    for i in 0..<shape.x {
                        var bias: Float = 0
                        for b in 0..<3 { bias += wf[b] * factors[b][0][i] * factors[b][1][j] * factors[b][2][k] }
                        let clean = mixed[o] + texA[o] * f1[o] + texB[o] * f2[o]
                        let v: Float
                        if isCT {
                            v = min(max((clean + bias + sigma * nz[o]).rounded(), -1024), 3071)
                        } else {
                            let s = max(clean, 0) * (1 + bias)
                            let re = s + sigma * nz[o], im = sigma * nz2[o]
                            v = min((re * re + im * im).squareRoot().rounded(), 3071)
                        }
                        out[o] = v
                        o += 1
                    }
                }
            }
        } } } }
        return out
    }
}

@inline(__always) private func simdLength(_ v: SIMD3<Double>, orZero fallback: Double) -> Double {
    let l = (v * v).sum().squareRoot()
    return l > 0 ? l : fallback
}

/// A smooth displacement field (3 components) on a regular lattice in anatomical mm, interpolated
/// trilinearly: a row of fixed (y, z) is first reduced to one line of lattice values.
struct WarpLattice {
    let origin: SIMD3<Double>
    let step: Double
    let count: Shape3
    private let values: [SIMD3<Float>]

    init(lower: SIMD3<Double>, upper: SIMD3<Double>, step: Double, sigma: Double, rms: Double, rng: inout RNG) {
        self.step = step
        origin = lower - SIMD3(repeating: 2 * step)
        let span = upper - lower
        let lattice = Shape3(Int((span.x / step).rounded(.up)) + 5, Int((span.y / step).rounded(.up)) + 5, Int((span.z / step).rounded(.up)) + 5)
        count = lattice
        let s = SIMD3(repeating: sigma / step)
        var comps: [[Float]] = []
        for _ in 0..<3 { comps.append(SmoothNoise.field(shape: lattice, sigma: s, rng: &rng)) }
        let amp = Float(rms / 3.0.squareRoot())
        values = (0..<lattice.count).map { SIMD3(comps[0][$0], comps[1][$0], comps[2][$0]) * amp }
    }

    struct Cell { var index: Int; var t: Float }

    /// Lattice cell and weight along one axis.
    func cell(_ q: Double, axis: Int) -> Cell {
        let u = (q - origin[axis]) / step
        let c = min(max(Int(u.rounded(.down)), 0), count[axis] - 2)
        return Cell(index: c, t: Float(min(max(u - Double(c), 0), 1)))
    }

    /// The field along x at (y, z), one value per lattice column.
    func row(y: Double, z: Double, into out: UnsafeMutableBufferPointer<SIMD3<Float>>) {
        let cy = cell(y, axis: 1), cz = cell(z, axis: 2)
        let w00 = (1 - cy.t) * (1 - cz.t), w10 = cy.t * (1 - cz.t), w01 = (1 - cy.t) * cz.t, w11 = cy.t * cz.t
        let nx = count.x, plane = count.x * count.y
        values.withUnsafeBufferPointer { v in
            let b00 = cz.index * plane + cy.index * nx, b10 = b00 + nx, b01 = b00 + plane, b11 = b01 + nx
            for i in 0..<nx {
                let a: SIMD3<Float> = v[b00 + i] * w00 + v[b10 + i] * w10
                let b: SIMD3<Float> = v[b01 + i] * w01 + v[b11 + i] * w11
                out[i] = a + b
            }
        }
    }
}

/// White and Gaussian-filtered noise fields (separable filter, mirrored edges), scaled to unit
/// standard deviation.
enum SmoothNoise {
    static func white(count n: Int, rng: inout RNG) -> [Float] {
        var out = [Float](repeating: 0, count: n)
        var i = 0
        while i < n {
            // Marsaglia's polar method: a pair per accepted point, one log and no trigonometry
            // (the field generators spend most of their time here).
            let u = 2 * rng.nextDouble() - 1, v = 2 * rng.nextDouble() - 1
            let s = u * u + v * v
            if s >= 1 || s == 0 { continue }
            let f = (-2 * log(s) / s).squareRoot()
            out[i] = Float(u * f)
            if i + 1 < n { out[i + 1] = Float(v * f) }
            i += 2
        }
        return out
    }

    /// White noise filtered with a Gaussian of `sigma` voxels per axis (0 = not filtered along it),
    /// divided by the filter's gain so the result has unit variance away from the edges.
    static func field(shape: Shape3, sigma: SIMD3<Double>, rng: inout RNG) -> [Float] {
        var a = white(count: shape.count, rng: &rng)
        var gain = 1.0
        var scratch = [Float](repeating: 0, count: shape.count)
        for axis in 0..<3 where sigma[axis] > 0 {
            let w = kernel(sigma[axis])
            gain *= w.reduce(0) { $0 + Double($1) * Double($1) }
            filter(&a, scratch: &scratch, shape: shape, axis: axis, weights: w)
        }
        let g = Float(1 / gain.squareRoot())
        for i in a.indices { a[i] *= g }
        return a
    }

    static func kernel(_ sigma: Double) -> [Float] {
        let r = max(1, Int((3 * sigma).rounded(.up)))
        let w = (-r...r).map { exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
        let s = w.reduce(0, +)
        return w.map { Float($0 / s) }
    }

    @inline(__always) static func mirror(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        var i = i
        while i < 0 || i >= n { i = i < 0 ? -i - 1 : 2 * n - i - 1 }
        return i
    }

    /// One separable pass along `axis`; along y and z whole contiguous x-rows are combined, so
    /// every inner loop runs over contiguous memory.
    static func filter(_ a: inout [Float], scratch: inout [Float], shape: Shape3, axis: Int, weights: [Float]) {
        let r = weights.count / 2
        let nx = shape.x, ny = shape.y, nz = shape.z
        a.withUnsafeMutableBufferPointer { src in
        scratch.withUnsafeMutableBufferPointer { dst in
        weights.withUnsafeBufferPointer { w in
            switch axis {
            case 0:
                var line = [Float](repeating: 0, count: nx + 2 * r)
                line.withUnsafeMutableBufferPointer { line in
                    for row in 0..<(ny * nz) {
                        let base = row * nx
                        for i in 0..<(nx + 2 * r) { line[i] = src[base + mirror(i - r, nx)] }
                        for i in 0..<nx {
                            var s: Float = 0
                            for t in 0..<(2 * r + 1) { s += w[t] * line[i + t] }
                            dst[base + i] = s
                        }
                    }
                }
            default:
                let len = axis == 1 ? ny : nz, outer = axis == 1 ? nz : 1
                let inner = axis == 1 ? nx : nx * ny
                for o in 0..<outer {
                    for l in 0..<len {
                        let d = dst.baseAddress! + (o * len + l) * inner
                        for x in 0..<inner { d[x] = 0 }
                        for t in 0..<(2 * r + 1) {
                            let s = src.baseAddress! + (o * len + mirror(l + t - r, len)) * inner
                            let wt = w[t]
                            for x in 0..<inner { d[x] += wt * s[x] }
                        }
                    }
                }
            }
        } } }
        swap(&a, &scratch)
    }
}

private extension RNG {
    /// `uniform` on doubles (the literals of this file would otherwise be ambiguous with Float).
    mutating func uniformDouble(_ lo: Double, _ hi: Double) -> Double { uniform(lo, hi) }
}
