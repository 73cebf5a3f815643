import Engine

/// docs/TROUBLESHOOTING.md is rendered here, outside Engine: the engine owns the catalogue (ids,
/// sample messages, causes), presentation as Markdown belongs to the command-line side.
extension ErrorCatalogue {
    /// The whole guide as Markdown; `extra` sections (the workbench's) are appended.
    public static func markdown(extra: [Section] = []) -> String {
        var out = """
        # Troubleshooting

        Every error and warning c2fnas can show, one entry each: its stable id, a sample message (paths
        are examples), and the usual cause. Each message names the file or field and ends with the fix.
        Nothing here is written by hand: the entries come from the error types themselves
        (`ErrorCatalogue` in Sources/Engine/Util, rendered by Sources/CLI/TroubleshootingDoc.swift), and a test fails when this file differs from them.
        Regenerate it with `UPDATE_DOCS=1 swift test -c release -Xswiftc -enable-testing --skip-build --filter TroubleshootingDocTests`.

        """
        for s in sections + extra {
            out += "\n## \(s.title)\n"
            for e in s.entries {
                out += "\n### `\(e.id)`\n\n```\n\(e.message)\n```\n\nCause: \(e.cause)\n"
            }
        }
        return out
    }
}
