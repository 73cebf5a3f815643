// Kernel and stride types for 3-D convolution, and the derived geometry of one conv call.
//
// Axis names follow the tensor layout N, C, D, H, W (D = z, the slice axis; H = y; W = x).
// The paper writes kernels as (x, y, z): its "3x3x1" (in-plane, 2-D) is d: 1, h: 3, w: 3, and its
// "1x1x3" (through-plane) is d: 3, h: 1, w: 1. Padding is always "same": pad = k / 2 per axis, so
// stride 1 keeps the size and stride 2 gives ceil(n / 2) (PyTorch `padding=k//2`).

/// Conv kernel extent per axis (odd sizes only, for "same" padding).
public struct Kernel3D: Hashable, Sendable, Codable, CustomStringConvertible {
    public var d: Int, h: Int, w: Int

    public init(d: Int, h: Int, w: Int) {
        precondition([d, h, w].allSatisfy { $0 >= 1 && $0 % 2 == 1 },
                     "Kernel3D(d: \(d), h: \(h), w: \(w)): sizes must be odd and positive for same padding")
        self.d = d; self.h = h; self.w = w
    }

    /// Paper notation (x, y, z), e.g. "3x3x1".
    public init(paper x: Int, _ y: Int, _ z: Int) { self.init(d: z, h: y, w: x) }

    public static let k333 = Kernel3D(d: 3, h: 3, w: 3)
    /// In-plane 2-D kernel, the paper's "3x3x1".
    public static let k331 = Kernel3D(d: 1, h: 3, w: 3)
    /// Through-plane kernel, the paper's "1x1x3".
    public static let k113 = Kernel3D(d: 3, h: 1, w: 1)
    public static let k111 = Kernel3D(d: 1, h: 1, w: 1)

    public var volume: Int { d * h * w }
    /// Paper notation x×y×z.
    public var description: String { "\(w)x\(h)x\(d)" }
}

/// Conv stride per axis (1 or 2 in this project; any positive value works).
public struct Stride3D: Hashable, Sendable, Codable, CustomStringConvertible {
    public var d: Int, h: Int, w: Int

    public init(d: Int, h: Int, w: Int) {
        precondition(d >= 1 && h >= 1 && w >= 1, "Stride3D(d: \(d), h: \(h), w: \(w)) must be positive")
        self.d = d; self.h = h; self.w = w
    }

    public init(_ s: Int) { self.init(d: s, h: s, w: s) }

    public static let one = Stride3D(1)
    public static let two = Stride3D(2)
    public var description: String { d == h && h == w ? "\(d)" : "\(w)x\(h)x\(d)" }
}

/// Sizes of one conv call (batch n, channels, input and output extents, padding).
struct ConvGeometry {
    let n: Int, cin: Int, cout: Int
    let d: Int, h: Int, w: Int
    let kd: Int, kh: Int, kw: Int
    let sd: Int, sh: Int, sw: Int
    let pd: Int, ph: Int, pw: Int
    let od: Int, oh: Int, ow: Int

    init(input: [Int], weight: [Int], stride: Stride3D, op: String = "conv3d") {
        precondition(input.count == 5, "\(op): input must be N,C,D,H,W, got shape \(input)")
        precondition(weight.count == 5, "\(op): weight must be Cout,Cin,kD,kH,kW, got shape \(weight)")
        precondition(input[1] == weight[1],
                     "\(op): input has \(input[1]) channels but weight \(weight) expects \(weight[1])")
        precondition(weight[2...].allSatisfy { $0 % 2 == 1 }, "\(op): kernel \(weight[2...]) must have odd sizes")
        n = input[0]; cin = input[1]; d = input[2]; h = input[3]; w = input[4]
        cout = weight[0]; kd = weight[2]; kh = weight[3]; kw = weight[4]
        sd = stride.d; sh = stride.h; sw = stride.w
        pd = kd / 2; ph = kh / 2; pw = kw / 2
        od = (d + 2 * pd - kd) / sd + 1
        oh = (h + 2 * ph - kh) / sh + 1
        ow = (w + 2 * pw - kw) / sw + 1
        precondition(d > 0 && h > 0 && w > 0, "\(op): empty spatial input \(input)")
    }

    var kernelVolume: Int { kd * kh * kw }
    /// Rows of the column matrix (Cin · kernel volume).
    var columnRows: Int { cin * kernelVolume }
    var inVoxels: Int { d * h * w }
    var outVoxels: Int { od * oh * ow }
    /// Output rows (z, y pairs), each `ow` voxels long: the unit of tiling.
    var outRows: Int { od * oh }
    var outputShape: [Int] { [n, cout, od, oh, ow] }
    /// A 1x1x1 stride-1 conv is a plain GEMM on the input (no column matrix).
    /// Stride 1 along every axis.
    var isStride1: Bool { sd == 1 && sh == 1 && sw == 1 }
    var isPointwise: Bool { kernelVolume == 1 && isStride1 }
    /// Multiply-adds of the forward pass.
    var macs: Int { n * cout * columnRows * outVoxels }
}

@inline(__always) func floorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

@inline(__always) func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }
