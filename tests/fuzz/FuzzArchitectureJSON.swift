// libFuzzer target: arbitrary bytes as architecture.json: decode, validate, build the graph (shape inference).
import Foundation
import Search

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArchitectureJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let arch = try? Architecture.decode(from: Data(bytes: data, count: size), source: "fuzz") {
        _ = try? NetworkGraph(arch)
        _ = try? arch.jsonData()
    }
    return 0
}
