import Foundation
import Pictures

/// A theme file that cannot be used, with what to do about it.
public struct ThemeError: Error, Equatable, CustomStringConvertible {
    public var file: String
    public var problem: String
    public var description: String { "theme \(file): \(problem)" }
}

extension Theme {
    static let attributeNames: [String: TextAttributes] = [
        "bold": .bold, "dim": .dim, "reverse": .reverse, "underline": .underline,
    ]
    static let colorNames = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

    /// Parses a colour: "default", "#rrggbb", an ANSI name ("red", "bright-blue"), or a palette
    /// index 0–255 (number or string).
    static func parseColor(_ value: Any) -> Color? {
        if let n = value as? Int { return (0...255).contains(n) ? .palette(UInt8(n)) : nil }
        guard let s = (value as? String)?.lowercased().trimmingCharacters(in: .whitespaces) else { return nil }
        if s == "default" || s == "none" { return .default }
        if s.hasPrefix("#"), s.count == 7, let v = UInt32(s.dropFirst(), radix: 16) {
            return .rgb(UInt8(v >> 16), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF))
        }
        if let n = Int(s), (0...255).contains(n) { return .palette(UInt8(n)) }
        let bright = s.hasPrefix("bright-")
        if let i = colorNames.firstIndex(of: bright ? String(s.dropFirst(7)) : s) {
            return .palette(UInt8(i + (bright ? 8 : 0)))
        }
        return nil
    }

    /// Reads a theme from JSON text. Roles the file leaves out come from the built-in theme.
    public static func parse(_ data: Data, file: String) throws(ThemeError) -> Theme {
        func fail(_ problem: String) -> ThemeError { ThemeError(file: file, problem: problem) }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw fail("not valid JSON (\(error.localizedDescription)); fix the syntax or delete the file")
        }
        guard let root = object as? [String: Any] else {
            throw fail("expected a JSON object with \"name\" and \"roles\"")
        }
        let fallbackName = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let name = (root["name"] as? String) ?? fallbackName
        guard let rolesObject = root["roles"] as? [String: Any] else {
            throw fail("missing \"roles\" object (role name → {\"fg\", \"bg\", \"bold\", …})")
        }
        var roles = Theme.builtIn.roles
        for (key, value) in rolesObject {
            guard let role = Role(rawValue: key) else {
                throw fail("unknown role \"\(key)\"; known roles: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let spec = value as? [String: Any] else {
                throw fail("role \"\(key)\" must be an object like {\"fg\": \"#ff8700\", \"bold\": true}")
            }
            var style = RoleStyle()
            for (field, v) in spec {
                switch field {
                case "fg", "bg":
                    guard let c = parseColor(v) else {
                        throw fail("role \"\(key)\": \(field) \(v) is not a colour; use \"#rrggbb\", 0–255, \"default\" or an ANSI name like \"bright-red\"")
                    }
                    if field == "fg" { style.fg = c } else { style.bg = c }
                case "mono":
                    guard let names = v as? [String] else { throw fail("role \"\(key)\": mono must be a list like [\"reverse\"]") }
                    var attrs: TextAttributes = []
                    for n in names {
                        guard let a = attributeNames[n] else {
                            throw fail("role \"\(key)\": unknown attribute \"\(n)\" in mono; use bold, dim, reverse, underline")
                        }
                        attrs.insert(a)
                    }
                    style.monochrome = attrs
                default:
                    guard let a = attributeNames[field] else {
                        throw fail("role \"\(key)\": unknown field \"\(field)\"; use fg, bg, bold, dim, reverse, underline, mono")
                    }
                    guard let on = v as? Bool else { throw fail("role \"\(key)\": \(field) must be true or false") }
                    if on { style.attributes.insert(a) }
                }
            }
            roles[role] = style
        }
        return Theme(name: name, roles: roles)
    }

    /// Reads `path` (a `.json` theme file).
    public static func load(path: String) throws(ThemeError) -> Theme {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ThemeError(file: path, problem: "cannot be read; check the path (themes live in themes/NAME.json)")
        }
        return try parse(data, file: path)
    }

    /// Every `.json` theme in `directory`, sorted by name, plus the errors of files that failed.
    public static func loadAll(directory: String) -> (themes: [Theme], errors: [ThemeError]) {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted()
        var themes = [Theme](), errors = [ThemeError]()
        for f in files {
            do { themes.append(try load(path: (directory as NSString).appendingPathComponent(f))) } catch { errors.append(error) }
        }
        return (themes, errors)
    }

    /// The theme used when no file is found (same as themes/dark.json).
    public static let builtIn: Theme = {
        func c(_ hex: UInt32) -> Color { .rgb(UInt8(hex >> 16), UInt8((hex >> 8) & 0xFF), UInt8(hex & 0xFF)) }
        let r: [Role: RoleStyle] = [
            .text: RoleStyle(),
            .dim: RoleStyle(fg: c(0x808080)),
            .frame: RoleStyle(fg: c(0x5f6f87)),
            .frameFocus: RoleStyle(fg: c(0x87d7ff), attributes: .bold),
            .title: RoleStyle(fg: c(0xd0d0d0), attributes: .bold),
            .header: RoleStyle(fg: c(0x000000), bg: c(0x5fafd7)),
            .footer: RoleStyle(fg: c(0xd0d0d0), bg: c(0x303a4a)),
            .selection: RoleStyle(fg: c(0x000000), bg: c(0xafd7ff)),
            .dialog: RoleStyle(fg: c(0xffffff), bg: c(0x262e3a)),
            .paused: RoleStyle(fg: c(0x000000), bg: c(0xffaf00), attributes: .bold),
            .warning: RoleStyle(fg: c(0xffaf00), attributes: .bold),
            .axis: RoleStyle(fg: c(0x8a8a8a)),
            .grid: RoleStyle(fg: c(0x4e4e4e)),
            .curveTrain: RoleStyle(fg: c(0xff8700)),
            .curveVal: RoleStyle(fg: c(0x5fd7ff)),
            .level1: RoleStyle(fg: c(0x87d787)),
            .level2: RoleStyle(fg: c(0x5fd7d7)),
            .level3: RoleStyle(fg: c(0x87afff)),
            .level4: RoleStyle(fg: c(0xd787ff)),
            .topologyBest: RoleStyle(fg: c(0xffd75f)),
            .topologyMedoid: RoleStyle(fg: c(0x6c6c6c)),
            .op2D: RoleStyle(fg: c(0x87d75f)),
            .op3D: RoleStyle(fg: c(0x5fafff)),
            .opP3D: RoleStyle(fg: c(0xff87d7)),
            .overlayLabel: RoleStyle(fg: c(0x00d75f)),
            .overlayPred: RoleStyle(fg: c(0xff5f00)),
            .errorFP: RoleStyle(fg: c(0xff0000)),
            .errorFN: RoleStyle(fg: c(0x0087ff)),
            .logDebug: RoleStyle(fg: c(0x6c6c6c)),
            .logInfo: RoleStyle(),
            .logWarning: RoleStyle(fg: c(0xffaf00)),
            .logError: RoleStyle(fg: c(0xff5f5f), attributes: .bold),
        ]
        var roles = r
        for (i, role) in Role.classRoles.enumerated() {
            let p = OverlayPalette.standardClasses[i]
            roles[role] = RoleStyle(fg: .rgb(p.r, p.g, p.b))
        }
        return Theme(name: "dark", roles: roles)
    }()

    /// The theme as JSON text in the file format (used to write themes/dark.json and in tests).
    public func jsonText() -> String {
        func color(_ c: Color) -> String {
            switch c {
            case .default: return "\"default\""
            case .palette(let i): return "\(i)"
            case .rgb(let r, let g, let b):
                return "\"#" + [r, g, b].map { String(format: "%02x", $0) }.joined() + "\""
            }
        }
        var lines = [String]()
        for role in Role.allCases {
            let s = style(role)
            var fields = [String]()
            if s.fg != .default { fields.append("\"fg\": \(color(s.fg))") }
            if s.bg != .default { fields.append("\"bg\": \(color(s.bg))") }
            for (n, a) in Theme.attributeNames.sorted(by: { $0.key < $1.key }) where s.attributes.contains(a) {
                fields.append("\"\(n)\": true")
            }
            if let m = s.monochrome {
                let names = Theme.attributeNames.sorted(by: { $0.key < $1.key }).filter { m.contains($0.value) }.map { "\"\($0.key)\"" }
                fields.append("\"mono\": [\(names.joined(separator: ", "))]")
            }
            lines.append("    \"\(role.rawValue)\": {\(fields.joined(separator: ", "))}")
        }
        return "{\n  \"name\": \"\(name)\",\n  \"roles\": {\n" + lines.joined(separator: ",\n") + "\n  }\n}\n"
    }
}
