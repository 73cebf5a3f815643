import Foundation
import Testing
import Engine
@testable import Workbench
import CLI

/// docs/TROUBLESHOOTING.md is the rendered error catalogue; it cannot go stale because this test
/// compares the two (and rewrites the file when UPDATE_DOCS=1).
@Suite("Troubleshooting guide")
struct TroubleshootingDocTests {
    static let docURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/TROUBLESHOOTING.md")

    @Test("docs/TROUBLESHOOTING.md matches the error catalogue")
    func docMatchesCatalogue() throws {
        let rendered = ErrorCatalogue.markdown(extra: [WorkbenchErrorCatalogue.section])
        if ProcessInfo.processInfo.environment["UPDATE_DOCS"] == "1" {
            try Data(rendered.utf8).write(to: Self.docURL, options: .atomic)
        }
        let committed = (try? String(contentsOf: Self.docURL, encoding: .utf8)) ?? ""
        #expect(committed == rendered, """
            docs/TROUBLESHOOTING.md differs from the error catalogue. Regenerate it with
            UPDATE_DOCS=1 swift test -c release -Xswiftc -enable-testing --skip-build --filter TroubleshootingDocTests
            """)
    }

    @Test("every entry has a unique id, a message and a cause")
    func entriesAreComplete() {
        let all = (ErrorCatalogue.sections + [WorkbenchErrorCatalogue.section]).flatMap(\.entries)
        #expect(Set(all.map(\.id)).count == all.count)
        for e in all {
            #expect(!e.message.isEmpty && !e.cause.isEmpty, "\(e.id)")
            #expect(!e.message.contains("\n"), "\(e.id): one paragraph")
        }
        #expect(all.count >= 45)
    }
}
