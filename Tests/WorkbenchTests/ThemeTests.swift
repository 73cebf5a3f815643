import Foundation
import Testing
@testable import Workbench

@Suite("themes")
struct ThemeTests {
    static let themesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("themes").path

    @Test("the theme files load; dark.json is the built-in theme")
    func files() throws {
        let (themes, errors) = Theme.loadAll(directory: Self.themesDirectory)
        #expect(errors.isEmpty, "\(errors)")
        #expect(themes.map(\.name) == ["dark", "high-contrast", "light"])
        #expect(themes[0] == Theme.builtIn)
        // Every file names every role explicitly (nothing silently inherited).
        for f in ["dark", "light", "high-contrast"] {
            let data = try #require(FileManager.default.contents(atPath: Self.themesDirectory + "/\(f).json"))
            let roles = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["roles"] as? [String: Any])
            #expect(Set(roles.keys) == Set(Role.allCases.map(\.rawValue)), "\(f)")
        }
        let hc = themes[1]
        #expect(hc.style(.header).monochrome == [.reverse, .bold])
        #expect(hc.style(.overlayLabel).fg == .palette(46))
        #expect(hc.style(.curveTrain).fg == .palette(9))
    }

    @Test("colour syntax")
    func colors() {
        #expect(Theme.parseColor("#ff8700") == .rgb(255, 135, 0))
        #expect(Theme.parseColor("default") == .default)
        #expect(Theme.parseColor(200) == .palette(200))
        #expect(Theme.parseColor("17") == .palette(17))
        #expect(Theme.parseColor("red") == .palette(1))
        #expect(Theme.parseColor("bright-cyan") == .palette(14))
        #expect(Theme.parseColor("#ff87") == nil)
        #expect(Theme.parseColor(300) == nil)
        #expect(Theme.parseColor("mauve") == nil)
    }

    @Test("bad files give errors naming the file and the fix")
    func errors() {
        func problem(_ json: String) -> String? {
            do { _ = try Theme.parse(Data(json.utf8), file: "themes/x.json"); return nil } catch { return error.description }
        }
        #expect(problem("{")?.contains("themes/x.json: not valid JSON") == true)
        #expect(problem(#"{"name": "x"}"#)?.contains("missing \"roles\"") == true)
        #expect(problem(#"{"roles": {"axes": {}}}"#)?.contains("unknown role \"axes\"; known roles: text") == true)
        #expect(problem(##"{"roles": {"axis": {"fg": "#12"}}}"##)?.contains("use \"#rrggbb\"") == true)
        #expect(problem(#"{"roles": {"axis": {"blink": true}}}"#)?.contains("unknown field \"blink\"") == true)
        #expect(problem(#"{"roles": {"axis": {"mono": ["flash"]}}}"#)?.contains("unknown attribute \"flash\"") == true)
        do { _ = try Theme.load(path: "/nonexistent/t.json"); Issue.record("expected an error") } catch {
            #expect(error.description.contains("/nonexistent/t.json"))
        }
        // A partial file takes the other roles from the built-in theme; the name defaults to the file name.
        let partial = try? Theme.parse(Data(#"{"roles": {"axis": {"fg": 3}}}"#.utf8), file: "themes/mine.json")
        #expect(partial?.name == "mine")
        #expect(partial?.style(.axis).fg == .palette(3))
        #expect(partial?.style(.grid) == Theme.builtIn.style(.grid))
    }

    @Test("capability detection: NO_COLOR, COLORS, COLORTERM, can_change_color")
    func detection() {
        #expect(ColorDepth.detect(colors: 256, canChangeColor: true, environment: ["NO_COLOR": "1"]) == .monochrome)
        #expect(ColorDepth.detect(colors: 256, canChangeColor: false, environment: ["NO_COLOR": ""]) == .palette256)
        #expect(ColorDepth.detect(colors: 1 << 24, canChangeColor: false, environment: [:]) == .truecolor)
        #expect(ColorDepth.detect(colors: 256, canChangeColor: true, environment: ["COLORTERM": "truecolor"]) == .truecolor)
        #expect(ColorDepth.detect(colors: 256, canChangeColor: false, environment: ["COLORTERM": "24bit"]) == .palette256)
        #expect(ColorDepth.detect(colors: 16, canChangeColor: false, environment: ["COLORTERM": "truecolor"]) == .ansi16)
        #expect(ColorDepth.detect(colors: 8, canChangeColor: false, environment: [:]) == .ansi16)
        #expect(ColorDepth.detect(colors: 0, canChangeColor: false, environment: [:]) == .monochrome)
    }

    @Test("degradation to 256, 16 colours and monochrome")
    func degradation() {
        let t = Theme.builtIn
        let p256 = t.resolved(for: .palette256), a16 = t.resolved(for: .ansi16), mono = t.resolved(for: .monochrome)
        for role in Role.allCases {
            for c in [p256.style(role).fg, p256.style(role).bg] {
                if case .rgb = c { Issue.record("\(role) still 24-bit at 256 colours") }
            }
            for c in [a16.style(role).fg, a16.style(role).bg] {
                if case .palette(let i) = c { #expect(i < 16, "\(role)") }
                if case .rgb = c { Issue.record("\(role) still 24-bit at 16 colours") }
            }
            #expect(mono.style(role).fg == .default && mono.style(role).bg == .default)
        }
        // Exact cube / grey colours map to themselves; #ff8700 is cube entry 208; pure red is bright red.
        #expect(ColorMath.nearest256((255, 135, 0)) == 208)
        #expect(ColorMath.nearest256((128, 128, 128)) == 244)
        #expect(ColorMath.nearest256((0, 0, 0)) == 16)
        #expect(ColorMath.nearest16((250, 0, 0)) == 9)
        #expect(p256.style(.curveTrain).fg == .palette(208))
        // #ff8700 is closest to xterm's yellow (205,205,0): distance² 50²+70² = 7400 vs 18225 for bright red.
        #expect(a16.style(.curveTrain).fg == .palette(3))
        #expect(mono.style(.header).attributes == .reverse)
        #expect(mono.style(.selection).attributes == .reverse)
        #expect(mono.style(.warning).attributes.contains(.bold))
        // Slice greys per depth.
        #expect(t.resolved(for: .truecolor).grey(0.5) == .rgb(128, 128, 128))
        #expect(p256.grey(0.5) == .palette(244))
        #expect(a16.grey(0) == .palette(0) && a16.grey(1) == .palette(15))
        #expect(mono.grey(0.5) == .default)
    }
}
