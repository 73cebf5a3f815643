import Foundation
import Testing
@testable import Engine

/// Every RunConfig field must change what a run does: a field nobody reads is a knob that silently
/// does nothing (the worst kind of wrong number). This test lists the fields and greps Sources (outside
/// Engine/Config, where fields are only declared, defaulted and range-checked) for a read of each one.
@Suite("Config wiring")
struct ConfigWiringTests {
    /// Fields declared before their consumer exists. Temporary: issue #12 wires them and empties this list.
    static let pendingWiring: Set<String> = []

    static let sources = repositoryRoot.appendingPathComponent("Sources")

    /// Every Swift file under Sources except the config's own folder, concatenated.
    static func consumerText() throws -> String {
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }
            .filter { $0.pathExtension == "swift" && !$0.path.contains("/Sources/Engine/Config/") }
        #expect(files.count > 50, "found only \(files.count) sources under \(sources.path)")
        return try files.map { try String(contentsOf: $0, encoding: .utf8) }.joined(separator: "\n")
    }

    /// A read looks like `config.field`, `cfg.field`, `runConfig.field`, `c.config.field` ...
    static func isRead(_ field: String, in text: String) throws -> Bool {
        let pattern = try Regex("[A-Za-z_]*([cC]onfig|cfg)\\??\\.\(field)\\b")
        return text.contains(pattern)
    }

    @Test("every RunConfig field is read outside Engine/Config (except the pending list)")
    func everyFieldIsRead() throws {
        let text = try Self.consumerText()
        let fields = Mirror(reflecting: RunConfig()).children.compactMap(\.label)
        #expect(fields.count > 40)
        var unread: [String] = [], nowWired: [String] = []
        for f in fields {
            let read = try Self.isRead(f, in: text)
            if !read && !Self.pendingWiring.contains(f) { unread.append(f) }
            if read && Self.pendingWiring.contains(f) { nowWired.append(f) }
        }
        #expect(unread.isEmpty, "RunConfig fields that nothing reads: \(unread.joined(separator: ", ")). Read them where they take effect, or remove them.")
        #expect(nowWired.isEmpty, "now read, so remove from ConfigWiringTests.pendingWiring: \(nowWired.joined(separator: ", "))")
        #expect(Self.pendingWiring.isSubset(of: Set(fields)), "pendingWiring names a field RunConfig no longer has")
    }

    @Test("the grep finds a read and misses a mere mention")
    func grepIsHonest() throws {
        #expect(try Self.isRead("finalGradClip", in: "trainStep(net, opt, clip: config.finalGradClip)"))
        #expect(try Self.isRead("seed", in: "let s = cfg.seed"))
        #expect(try !Self.isRead("seed", in: "let s = store.seed"))
        #expect(try !Self.isRead("batch", in: "config.batchDice"))
    }
}

@Suite("Config choices")
struct ConfigChoiceTests {
    @Test("closed-set fields are typed, keep their JSON strings and refuse other values naming the allowed ones")
    func choices() throws {
        var c = try RunConfig.preset("tiny")
        try c.apply(overrides: ["rule=lattice", "coarseOp=P3D", "finalOptimizer=adam", "finalistSelection=train", "preset=cpu"])
        #expect(c.rule == .lattice && c.coarseOp == .p3D && c.finalOptimizer == .adam && c.finalistSelection == .train && c.preset == .cpu)
        let json = c.json()
        for fragment in [#""rule" : "lattice""#, #""coarseOp" : "P3D""#, #""finalOptimizer" : "adam""#, #""preset" : "cpu""#] {
            #expect(json.contains(fragment), "\(fragment) not in \(json)")
        }
        let cases: [(String, String)] = [
            ("rule=spiral", "config field 'rule' cannot be 'spiral': expected one of ushape, lattice."),
            ("coarseOp=4D", "config field 'coarseOp' cannot be '4D': expected one of 2D, 3D, P3D."),
            ("finalOptimizer=lamb", "config field 'finalOptimizer' cannot be 'lamb': expected one of sgd, adam."),
            ("finalistSelection=vote", "config field 'finalistSelection' cannot be 'vote': expected one of fitness, train."),
            ("preset=huge", "config field 'preset' cannot be 'huge': expected one of tiny, cpu, paper."),
        ]
        for (set, message) in cases {
            let e = #expect(throws: ConfigError.self) { try c.apply(overrides: [set]) }
            #expect(e?.description == message, "\(set): \(e?.description ?? "no error")")
        }
    }

    @Test("config files with an unknown choice name the file, the field and the allowed values")
    func fileChoices() throws {
        let dir = try temporaryFolder("cfgchoice"); defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("config.json")
        let cases: [(String, [String])] = [
            (#"{"preset":"tiny","rule":"spiral"}"#, ["config.json is not valid", "field 'rule' is 'spiral'", "one of ushape, lattice"]),
            (#"{"preset":"tiny","finalOptimizer":3}"#, ["field 'finalOptimizer' is not a string", "one of sgd, adam"]),
            (#"{"preset":"cpu","coarseOp":"p3d"}"#, ["field 'coarseOp' is 'p3d'", "one of 2D, 3D, P3D"]),
        ]
        for (text, fragments) in cases {
            try Data(text.utf8).write(to: url)
            let e = #expect(throws: ConfigError.self) { try RunConfig.load(url) }
            for f in fragments { #expect(e?.description.contains(f) == true, "\(e?.description ?? "") ∌ \(f)") }
        }
        try Data(#"{"preset":"cpu","rule":"lattice","coarseOp":"2D"}"#.utf8).write(to: url)
        let c = try RunConfig.load(url)
        #expect(c.rule == .lattice && c.coarseOp == .conv2D && c.width == 8)
    }

    @Test("the final stage's weight decay and clip default to nnU-Net's 3e-5 and 12 and can be set")
    func finalRegularisation() throws {
        var c = try RunConfig.preset("tiny")
        #expect(c.finalWeightDecay == 3e-5 && c.finalGradClip == 12)
        try c.apply(overrides: ["finalWeightDecay=0.001", "finalGradClip=4"])
        #expect(c.finalWeightDecay == 0.001 && c.finalGradClip == 4)
        #expect(throws: ConfigError.outOfRange("finalGradClip", "positive (a gradient-norm limit)")) {
            try c.apply(overrides: ["finalGradClip=0"])
        }
    }
}
