import Foundation
import Testing
@testable import Volume

/// Fixture files written by nibabel (see Fixtures/make_fixtures.py) and nibabel's expectations.
enum Fixtures {
    static let folder: URL = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    static func url(_ name: String) -> URL { folder.appendingPathComponent(name) }

    struct Expected: Decodable {
        let shape: [Int]
        let channels: Int
        let zooms: [Double]
        let affine: [Double]
        let canonical_shape: [Int]
        let canonical_affine: [Double]
        let canonical_zooms: [Double]
        let picks: [[Double]]   // i, j, k, channel, value (canonical order)
        let sum: Double
    }
    static let expected: [String: Expected] = {
        let data = try! Data(contentsOf: url("expected.json"))
        return try! JSONDecoder().decode([String: Expected].self, from: data)
    }()
}

/// A fresh temporary folder, removed by the caller's `defer`.
func makeTempDir(_ tag: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("c2fnas-\(tag)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// Runs `body`, expecting a VolumeError whose description contains every fragment.
func expectVolumeError(_ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error containing \(fragments)", sourceLocation: sourceLocation)
    } catch let e as VolumeError {
        for f in fragments {
            #expect(e.description.contains(f), "\(e.description) should contain \(f)", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
    }
}
