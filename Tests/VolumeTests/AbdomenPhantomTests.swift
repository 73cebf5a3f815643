import Foundation
import Testing
import CNIfTI
@testable import Volume

/// The harder synthetic task (`c2fnas sample --kind abdomen`), on grids shrunk by `small` so the
/// suite stays fast; the full-size grid is checked through the drawn shapes and spacings only.
@Suite struct AbdomenPhantomTests {
    static let small = AbdomenConfig().scaled(0.5)

    static func files(in dir: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for sub in ["", "imagesTr", "labelsTr", "imagesTs"] {
            let folder = sub.isEmpty ? dir : dir.appendingPathComponent(sub)
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.contains(".") {
                out["\(sub)/\(name)"] = try Data(contentsOf: folder.appendingPathComponent(name))
            }
        }
        return out
    }

    @Test func sameSeedSameBytesOtherSeedDiffers() throws {
        let a = try makeTempDir("abd-a"), b = try makeTempDir("abd-b"), c = try makeTempDir("abd-c")
        defer { for d in [a, b, c] { try? FileManager.default.removeItem(at: d) } }
        try AbdomenPhantom.writeTask(to: a, trainingCases: 2, testCases: 1, seed: 7, config: Self.small)
        try AbdomenPhantom.writeTask(to: b, trainingCases: 2, testCases: 1, seed: 7, config: Self.small)
        try AbdomenPhantom.writeTask(to: c, trainingCases: 2, testCases: 1, seed: 8, config: Self.small)
        let fa = try Self.files(in: a), fb = try Self.files(in: b), fc = try Self.files(in: c)
        #expect(fa.count == 6)   // dataset.json, 2 images, 2 labels, 1 test image
        #expect(fa == fb)
        for (name, data) in fa where name.hasSuffix(".nii.gz") {
            #expect(fc[name] != nil && fc[name] != data, "\(name) should differ under another seed")
        }
        // Thread count does not enter: one case rendered alone equals the one written in parallel.
        let alone = AbdomenPhantom.generate(index: 1, seed: 7, config: Self.small)
        let back = try NIfTI.readLabels(a.appendingPathComponent("labelsTr/abdomenct_002.nii.gz"))
        #expect(back.labels.data == alone.labels.data)
    }

    @Test func everyClassPresentWithPlausibleSizes() {
        for index in 0..<4 {
            let c = AbdomenPhantom.generate(index: index, seed: 3, config: Self.small)
            let counts = c.labels.classCounts() + [Int](repeating: 0, count: 7)
            let tag = "case \(index): \(counts.prefix(7))"
            for l in 1...6 { #expect(counts[l] > 0, "class \(l) missing, \(tag)") }
            // Liver is the largest organ; pancreas a small fraction of it; the tumour a part of the liver.
            #expect((2...5).allSatisfy { counts[$0] < counts[1] }, "\(tag)")
            #expect(counts[4] < counts[1] / 5, "pancreas too large, \(tag)")
            #expect(counts[6] < (counts[1] + counts[6]) * 2 / 5, "tumour too large, \(tag)")
            #expect(counts[6] < counts[1], "\(tag)")
            // The body fills about half of each slice and the organs 60–90 % of the slab.
            let foreground = counts[1...6].reduce(0, +)
            #expect(foreground > c.labels.data.count / 50 && foreground < c.labels.data.count / 3, "\(tag)")
        }
    }

    /// A thin structure loses most of its voxels to a small in-plane erosion; a large organ keeps most.
    @Test func pancreasIsThin() {
        let c = AbdomenPhantom.generate(index: 2, seed: 4, config: AbdomenConfig())
        func survivingFraction(_ label: UInt8, radius r: Int) -> Double {
            let s = c.labels.shape
            var total = 0, kept = 0
            for k in 0..<s.z { for j in r..<(s.y - r) { for i in r..<(s.x - r) where c.labels[i, j, k] == label {
                total += 1
                var all = true
                for d in -r...r where all {
                    all = c.labels[i + d, j, k] == label && c.labels[i, j + d, k] == label
                }
                if all { kept += 1 }
            } } }
            return total == 0 ? 0 : Double(kept) / Double(total)
        }
        let radius = 3   // voxels; the pancreas is about 20 anatomical mm ≈ 4.4 mm ≈ 4.4–6 voxels thick
        let pancreas = survivingFraction(4, radius: radius), liver = survivingFraction(1, radius: radius)
        #expect(pancreas < 0.35 && liver > 0.5 && liver > 2 * pancreas,
                "after a \(radius)-voxel erosion the pancreas keeps \(pancreas), the liver \(liver)")
    }

