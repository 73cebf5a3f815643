import Foundation

/// One training case: its image file(s) and its label map.
public struct MSDCase: Sendable, Hashable {
    public var id: String
    /// The first (MSD: only) image file.
    public var image: URL
    public var label: URL
    /// One file per channel in channel order (nnU-Net: CASE_0000, CASE_0001, ...); MSD: `[image]`
    /// (a 4D file holds every channel).
    public var images: [URL]

    public init(id: String, image: URL, label: URL, images: [URL]? = nil) {
        self.id = id; self.image = image; self.label = label; self.images = images ?? [image]
    }
}

/// A test image without a label: one file (MSD) or one file per channel (nnU-Net).
public struct TestImage: Sendable, Hashable {
    public var id: String
    public var image: URL
    public var images: [URL]
    public init(id: String, image: URL, images: [URL]? = nil) { self.id = id; self.image = image; self.images = images ?? [image] }
}

/// How a dataset folder is laid out (both are read from `dataset.json`).
public enum DatasetLayout: String, Sendable {
    /// Medical Segmentation Decathlon: `modality`, `labels` id→name, a `training` list, 4D multi-channel files.
    case msd
    /// nnU-Net v2 raw: `channel_names`, `labels` name→id, `file_ending`, `numTraining`; images
    /// `imagesTr/CASE_0000<ending>` (one file per channel), labels `labelsTr/CASE<ending>`, no list.
    case nnUNetV2 = "nnU-Net v2"
}

/// A segmentation dataset folder (MSD task or nnU-Net v2 raw dataset): `dataset.json`, `imagesTr/`,
/// `labelsTr/`, `imagesTs/`.
public struct MSDDataset: Sendable {
    public var root: URL
    public var layout: DatasetLayout = .msd
    public var name: String
    public var description: String
    /// Channel names in channel order ("CT", "T2", "ADC", ...).
    public var modalities: [String]
    /// Label value → name, background included.
    public var labels: [Int: String]
    public var training: [MSDCase]
    /// Test images (no labels).
    public var test: [TestImage]

    public var jsonPath: String { root.appendingPathComponent("dataset.json").path }
    /// Number of classes the network predicts (max label value + 1).
    public var classCount: Int { (labels.keys.max() ?? 0) + 1 }
    public var sortedLabelValues: [Int] { labels.keys.sorted() }
    /// Whether channel `c` is CT (intensities in Hounsfield units; normalised with dataset statistics).
    public func isCT(channel c: Int) -> Bool { modalities[c].uppercased().contains("CT") }

