import Foundation
import Testing
@testable import NN
import Tensor

@Suite("safetensors")
struct SafeTensorsTests {
    @Test("round trip with metadata, rank-0 and empty tensors, file write is atomic")
    func roundTrip() throws {
        var rng = RNG(seed: 1)
        let tensors: [String: Tensor] = [
            "cells.3.op.conv.weight": .randomNormal([4, 2, 3, 3, 1], rng: &rng),
            "stem.bias": .randomNormal([4], rng: &rng),
            "sgd.step": Tensor(scalar: 17),
            "empty": .zeros([0, 3]),
        ]
        let meta = ["format": "pt", "note": "quote \" backslash \\ newline \n tab \t"]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("w.safetensors")
        try SafeTensors.write(tensors, metadata: meta, to: url)
        #expect(!FileManager.default.fileExists(atPath: url.path + ".tmp"))
        let back = try SafeTensors.read(from: url)
        #expect(back.metadata == meta)
        #expect(back.tensors.count == tensors.count)
        for (k, t) in tensors { #expect(back.tensors[k] == t, "\(k)") }
        // Data starts 8-byte aligned.
        let data = try Data(contentsOf: url)
        let n = data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect((8 + n) % 8 == 0)
    }

    @Test("a failed write names the file, says why and leaves the previous file and no temporary")
    func failedWrite() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("no-such-folder/w.safetensors")
        let error = try #require(throws: SafeTensorsError.self) { try SafeTensors.write(["a": .zeros([2])], to: missing) }
        #expect(error.description.hasPrefix(missing.path) && error.description.contains("No such file"))
        // The target is a folder: the rename fails, the folder is untouched and the temporary is removed.
        let folder = dir.appendingPathComponent("taken")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        #expect(throws: SafeTensorsError.self) { try SafeTensors.write(["a": .zeros([2])], to: folder) }
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) && isDirectory.boolValue)
        #expect(!FileManager.default.fileExists(atPath: folder.path + ".tmp"))
    }

    @Test("reads a hand-built file whose header has __metadata__, F64 and F16 entries")
    func handBuilt() throws {
        let header = #"{"__metadata__":{"format":"pt"},"b":{"dtype":"F64","shape":[2],"data_offsets":[8,24]},"# +
                     #""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"h":{"dtype":"F16","shape":[2],"data_offsets":[24,28]}}"#
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        for f in [Float(1.5), -2] { withUnsafeBytes(of: f.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        for d in [0.25, 1e3] { withUnsafeBytes(of: d.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        for h: UInt16 in [0x3C00, 0xC000] { withUnsafeBytes(of: h.littleEndian) { data.append(contentsOf: $0) } }  // 1, -2
        let (t, meta) = try SafeTensors.decode(data)
        #expect(meta == ["format": "pt"])
        #expect(t["a"]!.scalars == [1.5, -2])
        #expect(t["b"]!.scalars == [0.25, 1000])
        #expect(t["h"]!.scalars == [1, -2])
    }

    @Test("malformed files give errors that say what is wrong")
    func errors() {
        func message(_ data: Data) -> String {
            do { _ = try SafeTensors.decode(data, file: "x.safetensors"); return "no error" } catch { return "\(error)" }
        }
        #expect(message(Data([1, 2])).contains("too short"))
        var big = Data()
        withUnsafeBytes(of: UInt64(1000).littleEndian) { big.append(contentsOf: $0) }
        #expect(message(big).contains("exceeds the file size"))
        func file(_ header: String, dataBytes: Int) -> Data {
            var d = Data()
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
            d.append(contentsOf: Array(header.utf8))
            d.append(Data(count: dataBytes))
            return d
        }
        #expect(message(file("{nope", dataBytes: 0)).contains("not valid JSON"))
        #expect(message(file(#"{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, dataBytes: 8)).contains("dtype I64"))
        #expect(message(file(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, dataBytes: 8)).contains("expected 12"))
        #expect(message(file(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, dataBytes: 8)).contains("out of range"))
        #expect(message(file("{nope", dataBytes: 0)).hasPrefix("x.safetensors: "))
    }

    @Test("module state dict loads by name and rejects wrong shapes")
    func stateDict() throws {
        var rng = RNG(seed: 2)
        let a = Conv3d(name: "c", inChannels: 2, outChannels: 3, kernel: .k331, bias: true, rng: &rng)
        let b = Conv3d(name: "c", inChannels: 2, outChannels: 3, kernel: .k331, bias: true, rng: &rng)
        try b.loadStateDict(SafeTensors.decode(SafeTensors.encode(a.stateDict())).tensors)
        #expect(b.weight.value == a.weight.value)
        let wrong = Conv3d(name: "c", inChannels: 2, outChannels: 4, kernel: .k331, rng: &rng)
        #expect(throws: NNError.self) { try wrong.loadStateDict(a.stateDict()) }
        let bn = BatchNorm3d(name: "bn", channels: 3)
        #expect(Set(bn.stateDict().keys) == ["bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"])
    }
}
