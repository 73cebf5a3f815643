import Foundation
import Tensor
import Files

/// An axis-aligned ellipsoid in canonical world millimetres.
public struct Ellipsoid: Sendable, Codable, Equatable {
    public var centre: SIMD3<Double>
    public var radii: SIMD3<Double>
    public func contains(_ p: SIMD3<Double>) -> Bool {
        let d = (p - centre) / radii
        return (d * d).sum() <= 1
    }
}

/// Settings of the synthetic CT-like task.
public struct PhantomConfig: Sendable {
    public var minShape = Shape3(72, 72, 32)
    public var maxShape = Shape3(96, 96, 48)
    public var inPlaneSpacing: ClosedRange<Double> = 0.7...0.9
    public var sliceSpacings: [Double] = [2.0, 2.5, 2.5, 3.0]
    public var noiseSigma = 12.0
    public var biasAmplitude = 15.0
    public init() {}
}

/// One generated case (canonical RAS arrays) plus the header it is written with (LPS-stored,
/// like DICOM conversions) and the shapes that drew it.
public struct PhantomCase: Sendable {
    public var image: Volume          // Hounsfield units
    public var labels: LabelVolume    // values of `Phantom.labels`
    public var header: NIfTIHeader
    public var liver: Ellipsoid
    public var spleen: Ellipsoid
    public var tumour: Ellipsoid
    public var kidney: Ellipsoid?
}

/// A synthetic abdomen: elliptic body (fat rim, soft tissue, spine), liver and spleen ellipsoids
/// of distinct mean HU, a hypodense tumour inside the liver (its own label), an unlabelled kidney
/// in about half the cases, a smooth additive bias field and Gaussian noise.
public enum Phantom {
    public static let labels: [Int: String] = [0: "background", 1: "liver", 2: "spleen", 3: "tumour"]
    /// Mean Hounsfield units before bias and noise.
    public static let hu: [String: Double] = ["air": -1000, "fat": -100, "soft tissue": 30, "bone": 450,
                                              "liver": 70, "spleen": 120, "kidney": 170, "tumour": 20]

    public static func generate(index: Int, seed: UInt64, config c: PhantomConfig = .init()) -> PhantomCase {
        var rng = RNG(seed: seed, stream: UInt64(index))
        let shape = Shape3(rng.int(in: c.minShape.x...c.maxShape.x), rng.int(in: c.minShape.y...c.maxShape.y),
                           rng.int(in: c.minShape.z...c.maxShape.z))
        let s = (rng.uniform(c.inPlaneSpacing.lowerBound, c.inPlaneSpacing.upperBound) * 100).rounded() / 100
        let spacing = SIMD3(s, s, c.sliceSpacings[rng.int(below: c.sliceSpacings.count)])
        // Stored like a DICOM conversion (x to the Left, y Posterior), centred on the world origin.
        let half = SIMD3(Double(shape.x - 1), Double(shape.y - 1), Double(shape.z - 1)) * spacing / 2
        let fileAffine = Affine(rowMajor: [-spacing.x, 0, 0, half.x, 0, -spacing.y, 0, half.y, 0, 0, spacing.z, -half.z, 0, 0, 0, 1])
        let header = NIfTIHeader(fileShape: shape, fileAffine: fileAffine, descrip: "c2fnas phantom \(index) seed \(seed)")

        let extent = SIMD3(Double(shape.x), Double(shape.y), Double(shape.z)) * spacing / 2
        let a = 0.44 * extent.x * 2 * rng.uniform(0.9, 1.0), b = 0.34 * extent.y * 2 * rng.uniform(0.9, 1.0)
        let bodyY = 0.03 * extent.y
        let fat = 0.08 * a
        func jitter(_ g: inout RNG, _ lo: Double, _ hi: Double) -> SIMD3<Double> {
            SIMD3(g.uniform(lo, hi), g.uniform(lo, hi), g.uniform(lo, hi))
        }
        let liver = Ellipsoid(centre: SIMD3(0.38 * a, bodyY + 0.05 * b, 0) + SIMD3(a, b, extent.z) * jitter(&rng, -0.08, 0.08),
                              radii: SIMD3(0.36 * a, 0.5 * b, 0.6 * extent.z) * jitter(&rng, 0.85, 1.15))
        let spleen = Ellipsoid(centre: SIMD3(-0.55 * a, bodyY - 0.2 * b, 0) + SIMD3(a, b, extent.z) * jitter(&rng, -0.06, 0.06),
                               radii: SIMD3(0.17 * a, 0.3 * b, 0.45 * extent.z) * jitter(&rng, 0.85, 1.15))
        let kidney: Ellipsoid? = rng.bernoulli(0.5)
            ? Ellipsoid(centre: SIMD3(-0.28 * a, bodyY - 0.5 * b, 0) + SIMD3(a, b, extent.z) * jitter(&rng, -0.04, 0.04),
                        radii: SIMD3(0.11 * a, 0.15 * b, 0.3 * extent.z) * jitter(&rng, 0.9, 1.1))
            : nil
        let r = rng.uniform(0.3, 0.45) * min(liver.radii.x, liver.radii.y)
        let tumour = Ellipsoid(centre: liver.centre + liver.radii * jitter(&rng, -0.4, 0.4),
                               radii: SIMD3(r, r * rng.uniform(0.8, 1.2), max(r, 2 * spacing.z)))
        // Smooth bias: two plane waves with a wavelength of about twice the field of view.
        let waves = (0..<2).map { _ -> (SIMD3<Double>, Double) in
            var d = SIMD3(rng.gaussian(), rng.gaussian(), 0.3 * rng.gaussian())
            d /= max((d * d).sum().squareRoot(), 1e-9)
            return (d * (2 * Double.pi / (4 * max(extent.x, extent.y))), rng.uniform(0, 2 * Double.pi))
        }

        var image = [Float](repeating: Float(hu["air"]!), count: shape.count)
        var labels = [UInt8](repeating: 0, count: shape.count)
        let spine = SIMD2(0.0, bodyY - 0.72 * b), spineR = 0.13 * b
        var o = 0
        for k in 0..<shape.z { for j in 0..<shape.y { for i in 0..<shape.x {
            defer { o += 1 }
            let p = SIMD3(Double(i), Double(j), Double(k)) * spacing - half
            let ex = p.x / a, ey = (p.y - bodyY) / b
            guard ex * ex + ey * ey <= 1 else { continue }
            let ix = p.x / (a - fat), iy = (p.y - bodyY) / (b - fat)
            let inner = ix * ix + iy * iy <= 1
            var v = inner ? hu["soft tissue"]! : hu["fat"]!
            var l: UInt8 = 0
            if inner {
                let dx = p.x - spine.x, dy = p.y - spine.y
                if dx * dx + dy * dy <= spineR * spineR { v = hu["bone"]! }
                else if let kidney, kidney.contains(p) { v = hu["kidney"]! }
                else if spleen.contains(p) { v = hu["spleen"]!; l = 2 }
                else if liver.contains(p) {
                    if tumour.contains(p) { v = hu["tumour"]!; l = 3 } else { v = hu["liver"]!; l = 1 }
                }
            }
            let bias = c.biasAmplitude * (0.6 * sin((waves[0].0 * p).sum() + waves[0].1) + 0.4 * sin((waves[1].0 * p).sum() + waves[1].1))
            image[o] = Float((v + bias + c.noiseSigma * rng.gaussian()).rounded())
            labels[o] = l
        } } }
        return PhantomCase(image: Volume(grid: header.grid, data: image), labels: LabelVolume(grid: header.grid, data: labels),
                           header: header, liver: liver, spleen: spleen, tumour: tumour, kidney: kidney)
    }

