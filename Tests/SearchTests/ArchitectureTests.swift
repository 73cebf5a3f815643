import Foundation
import Testing
@testable import Search

@Suite struct ArchitectureTests {
    static func pancJSON() throws -> [String: Any] {
        var a = try Architecture.builtin("c2fnas-panc")
        a.provenance = Provenance(source: "search", seed: 42, dataset: "Task07_Pancreas", metrics: ["valDice": 0.75])
        return try JSONSerialization.jsonObject(with: a.jsonData()) as! [String: Any]
    }

    /// Decodes `object` and returns the error's field (nil when it decoded).
    static func failingField(_ object: [String: Any]) throws -> String? {
        let data = try JSONSerialization.data(withJSONObject: object)
        do {
            _ = try Architecture.decode(from: data, source: "arch.json")
            return nil
        } catch let e as ArchitectureError {
            #expect(e.source == "arch.json")
            #expect("\(e)".hasPrefix("arch.json: invalid architecture"))
            return e.field
        }
    }

    @Test func jsonRoundTrip() throws {
        var a = try Architecture.builtin("c2fnas-panc", baseWidth: 32, inputChannels: 2, classes: 3, patch: [96, 96, 96])
        a.provenance = Provenance(source: "search", seed: 7, dataset: "Task07_Pancreas",
                                  metrics: ["valDice": 0.8125, "macs": 1.5e11], notes: "cpu preset")
        let data = try a.jsonData()
        let b = try Architecture.decode(from: data)
        #expect(a == b)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"schemaVersion\" : 1"))
        #expect(text.contains("\"2D\""))
        #expect(text.contains("\"P3D\""))
    }

    @Test func provenanceIsOptional() throws {
        var o = try Self.pancJSON()
        o["provenance"] = nil
        #expect(try Self.failingField(o) == nil)
    }

    @Test func decodingErrorsNameTheField() throws {
        func field(_ edit: (inout [String: Any]) -> Void) throws -> String? {
            var o = try Self.pancJSON()
            edit(&o)
            return try Self.failingField(o)
        }
        #expect(try field { $0["ops"] = nil } == "ops")
        #expect(try field { $0["schemaVersion"] = nil } == "schemaVersion")
        #expect(try field { $0["schemaVersion"] = 2 } == "schemaVersion")
        #expect(try field { $0["ops"] = ["2D", "P3D", "3D", "P4D", "3D", "3D", "2D", "3D", "P3D", "3D", "2D", "3D"] } == "ops[3]")
        #expect(try field { $0["ops"] = ["2D", "P3D", "3D"] } == "ops")
        #expect(try field { $0["patch"] = [48, "x", 48] } == "patch[1]")
        #expect(try field { $0["patch"] = [50, 48, 48] } == "patch[0]")
        #expect(try field { $0["patch"] = [48, 48] } == "patch")
        #expect(try field { $0["topology"] = [1, 1, 2, 2, 3, 5, 3, 3, 2, 1, 1, 1] } == "topology[5]")
        #expect(try field { $0["topology"] = [1, 1, 2, 2, 3, 4, 3, 3, 2, 2, 2, 2] } == "topology[11]")
        #expect(try field { $0["levels"] = 3 } == "topology[5]")
        #expect(try field { $0["levels"] = 0 } == "levels")
        #expect(try field { $0["classes"] = "three" } == "classes")
        #expect(try field { $0["classes"] = 1 } == "classes")
        #expect(try field { $0["baseWidth"] = 0 } == "baseWidth")
        #expect(try field { $0["inputChannels"] = 0 } == "inputChannels")
        #expect(try field { $0["name"] = "" } == "name")
        #expect(try field { $0["provenance"] = ["seed": "abc", "metrics": [:]] } == "provenance.seed")
        #expect(try field { $0["provenance"] = ["seed": -1, "metrics": [:]] } == "provenance")   // not a UInt64
        #expect(try field { $0["baseWidth"] = 1e30 } == "baseWidth")
    }

    @Test func messagesAreSpecific() throws {
        var o = try Self.pancJSON()
        o["ops"] = ["2D", "P3D", "3D", "P4D", "3D", "3D", "2D", "3D", "P3D", "3D", "2D", "3D"]
        let data = try JSONSerialization.data(withJSONObject: o)
        #expect(throws: ArchitectureError(field: "ops[3]", message: "unknown cell op 'P4D'; expected one of 2D, 3D, P3D",
                                          source: "panc.json")) {
            try Architecture.decode(from: data, source: "panc.json")
        }
        do {
            _ = try Architecture.decode(from: Data("{not json".utf8), source: "broken.json")
            Issue.record("decoded broken JSON")
        } catch let e as ArchitectureError {
            #expect(e.field == "" && e.message.hasPrefix("not valid JSON") && e.source == "broken.json")
        }
        do {
            _ = try Architecture.decode(from: Data("[1,2]".utf8), source: "array.json")
            Issue.record("decoded an array")
        } catch let e as ArchitectureError {
            #expect(e.message.hasPrefix("expected a JSON object"))
        }
    }

    @Test func builtins() throws {
        #expect(Architecture.builtinNames == ["c2fnas-panc", "unet"])
        let panc = try Architecture.builtin("c2fnas-panc")
        #expect(panc.topology.levels == [1, 1, 2, 2, 3, 4, 3, 3, 2, 1, 1, 1])
        #expect(panc.ops.map(\.rawValue) == ["2D", "P3D", "3D", "3D", "3D", "3D", "2D", "3D", "P3D", "3D", "2D", "3D"])
        let unet = try Architecture.builtin("unet")
        #expect(SearchSpace(cells: 12, levels: 4).contains(unet.topology))
        #expect(unet.ops.allSatisfy { $0 == .conv3D })
        #expect(throws: ArchitectureError.self) { try Architecture.builtin("resnet") }
        #expect(throws: ArchitectureError.self) { try Architecture.builtin("unet", patch: [40, 48, 48]) }
    }

    @Test func cellOpKernelsInLayout() {
        // (x, y, z) with z the slice axis → (d, h, w) with d the slice axis.
        #expect(CellOp.conv2D.convKernels == [Kernel3(1, 3, 3)])
        #expect(CellOp.conv3D.convKernels == [Kernel3(3, 3, 3)])
        #expect(CellOp.p3D.convKernels == [Kernel3(1, 3, 3), Kernel3(3, 1, 1)])
        let layers = CellOp.p3D.layers(channels: 16, level: 2, prefix: "x.op", sharedPrefix: "s.op")
        #expect(layers.map(\.kind) == [.relu, .conv, .conv, .instanceNorm])
        #expect(layers.map(\.name) == ["", "x.op.conv1", "x.op.conv2", "x.op.norm"])
        #expect(CellOp(name: "p3d") == .p3D && CellOp(name: "4D") == nil)
    }
}