    @Test func tumourLiesInsideTheLiver() {
        for index in 0..<3 {
            let with = AbdomenPhantom.generate(index: index, seed: 11, config: Self.small)
            var cfg = Self.small
            cfg.includeTumour = false
            let without = AbdomenPhantom.generate(index: index, seed: 11, config: cfg)
            let tumour = with.labels.data.indices.filter { with.labels.data[$0] == 6 }
            #expect(!tumour.isEmpty && !without.labels.data.contains(6))
            // Without the tumour its voxels are liver (ties of the majority vote aside).
            let liver = tumour.filter { without.labels.data[$0] == 1 }.count
            #expect(Double(liver) >= 0.98 * Double(tumour.count), "case \(index): \(liver) of \(tumour.count) tumour voxels are liver")
            // Everything else is unchanged.
            let others = with.labels.data.indices.filter { with.labels.data[$0] != 6 && with.labels.data[$0] != without.labels.data[$0] }
            #expect(others.isEmpty)
        }
    }

    /// Without texture, bias and noise a voxel is the mean of its 16 supersamples' tissue values:
    /// pure liver voxels carry the liver's value exactly, boundary voxels intermediate values in
    /// steps of 1/16 of a tissue difference.
    @Test func partialVolumeAveragesTheSupersamples() {
        var cfg = Self.small
        cfg.cleanIntensities = true
        let c = AbdomenPhantom.generate(index: 1, seed: 9, config: cfg)
        let s = c.labels.shape
        var values: [Float: Int] = [:]
        for v in zip(c.image.data, c.labels.data) where v.1 == 1 { values[v.0, default: 0] += 1 }
        let liverTotal = values.values.reduce(0, +)
        let (pure, pureCount) = values.max { $0.value < $1.value }!
        #expect(pureCount > liverTotal / 2, "most liver voxels are pure: \(pureCount) of \(liverTotal)")
        #expect((50...70).contains(pure), "the liver mean is 60 ± 3 HU, got \(pure)")
        // Liver voxels next to background: mixtures. Where the rest of the block is soft tissue
        // (40 HU) the value is 40 + (m/16)(liver − 40) for a whole number m of liver supersamples
        // (other neighbours, e.g. fat, tumour or the 40 HU stomach wall, give other mixtures).
        var mixed = 0, boundary = 0, sixteenths = 0
        for k in 1..<(s.z - 1) { for j in 1..<(s.y - 1) { for i in 1..<(s.x - 1) where c.labels[i, j, k] == 1 {
            let neighbours = [c.labels[i - 1, j, k], c.labels[i + 1, j, k], c.labels[i, j - 1, k], c.labels[i, j + 1, k],
                              c.labels[i, j, k - 1], c.labels[i, j, k + 1]]
            guard neighbours.contains(0) else { continue }
            boundary += 1
            let v = c.image[i, j, k, 0]
            guard v != pure else { continue }
            mixed += 1
            let m = (v - 40) / (pure - 40) * 16
            if v > 40 && abs(m - m.rounded()) < 1e-3 { sixteenths += 1 }
        } } }
        #expect(boundary > 100 && mixed > boundary / 3, "\(mixed) of \(boundary) boundary voxels are mixtures")
        #expect(sixteenths > mixed / 2, "\(sixteenths) of \(mixed) mixtures are liver/soft tissue sixteenths")
    }

    @Test func spacingIsAnisotropicAtFullSize() {
        var storages = Set<AbdomenStorage>()
        for index in 0..<40 {
            let r = AbdomenRenderer(index: index, seed: 0, config: AbdomenConfig())
            #expect((120...136).contains(r.shape.x) && (120...136).contains(r.shape.y) && (48...96).contains(r.shape.z), "\(r.shape)")
            #expect(r.spacing.x == r.spacing.y && (0.7...1.0).contains(r.spacing.x), "\(r.spacing)")
            #expect((2.5...5.0).contains(r.spacing.z), "\(r.spacing)")
            #expect(r.spacing.z / r.spacing.x >= 2.5)
            storages.insert(r.storage)
        }
        #expect(storages == [.ras, .lps])
    }

