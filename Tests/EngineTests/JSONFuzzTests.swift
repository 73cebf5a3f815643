import Foundation
import Testing
@testable import Engine
@testable import Search
@testable import Volume
import Tensor

/// Seeded mutation fuzzing of the JSON inputs a user writes: dataset.json, config files and
/// `--set` overrides, architecture.json. Each case must parse or throw the input's typed error
/// (VolumeError, ConfigError, ArchitectureError) listed in the troubleshooting catalogue.
@Suite("JSON input fuzzing")
struct JSONFuzzTests {
    @Test("dataset.json: mutated documents load or throw a VolumeError")
    func fuzzDatasetJSON() throws {
        let dir = try temporaryFolder("fuzz-ds"); defer { try? FileManager.default.removeItem(at: dir) }
        let base = try Data(contentsOf: sampleTask.appendingPathComponent("dataset.json"))
        let url = dir.appendingPathComponent("dataset.json")
        let stats = try JSONFuzzer.run(seed: 0xDA7A, cases: 1500, base: base) { data in
            try data.write(to: url)
            let ds = try MSDDataset.load(dir)
            // Whatever loaded resolves inside the folder.
            for c in ds.training { #expect(c.image.path.hasPrefix(dir.standardizedFileURL.path + "/")) }
        }
        print("dataset.json fuzz: \(stats)")
    }

    @Test("config files: mutated documents load or throw a ConfigError")
    func fuzzConfigFile() throws {
        let dir = try temporaryFolder("fuzz-cfg"); defer { try? FileManager.default.removeItem(at: dir) }
        let base = Data(try RunConfig.preset("cpu").json().utf8)
        let url = dir.appendingPathComponent("config.json")
        let stats = try JSONFuzzer.run(seed: 0xC0F1, cases: 1000, base: base) { data in
            try data.write(to: url)
            try RunConfig.load(url).validate()
        }
        print("config file fuzz: \(stats)")
    }

    @Test("--set overrides: random keys and values apply or throw a ConfigError")
    func fuzzOverrides() throws {
        let keys = Array(try JSONSerialization.jsonObject(with: JSONEncoder().encode(RunConfig())) as! [String: Any]).map(\.key).sorted()
        let values = ["0", "-1", "1", "2", "3", "7", "8", "1e400", "-0", "nan", "inf", "-inf", "0.5", "1.5", "true", "False",
                      "", " ", "32,32,32", "16x16x16", "1,2", "0,0,0", "512,512,512", "1024,8,8", "9223372036854775807",
                      "-9223372036854775808", "18446744073709551616", "abc", "lattice", "ushape", "P3D", "sgd", "train",
                      "cpu", "paper", "\u{0}", "é", "0.5,0.999", "nan,0.9", "=", "a=b"]
        var rng = RNG(seed: 0x5E7)
        var applied = 0, refused = [ConfigError.Kind: Int](), cases = 0
        for _ in 0..<2000 {
            var c = try RunConfig.preset(["tiny", "cpu", "paper"][rng.int(below: 3)])
            let sets = (0..<rng.int(in: 1...3)).map { _ -> String in
                let key = rng.bernoulli(0.9) ? keys[rng.int(below: keys.count)] : ["", "nope", "patch ", " seed", "=x"][rng.int(below: 5)]
                let value = rng.bernoulli(0.8) ? values[rng.int(below: values.count)] : String(rng.uniform(-1e6, 1e6))
                return rng.bernoulli(0.03) ? key + value : key + "=" + value
            }
            cases += 1
            do {
                try c.apply(overrides: sets)
                try c.validate()
                applied += 1
            } catch let e as ConfigError {
                refused[e.kind, default: 0] += 1
                #expect(ErrorCatalogue.id(of: e) != nil)
            } catch {
                Issue.record("\(sets): untyped error \(error)")
            }
        }
        print("--set fuzz: \(cases) cases, \(applied) applied, refused: \(refused.map { "\($0.key.rawValue) \($0.value)" }.sorted().joined(separator: ", "))")
        #expect(applied > 50 && refused.count >= 3)
    }

    @Test("architecture.json: mutated documents decode (and round-trip) or throw an ArchitectureError")
    func fuzzArchitecture() throws {
        let bases = try Architecture.builtinNames.map { try Architecture.builtin($0).jsonData() }
        var total = JSONFuzzer.Stats()
        for (i, base) in bases.enumerated() {
            let stats = try JSONFuzzer.run(seed: 0xA4C + UInt64(i), cases: 800, base: base) { data in
                let a = try Architecture.decode(from: data, source: "fuzz.json")
                #expect(try Architecture.decode(from: a.jsonData()) == a)
            }
            total.add(stats)
        }
        print("architecture fuzz: \(total)")
    }
}

/// Mutates a JSON document, structurally (values replaced by other types and boundary values,
/// keys deleted or added, arrays resized) or as text (bytes flipped, deleted, inserted,
/// truncated), and feeds each result to `body`, which must succeed or throw a catalogued error.
struct JSONFuzzer {
    struct Stats: CustomStringConvertible {
        var cases = 0, accepted = 0, refused: [String: Int] = [:]
        mutating func add(_ o: Stats) { cases += o.cases; accepted += o.accepted; refused.merge(o.refused, uniquingKeysWith: +) }
        var description: String {
            "\(cases) cases, \(accepted) accepted, refused: " + refused.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
    }

