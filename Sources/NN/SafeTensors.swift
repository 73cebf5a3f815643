// safetensors read/write for a name → Float32 tensor map (the format of Hugging Face's
// `safetensors`, loadable by `safetensors.numpy.load_file` and PyTorch).
//
// File = 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the raw data.
// The JSON maps each name to {"dtype":"F32","shape":[…],"data_offsets":[begin,end]} (offsets
// relative to the data start), plus an optional "__metadata__" object of string → string.
// We write names in sorted order with contiguous data and pad the header with spaces so the data
// starts 8-byte aligned. Reading accepts F32, F64 and F16 (converted to Float32); anything else
// is a clear error. Writes are atomic: `name.tmp`, fsync, rename.

import Foundation
import Tensor
import Files

public struct SafeTensorsError: Error, CustomStringConvertible {
    public let description: String
    init(_ file: String, _ message: String) { description = "\(file): \(message)" }
}

public enum SafeTensors {
    /// Serialises tensors (sorted by name) and metadata.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> Data {
        var entries: [String] = []
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(fields.joined(separator: ","))}")
        }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            let bytes = t.count * 4
            let shape = t.shape.map(String.init).joined(separator: ",")
            entries.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        while (8 + header.count) % 8 != 0 { header.append(0x20) }
        var data = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header)
        for name in names {
            tensors[name]!.withUnsafeBufferPointer { p in
                if UInt32(1).littleEndian == 1 {
                    data.append(UnsafeBufferPointer(start: UnsafeRawPointer(p.baseAddress!).assumingMemoryBound(to: UInt8.self),
                                                    count: p.count * 4))
                } else {
                    for x in p { withUnsafeBytes(of: x.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
                }
            }
        }
        return data
    }

    /// Parses a safetensors buffer. `file` names the source in error messages.
    public static func decode(_ data: Data, file: String = "<memory>") throws
        -> (tensors: [String: Tensor], metadata: [String: String]) {
        guard data.count >= 8 else {
            throw SafeTensorsError(file, "too short for a safetensors file (\(data.count) bytes); is it a weights file?")
        }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8), headerLength < 100_000_000 else {
            throw SafeTensorsError(file, "header length \(headerLength) exceeds the file size \(data.count); file truncated or not safetensors")
        }
        let headerEnd = 8 + Int(headerLength)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd))
        } catch {
            throw SafeTensorsError(file, "header is not valid JSON (\(error.localizedDescription)); file corrupt or not safetensors")
        }
        guard let header = json as? [String: Any] else {
            throw SafeTensorsError(file, "header must be a JSON object")
        }
        let dataCount = data.count - headerEnd
        var metadata: [String: String] = [:]
        var tensors: [String: Tensor] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw SafeTensorsError(file, "__metadata__ must be an object of strings")
                }
                for (k, v) in m {
                    guard let s = v as? String else {
                        throw SafeTensorsError(file, "__metadata__ value for \"\(k)\" must be a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shapeAny = entry["shape"] as? [Any], let offsAny = entry["data_offsets"] as? [Any],
                  offsAny.count == 2 else {
                throw SafeTensorsError(file, "tensor \"\(name)\" needs dtype, shape and data_offsets [begin, end]")
            }
            let shape = try shapeAny.map { try integer($0, file: file, what: "shape of \"\(name)\"") }
            let begin = try integer(offsAny[0], file: file, what: "data_offsets of \"\(name)\"")
            let end = try integer(offsAny[1], file: file, what: "data_offsets of \"\(name)\"")
            guard shape.allSatisfy({ $0 >= 0 }), begin >= 0, begin <= end, end <= dataCount else {
                throw SafeTensorsError(file, "tensor \"\(name)\": offsets [\(begin), \(end)] or shape \(shape) "
                    + "out of range (data section has \(dataCount) bytes); file truncated?")
            }
            let count = shape.reduce(1, *)
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "F64": width = 8
            case "F16": width = 2
            default:
                throw SafeTensorsError(file, "tensor \"\(name)\" has dtype \(dtype); only F32, F64 and F16 are supported "
                    + "(convert it to float32 when saving)")
            }
            guard end - begin == count * width else {
                throw SafeTensorsError(file, "tensor \"\(name)\": \(end - begin) bytes for shape \(shape) of \(dtype) "
                    + "(expected \(count * width))")
            }
            var t = Tensor(uninitialized: shape)
            data.withUnsafeBytes { raw in
                let base = headerEnd + begin
                t.withUnsafeMutableBufferPointer { out in
                    for i in 0..<count {
                        switch width {
                        case 4:
                            out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * i, as: UInt32.self)))
                        case 8:
                            out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8 * i, as: UInt64.self))))
                        default:
                            out[i] = Float(Float16Bits(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 2 * i, as: UInt16.self))))
                        }
                    }
                }
            }
            tensors[name] = t
        }
        return (tensors, metadata)
    }

    /// Writes atomically (temporary file, fsync, rename).
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        let data = encode(tensors, metadata: metadata)
        let code = AtomicWrite.write(data, toPath: url.path)
        guard code == 0 else {
            let advice = [ENOSPC, EDQUOT, EFBIG].contains(code) ? "the disk is full; free space and save again"
                : [EROFS, EACCES, EPERM].contains(code) ? "the folder is not writable; choose another"
                : String(cString: strerror(code))
            throw SafeTensorsError(url.path, "cannot write (\(advice)); any previous file is unchanged")
        }
    }

    /// Reads a safetensors file.
    public static func read(from url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw SafeTensorsError(url.path, "cannot read (\(error.localizedDescription)); check the path")
        }
        return try decode(data, file: url.path)
    }

    private static func integer(_ v: Any, file: String, what: String) throws -> Int {
        if let i = v as? Int { return i }
        if let n = v as? NSNumber, n.doubleValue == n.doubleValue.rounded(), abs(n.doubleValue) < 1e15 {
            return n.intValue
        }
        throw SafeTensorsError(file, "\(what) must be integers")
    }

    /// A JSON string literal with the required escapes.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

/// IEEE half → Float (for reading F16 tensors without relying on the Float16 type's availability).
private func Float16Bits(_ h: UInt16) -> Float {
    let sign = UInt32(h >> 15) << 31
    let exp = Int((h >> 10) & 0x1F), frac = UInt32(h & 0x3FF)
    if exp == 0 {
        let v = Float(frac) * Float(sign != 0 ? -1 : 1) / 16_777_216.0   // subnormal: frac · 2^-24
        return v
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (frac << 13)) }
    return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (frac << 13))
}