    /// Cases stored RAS and LPS read back (through the project's reader) as the same canonical
    /// arrays, with the liver on the patient's right (+x) and the spleen on the left.
    @Test func storedOrientationsReadBackAsTheGeneratedRASArrays() throws {
        let dir = try makeTempDir("abd-orient")
        defer { try? FileManager.default.removeItem(at: dir) }
        let ids = try AbdomenPhantom.writeTask(to: dir, trainingCases: 2, testCases: 0, seed: 5, config: Self.small)
        let ds = try MSDDataset.load(dir)
        try ds.validate()
        #expect(ds.labels == AbdomenPhantom.labels && ds.modalities == ["CT"])
        var signs: [Double] = []
        for (n, id) in ids.enumerated() {
            let generated = AbdomenPhantom.generate(index: n, seed: 5, config: Self.small)
            let (labels, header) = try NIfTI.readLabels(dir.appendingPathComponent("labelsTr/\(id).nii.gz"))
            let image = try NIfTI.readImage(dir.appendingPathComponent("imagesTr/\(id).nii.gz"))
            signs.append(header.fileAffine[0, 0])
            #expect(labels.data == generated.labels.data)
            #expect(image.volume.data == generated.image.data)
            #expect(header.grid.matches(generated.header.grid))
            #expect(header.grid.affine[0, 0] > 0 && header.grid.affine[1, 1] > 0 && header.grid.affine[2, 2] > 0)
            // Centroids in world millimetres through the read-back canonical affine.
            func centroid(_ l: UInt8) -> SIMD3<Double> {
                var sum = SIMD3<Double>.zero, n = 0.0
                let s = labels.shape
                for k in 0..<s.z { for j in 0..<s.y { for i in 0..<s.x where labels[i, j, k] == l {
                    sum += header.grid.affine.apply(SIMD3(Double(i), Double(j), Double(k))); n += 1
                } } }
                return sum / max(n, 1)
            }
            let liver = centroid(1), spleen = centroid(2), kidney = centroid(3)
            #expect(liver.x > 0 && spleen.x < 0, "liver \(liver), spleen \(spleen)")
            #expect(kidney.y < liver.y, "kidneys are posterior: \(kidney) vs liver \(liver)")
        }
        #expect(signs.contains { $0 < 0 } && signs.contains { $0 > 0 }, "one LPS and one RAS file: \(signs)")
    }

    @Test func ctIsInt16WithinTheClipRange() throws {
        let dir = try makeTempDir("abd-ct")
        defer { try? FileManager.default.removeItem(at: dir) }
        let ids = try AbdomenPhantom.writeTask(to: dir, trainingCases: 1, testCases: 1, seed: 2, config: Self.small)
        for path in ["imagesTr/\(ids[0]).nii.gz", "imagesTs/\(ids[1]).nii.gz"] {
            let url = dir.appendingPathComponent(path)
            let header = try NIfTI.readHeader(url)
            #expect(header.datatype == Int32(DT_INT16))
            let v = try NIfTI.readImage(url).volume.data
            #expect(v.allSatisfy { $0 >= -1024 && $0 <= 3071 && $0 == $0.rounded() })
            #expect(v.min()! == -1024)   // air plus noise reaches the clip
            #expect(v.max()! > 300)      // bone
        }
        #expect(try NIfTI.readHeader(dir.appendingPathComponent("labelsTr/\(ids[0]).nii.gz")).datatype == Int32(DT_UINT8))
    }

    @Test func mrVariantSharesAnatomyWithOtherTissueMeans() {
        for index in 0..<2 {
            let ct = AbdomenPhantom.generate(index: index, seed: 6, config: Self.small)
            let mr = AbdomenPhantom.generate(index: index, seed: 6, config: { var c = Self.small; c.modality = .mr; return c }())
            #expect(ct.labels.data == mr.labels.data)
            func mean(_ image: Volume, _ l: UInt8) -> Double {
                var s = 0.0, n = 0.0
                for (v, lab) in zip(image.data, ct.labels.data) where lab == l { s += Double(v); n += 1 }
                return s / n
            }
            let ctLiver = mean(ct.image, 1), mrLiver = mean(mr.image, 1)
            let ctSpleen = mean(ct.image, 2), mrSpleen = mean(mr.image, 2)
            #expect((35...85).contains(ctLiver) && (25...75).contains(ctSpleen), "CT liver \(ctLiver), spleen \(ctSpleen)")
            #expect((420...580).contains(mrLiver) && (320...480).contains(mrSpleen), "MR liver \(mrLiver), spleen \(mrSpleen)")
            #expect(mrLiver - mrSpleen > ctLiver - ctSpleen + 40)
            #expect(mr.image.data.min()! >= 0 && ct.image.data.min()! < -900)
        }
    }
}