    /// Parses and resolves `folder/dataset.json`. Does not open the images (see `checkFiles`, `checkCase`).
    public static func load(_ folder: URL) throws -> MSDDataset {
        let root = folder.standardizedFileURL
        let jsonURL = root.appendingPathComponent("dataset.json")
        guard FileManager.default.fileExists(atPath: jsonURL.path) else { throw VolumeError.datasetJSONMissing(folder: root.path) }
        let path = jsonURL.path
        func malformed(_ d: String) -> VolumeError { .datasetJSONMalformed(path: path, detail: d) }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(contentsOf: jsonURL)) }
        catch { throw malformed("not valid JSON: \((error as NSError).userInfo[NSDebugDescriptionErrorKey] ?? error.localizedDescription)") }
        guard let json = object as? [String: Any] else { throw malformed("the top level must be an object") }

        if json["channel_names"] != nil || json["file_ending"] != nil {
            return try loadNNUNet(json, root: root, path: path)
        }
        let name = json["name"] as? String ?? root.lastPathComponent
        let description = json["description"] as? String ?? ""
        guard let modality = json["modality"] as? [String: Any] else { throw malformed("missing \"modality\" object, e.g. {\"0\": \"CT\"} (or, for an nnU-Net v2 dataset, \"channel_names\")") }
        let modalities = try channelNames(modality, key: "modality", malformed: malformed)
        guard let labelObj = json["labels"] as? [String: Any] else { throw malformed("missing \"labels\" object, e.g. {\"0\": \"background\", \"1\": \"organ\"}") }
        var labels = [Int: String]()
        for (k, v) in labelObj {
            guard let value = Int(k), (0...255).contains(value), let n = v as? String else {
                throw malformed("\"labels\" key \"\(k)\" must be an integer 0...255 mapped to a name")
            }
            labels[value] = n
        }
        try checkLabels(labels, malformed: malformed)

        guard let trainingList = json["training"] as? [Any] else { throw malformed("missing \"training\" list of {\"image\", \"label\"} pairs") }
        var training = [MSDCase]()
        var seen = Set<String>()
        for (i, entry) in trainingList.enumerated() {
            guard let pair = entry as? [String: Any], let img = pair["image"] as? String, let lab = pair["label"] as? String else {
                throw malformed("\"training\"[\(i)] must be {\"image\": \"./imagesTr/...\", \"label\": \"./labelsTr/...\"}")
            }
            let c = MSDCase(id: caseID(img), image: try resolve(img, in: root), label: try resolve(lab, in: root))
            guard seen.insert(c.id).inserted else { throw malformed("case \"\(c.id)\" is listed twice in \"training\"") }
            training.append(c)
        }
        guard !training.isEmpty else { throw malformed("\"training\" is empty") }
        var test = [TestImage]()
        for (i, entry) in (json["test"] as? [Any] ?? []).enumerated() {
            let s = (entry as? String) ?? ((entry as? [String: Any])?["image"] as? String)
            guard let s else { throw malformed("\"test\"[\(i)] must be a path like \"./imagesTs/case.nii.gz\"") }
            test.append(TestImage(id: caseID(s), image: try resolve(s, in: root)))
        }
        return MSDDataset(root: root, name: name, description: description, modalities: modalities,
                          labels: labels, training: training, test: test)
    }

    /// {"0": "CT", "1": "T2"} → ["CT", "T2"]: keys must be exactly "0"..."n-1".
    static func channelNames(_ object: [String: Any], key: String, malformed: (String) -> VolumeError) throws -> [String] {
        guard !object.isEmpty else { throw malformed("\"\(key)\" is empty") }
        return try (0..<object.count).map { i -> String in
            guard let m = object[String(i)] as? String else {
                throw malformed("\"\(key)\" must have keys \"0\"...\"\(object.count - 1)\" with names")
            }
            return m
        }
    }

    static func checkLabels(_ labels: [Int: String], malformed: (String) -> VolumeError) throws {
        guard labels[0] != nil else { throw malformed("\"labels\" must include the background, value 0") }
        guard labels.count >= 2 else { throw malformed("\"labels\" needs at least one foreground class") }
    }

    /// nnU-Net v2 raw dataset: the cases are the files in imagesTr/ (CASE_XXXX<file_ending>, one per
    /// channel) with their labelsTr/CASE<file_ending>; numTraining must match (as nnU-Net checks).
    static func loadNNUNet(_ json: [String: Any], root: URL, path: String) throws -> MSDDataset {
        func malformed(_ d: String) -> VolumeError { .datasetJSONMalformed(path: path, detail: d) }
        guard let channelObj = (json["channel_names"] ?? json["modality"]) as? [String: Any] else {
            throw malformed("missing \"channel_names\" object, e.g. {\"0\": \"CT\"}")
        }
        let channels = try channelNames(channelObj, key: "channel_names", malformed: malformed)
        guard let labelObj = json["labels"] as? [String: Any] else {
            throw malformed("missing \"labels\" object, e.g. {\"background\": 0, \"organ\": 1}")
        }
        var labels = [Int: String]()
        for (name, v) in labelObj {
            if v is [Any] {
                throw malformed("\"labels\" entry \"\(name)\" is a list (an nnU-Net region); c2fnas trains one label per class, map regions to single values")
            }
            guard let value = v as? Int, (0...255).contains(value) else {
                throw malformed("\"labels\" entry \"\(name)\" must map a name to an integer 0...255, e.g. {\"background\": 0, \"organ\": 1}")
            }
            guard labels[value] == nil else { throw malformed("\"labels\" gives value \(value) to both \"\(labels[value]!)\" and \"\(name)\"") }
            labels[value] = name
        }
        try checkLabels(labels, malformed: malformed)
        let ending = json["file_ending"] as? String ?? ".nii.gz"
        guard ending == ".nii.gz" || ending == ".nii" else {
            throw malformed("\"file_ending\" is \"\(ending)\"; c2fnas reads NIfTI only (\".nii.gz\" or \".nii\"); convert the images to NIfTI")
        }
        let training = try nnUNetCases(in: root.appendingPathComponent("imagesTr"), ending: ending, channels: channels.count,
                                       required: true, dataset: root).map { id, files in
            MSDCase(id: id, image: files[0], label: root.appendingPathComponent("labelsTr/\(id)\(ending)"), images: files)
        }
        guard !training.isEmpty else { throw malformed("imagesTr/ holds no CASE_0000\(ending) files") }
        if let n = json["numTraining"] as? Int, n != training.count {
            throw malformed("\"numTraining\" is \(n) but imagesTr/ holds \(training.count) cases; fix the count or add the missing cases")
        }
        let test = try nnUNetCases(in: root.appendingPathComponent("imagesTs"), ending: ending, channels: channels.count,
                                   required: false, dataset: root).map { TestImage(id: $0.id, image: $0.files[0], images: $0.files) }
        var ds = MSDDataset(root: root, name: json["name"] as? String ?? root.lastPathComponent,
                            description: json["description"] as? String ?? "", modalities: channels,
                            labels: labels, training: training, test: test)
        ds.layout = .nnUNetV2
        return ds
    }

    /// Groups `folder`'s CASE_XXXX<ending> files by case; every case needs channels 0000...C-1.
    static func nnUNetCases(in folder: URL, ending: String, channels: Int, required: Bool, dataset: URL) throws -> [(id: String, files: [URL])] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
            if required { throw VolumeError.fileNotFound(path: folder.path, role: "nnU-Net imagesTr folder") }
            return []
        }
        var byCase = [String: Set<Int>]()
        for name in names where name.hasSuffix(ending) && !name.hasPrefix(".") {
            let stem = String(name.dropLast(ending.count))
            guard stem.count > 5, stem.dropLast(4).hasSuffix("_"), let ch = Int(stem.suffix(4)) else {
                throw VolumeError.datasetJSONMalformed(path: folder.appendingPathComponent(name).path,
                    detail: "nnU-Net image files are named CASE_XXXX\(ending) with a 4-digit channel number, e.g. \(stem)_0000\(ending)")
            }
            byCase[String(stem.dropLast(5)), default: []].insert(ch)
        }
        return try byCase.keys.sorted().map { id in
            let have = byCase[id]!
            if let missing = (0..<channels).first(where: { !have.contains($0) }) {
                throw VolumeError.fileNotFound(path: folder.appendingPathComponent(String(format: "%@_%04d%@", id, missing, ending)).path,
                                               role: "channel \(missing) of case \(id) (dataset.json names \(channels) channels)")
            }
            if let extra = have.first(where: { $0 >= channels }) {
                throw VolumeError.datasetJSONMalformed(path: folder.appendingPathComponent(String(format: "%@_%04d%@", id, extra, ending)).path,
                    detail: "channel \(extra) of case \(id), but dataset.json \"channel_names\" names \(channels) channel(s)")
            }
            return (id, (0..<channels).map { folder.appendingPathComponent(String(format: "%@_%04d%@", id, $0, ending)) })
        }
    }

    /// "./imagesTr/la_003.nii.gz" → "la_003": the last non-empty "/"-separated component (trailing
    /// slashes ignored, as NSString.lastPathComponent does), without ".nii.gz" / ".nii". Not
    /// NSString's: swift-corelibs-foundation traps on entries like "x///a//" (three slashes, a name,
    /// two trailing ones), found by tests/fuzz (dataset target).
    static func caseID(_ entry: String) -> String {
        var name = entry.split(separator: "/").last.map(String.init) ?? ""
        for ext in [".nii.gz", ".nii"] where name.hasSuffix(ext) { name.removeLast(ext.count); break }
        return name
    }

    /// Resolves an entry relative to the dataset folder; refuses absolute paths and `..` escapes.
    static func resolve(_ entry: String, in root: URL) throws -> URL {
        guard !entry.hasPrefix("/"), !entry.hasPrefix("~") else { throw VolumeError.pathEscapesDataset(dataset: root.path, entry: entry) }
        let url = root.appendingPathComponent(entry).standardizedFileURL
        let rootPath = root.path.hasSuffix("/") ? root.path : root.path + "/"
        guard url.path.hasPrefix(rootPath) else { throw VolumeError.pathEscapesDataset(dataset: root.path, entry: entry) }
        return url
    }

    /// Every referenced file exists (errors name the case and the file).
    public func checkFiles() throws {
        let fm = FileManager.default
        for c in training {
            for f in c.images where !fm.fileExists(atPath: f.path) { throw VolumeError.fileNotFound(path: f.path, role: "image of case \(c.id)") }
            guard fm.fileExists(atPath: c.label.path) else { throw VolumeError.fileNotFound(path: c.label.path, role: "label of case \(c.id)") }
        }
        for t in test { for f in t.images where !fm.fileExists(atPath: f.path) {
            throw VolumeError.fileNotFound(path: f.path, role: "test image \(t.id)")
        } }
    }

    /// Headers-only check of the whole dataset: files exist, channel counts, image/label grids.
    public func validate() throws {
        try checkFiles()
        for c in training { try checkCase(c) }
        for t in test { try checkChannels(try NIfTI.readChannelHeaders(t.images), caseID: t.id, path: t.image.path) }
    }

    /// Reads both headers of a case and checks channels and that the grids match.
    @discardableResult
    public func checkCase(_ c: MSDCase) throws -> (image: NIfTIHeader, label: NIfTIHeader) {
        let ih = try NIfTI.readChannelHeaders(c.images)
        let lh = try NIfTI.readHeader(c.label)
        try checkChannels(ih, caseID: c.id, path: c.image.path)
        try checkGrids(ih.grid, lh.grid, c)
        guard lh.channels == 1 else {
            throw VolumeError.notLabels(path: c.label.path, detail: "\(lh.channels) channels, expected 1")
        }
        return (ih, lh)
    }

    func checkChannels(_ h: NIfTIHeader, caseID: String, path: String) throws {
        guard h.channels == modalities.count else {
            throw VolumeError.channelMismatch(caseID: caseID, path: path, channels: h.channels, modalities: modalities.count)
        }
    }

    func checkGrids(_ a: Grid, _ b: Grid, _ c: MSDCase) throws {
        guard a.matches(b) else {
            let detail = a.shape != b.shape ? "shape \(a.shape) vs \(b.shape)"
                : "spacing/affine differ: image spacing \(a.spacing), label spacing \(b.spacing)"
            throw VolumeError.gridMismatch(caseID: c.id, image: c.image.path, label: c.label.path, detail: detail)
        }
    }

    /// Reads a training case (canonical orientation), checking channels, grids and label values.
    public func loadCase(_ c: MSDCase) throws -> (image: NIfTIImage, labels: LabelVolume) {
        let image = try NIfTI.readChannels(c.images)
        try checkChannels(image.header, caseID: c.id, path: c.image.path)
        try image.requireFinite(path: c.image.path)
        let (labelMap, _) = try NIfTI.readLabels(c.label)
        try checkGrids(image.volume.grid, labelMap.grid, c)
        let counts = labelMap.classCounts()
        let unknown = counts.indices.filter { counts[$0] > 0 && labels[$0] == nil }
        guard unknown.isEmpty else {
            throw VolumeError.unknownLabelValues(caseID: c.id, path: c.label.path, values: unknown, known: sortedLabelValues)
        }
        return (image, labelMap)
    }

    /// Reads a test image (no label), checking its channels.
    public func loadTestImage(_ t: TestImage) throws -> NIfTIImage {
        let image = try NIfTI.readChannels(t.images)
        try checkChannels(image.header, caseID: t.id, path: t.image.path)
        try image.requireFinite(path: t.image.path)
        return image
    }
}