    /// Writes a complete MSD task: `dataset.json`, `imagesTr/`, `labelsTr/` (int16 images, uint8
    /// labels, gzip) and `imagesTs/`. Returns the case ids written (training, then test).
    @discardableResult
    public static func writeTask(to folder: URL, trainingCases: Int = 12, testCases: Int = 3, seed: UInt64 = 0,
                                 config: PhantomConfig = .init(), progress: ((String) -> Void)? = nil) throws -> [String] {
        let fm = FileManager.default
        for sub in ["imagesTr", "labelsTr", "imagesTs"] {
            do { try fm.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true) }
            catch { throw VolumeError.writeFailed(path: folder.appendingPathComponent(sub).path, detail: error.localizedDescription) }
        }
        var ids = [String](), training = [String](), test = [String]()
        for n in 0..<(trainingCases + testCases) {
            let isTest = n >= trainingCases
            let id = isTest ? String(format: "phantom_%03d", 101 + n - trainingCases) : String(format: "phantom_%03d", n + 1)
            let ph = generate(index: isTest ? 1000 + n - trainingCases : n, seed: seed, config: config)
            let name = "\(id).nii.gz"
            if isTest {
                try NIfTI.write(ph.image, storage: .int16, like: ph.header, to: folder.appendingPathComponent("imagesTs/\(name)"))
                test.append("\"./imagesTs/\(name)\"")
            } else {
                try NIfTI.write(ph.image, storage: .int16, like: ph.header, to: folder.appendingPathComponent("imagesTr/\(name)"))
                try NIfTI.write(ph.labels, like: ph.header, to: folder.appendingPathComponent("labelsTr/\(name)"))
                training.append("{\"image\": \"./imagesTr/\(name)\", \"label\": \"./labelsTr/\(name)\"}")
            }
            ids.append(id)
            progress?(id)
        }
        try MSDDatasetJSON.write(to: folder, name: "Phantom",
                                 description: "Synthetic CT-like abdomen (c2fnas sample, seed \(seed)): liver, spleen, tumour inside the liver; unlabelled kidney in some cases",
                                 reference: "generated by `c2fnas sample`", modality: "CT", labels: labels,
                                 training: training, test: test)
        return ids
    }
}

/// The dataset.json of a generated task (MSD layout), written atomically. `training` and `test` are
/// already-formatted JSON entries.
enum MSDDatasetJSON {
    static func write(to folder: URL, name: String, description: String, reference: String, modality: String,
                      labels: [Int: String], training: [String], test: [String]) throws {
        let labelLines = labels.keys.sorted().map { "    \"\($0)\": \"\(labels[$0]!)\"" }.joined(separator: ",\n")
        let json = """
        {
          "name": "\(name)",
          "description": "\(description)",
          "reference": "\(reference)",
          "licence": "CC0-1.0",
          "release": "1.0",
          "tensorImageSize": "3D",
          "modality": {
            "0": "\(modality)"
          },
          "labels": {
        \(labelLines)
          },
          "numTraining": \(training.count),
          "numTest": \(test.count),
          "training": [
            \(training.joined(separator: ",\n    "))
          ],
          "test": [
            \(test.joined(separator: ",\n    "))
          ]
        }

        """
        let path = folder.appendingPathComponent("dataset.json").path
        let code = AtomicWrite.write(Data(json.utf8), toPath: path)
        if code != 0 { throw VolumeError.writeFailed(path: path, detail: String(cString: strerror(code))) }
    }
}