    var rng: RNG

    static func run(seed: UInt64, cases: Int, base: Data, _ body: (Data) throws -> Void) throws -> Stats {
        var f = JSONFuzzer(rng: RNG(seed: seed))
        let object = try JSONSerialization.jsonObject(with: base)
        var stats = Stats()
        for n in 0..<cases {
            let data: Data
            if f.rng.bernoulli(0.6) {
                var o = object
                for _ in 0..<f.rng.int(in: 1...3) { o = f.mutate(o, depth: 0) }
                data = (try? JSONSerialization.data(withJSONObject: o, options: [.fragmentsAllowed])) ?? base
            } else {
                data = f.mutateText(base)
            }
            stats.cases += 1
            do { try body(data); stats.accepted += 1 } catch {
                guard let id = ErrorCatalogue.id(of: error) else {
                    Issue.record("case \(n): untyped error \(type(of: error)): \(error)\n\(String(decoding: data, as: UTF8.self))")
                    continue
                }
                stats.refused[id, default: 0] += 1
            }
        }
        #expect(stats.accepted > 0 && !stats.refused.isEmpty, "mutations exercise both paths: \(stats)")
        return stats
    }

    /// Replaces a random node (or edits a container) somewhere under `v`.
    mutating func mutate(_ v: Any, depth: Int) -> Any {
        if var dict = v as? [String: Any], !dict.isEmpty, rng.bernoulli(0.75) {
            let keys = dict.keys.sorted()
            let k = keys[rng.int(below: keys.count)]
            switch rng.int(below: 8) {
            case 0: dict[k] = nil
            case 1: dict["x" + String(rng.int(below: 100))] = randomValue(depth: depth)
            default: dict[k] = mutate(dict[k]!, depth: depth + 1)
            }
            return dict
        }
        if var array = v as? [Any], rng.bernoulli(0.75) {
            switch rng.int(below: 6) {
            case 0 where !array.isEmpty: array.remove(at: rng.int(below: array.count))
            case 1: array.append(array.isEmpty || rng.bernoulli(0.5) ? randomValue(depth: depth) : array[rng.int(below: array.count)])
            case 2: array = []
            default:
                if array.isEmpty { array.append(randomValue(depth: depth)) } else {
                    let i = rng.int(below: array.count)
                    array[i] = mutate(array[i], depth: depth + 1)
                }
            }
            return array
        }
        return randomValue(depth: depth)
    }

    mutating func randomValue(depth: Int) -> Any {
        let strings = ["", "0", "1", "CT", "MRI", "../x.nii.gz", "/etc/passwd", "~/a", "./imagesTr/../../y.nii.gz",
                       "./imagesTr/a.nii.gz", "3D", "P3D", "2D", "lattice", "tiny", "é\u{301}", "\u{0}", String(repeating: "a", count: 300)]
        let numbers: [Any] = [0, 1, -1, 2, 3, 4, 8, 255, 256, 4096, Int.max, Int.min, 1e300, -1e300, 0.5, 1e-300, 9007199254740993.0]
        switch rng.int(below: depth > 3 ? 5 : 7) {
        case 0: return NSNull()
        case 1: return rng.bernoulli(0.5)
        case 2, 3: return numbers[rng.int(below: numbers.count)]
        case 4: return strings[rng.int(below: strings.count)]
        case 5: return (0..<rng.int(below: 5)).map { _ in randomValue(depth: depth + 1) }
        default:
            var d = [String: Any]()
            for _ in 0..<rng.int(below: 4) { d[["0", "1", "image", "label", "seed", "metrics", "a"][rng.int(below: 7)]] = randomValue(depth: depth + 1) }
            return d
        }
    }

    mutating func mutateText(_ base: Data) -> Data {
        var b = [UInt8](base)
        let alphabet = Array("{}[]\":,0123456789-+.eE truefalsnul\\/\n\u{7F}".utf8)
        for _ in 0..<rng.int(in: 1...4) {
            guard !b.isEmpty else { break }
            let i = rng.int(below: b.count)
            switch rng.int(below: 5) {
            case 0: b[i] = alphabet[rng.int(below: alphabet.count)]
            case 1: b.remove(at: i)
            case 2: b.insert(alphabet[rng.int(below: alphabet.count)], at: i)
            case 3: b.removeLast(rng.int(below: b.count))
            default: b[i] = UInt8(truncatingIfNeeded: rng.next())
            }
        }
        return Data(b)
    }
}
