// The `ARCH` argument of train and the benchmarks: a built-in name or an architecture.json path.

import ArgumentParser
import Foundation
import Search

/// A built-in architecture at `width` and `patch`, or the decoded file (its own width and patch).
func loadArchitecture(_ nameOrPath: String, width: Int, patch: [Int]) throws -> Architecture {
    if Architecture.builtinNames.contains(nameOrPath) {
        return try Architecture.builtin(nameOrPath, baseWidth: width, patch: patch)
    }
    let url = URL(fileURLWithPath: nameOrPath)
    guard let data = try? Data(contentsOf: url) else {
        throw ValidationError("cannot read \(url.path); give an architecture.json or one of \(Architecture.builtinNames.joined(separator: ", "))")
    }
    return try Architecture.decode(from: data, source: url.path)
}
