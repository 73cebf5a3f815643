import NN
@testable import Search
import Tensor

/// Small helpers shared by the network-builder tests (tiny, seeded inputs and snapshots).
enum BuildFixtures {
    /// A seeded N(0, 1) input of shape (n, c, D, H, W).
    static func input(_ n: Int, _ c: Int, _ patch: [Int], seed: UInt64) -> Tensor {
        var rng = RNG(seed: seed)
        return Tensor.randomNormal([n, c] + patch, rng: &rng)
    }

    /// Seeded class indices of shape (n, D, H, W), values in 0..<classes.
    static func labels(_ n: Int, classes: Int, _ patch: [Int], seed: UInt64) -> Tensor {
        var rng = RNG(seed: seed)
        let count = n * patch.reduce(1, *)
        return Tensor(shape: [n] + patch, scalars: (0..<count).map { _ in Float(rng.int(below: classes)) })
    }

    /// A copy of every parameter's value, by name.
    static func snapshot(_ params: [Parameter]) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: params.map { ($0.name, $0.value) })
    }

    /// The tiny preset's space (8 cells, 3 levels) as one architecture with every op present.
    /// Levels 1,2,3,3,3,2,1,1: a valid `ushape` path (down, down, keep, keep, up, up, keep).
    static func tinyArchitecture(width: Int = 2, classes: Int = 3, patch: [Int] = [8, 16, 16]) -> Architecture {
        NetworkSettings(baseWidth: width, inputChannels: 1, classes: classes, patch: patch)
            .architecture(name: "tiny-test", topology: Topology([1, 2, 3, 3, 3, 2, 1, 1]),
                          ops: [.conv2D, .conv3D, .p3D, .conv3D, .conv2D, .p3D, .conv3D, .conv2D], levels: 3)
    }
}
