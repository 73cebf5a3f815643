import Foundation

/// One training case of an MSD dataset: an image and its label map.
public struct MSDCase: Sendable, Hashable {
    public var id: String
    public var image: URL
    public var label: URL
}

/// A Medical Segmentation Decathlon task folder: `dataset.json`, `imagesTr/`, `labelsTr/`, `imagesTs/`.
public struct MSDDataset: Sendable {
    public var root: URL
    public var name: String
    public var description: String
    /// Channel names in channel order ("CT", "T2", "ADC", ...).
    public var modalities: [String]
    /// Label value → name, background included.
    public var labels: [Int: String]
    public var training: [MSDCase]
    /// Test images: id and file.
    public var test: [(id: String, image: URL)]

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

        let name = json["name"] as? String ?? root.lastPathComponent
        let description = json["description"] as? String ?? ""
        guard let modality = json["modality"] as? [String: Any] else { throw malformed("missing \"modality\" object, e.g. {\"0\": \"CT\"}") }
        let modalities = try (0..<modality.count).map { i -> String in
            guard let m = modality[String(i)] as? String else {
                throw malformed("\"modality\" must have keys \"0\"...\"\(modality.count - 1)\" with names")
            }
            return m
        }
        guard !modalities.isEmpty else { throw malformed("\"modality\" is empty") }
        guard let labelObj = json["labels"] as? [String: Any] else { throw malformed("missing \"labels\" object, e.g. {\"0\": \"background\", \"1\": \"organ\"}") }
        var labels = [Int: String]()
        for (k, v) in labelObj {
            guard let value = Int(k), (0...255).contains(value), let n = v as? String else {
                throw malformed("\"labels\" key \"\(k)\" must be an integer 0...255 mapped to a name")
            }
            labels[value] = n
        }
        guard labels[0] != nil else { throw malformed("\"labels\" must include \"0\" (background)") }
        guard labels.count >= 2 else { throw malformed("\"labels\" needs at least one foreground class") }

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
        var test = [(id: String, image: URL)]()
        for (i, entry) in (json["test"] as? [Any] ?? []).enumerated() {
            let s = (entry as? String) ?? ((entry as? [String: Any])?["image"] as? String)
            guard let s else { throw malformed("\"test\"[\(i)] must be a path like \"./imagesTs/case.nii.gz\"") }
            test.append((caseID(s), try resolve(s, in: root)))
        }
        return MSDDataset(root: root, name: name, description: description, modalities: modalities,
                          labels: labels, training: training, test: test)
    }

    /// "./imagesTr/la_003.nii.gz" → "la_003".
    static func caseID(_ entry: String) -> String {
        var name = (entry as NSString).lastPathComponent
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
            guard fm.fileExists(atPath: c.image.path) else { throw VolumeError.fileNotFound(path: c.image.path, role: "image of case \(c.id)") }
            guard fm.fileExists(atPath: c.label.path) else { throw VolumeError.fileNotFound(path: c.label.path, role: "label of case \(c.id)") }
        }
        for t in test where !fm.fileExists(atPath: t.image.path) {
            throw VolumeError.fileNotFound(path: t.image.path, role: "test image \(t.id)")
        }
    }

    /// Headers-only check of the whole dataset: files exist, channel counts, image/label grids.
    public func validate() throws {
        try checkFiles()
        for c in training { try checkCase(c) }
        for t in test { try checkChannels(try NIfTI.readHeader(t.image), caseID: t.id, path: t.image.path) }
    }

    /// Reads both headers of a case and checks channels and that the grids match.
    @discardableResult
    public func checkCase(_ c: MSDCase) throws -> (image: NIfTIHeader, label: NIfTIHeader) {
        let ih = try NIfTI.readHeader(c.image)
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
        let image = try NIfTI.readImage(c.image)
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
    public func loadTestImage(id: String, url: URL) throws -> NIfTIImage {
        let image = try NIfTI.readImage(url)
        try checkChannels(image.header, caseID: id, path: url.path)
        try image.requireFinite(path: url.path)
        return image
    }
}
