// libFuzzer target: arbitrary bytes as a run config file (RunConfig.load: unknown fields, presets, types).
import Foundation
import Engine

let configPath = URL(fileURLWithPath: "/dev/shm/c2fnas-fuzz-config-\(getpid()).json")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    try? bytes.write(to: configPath)
    if let config = try? RunConfig.load(configPath) { _ = config.json() }
    return 0
}
