import Engine

/// The workbench's errors for docs/TROUBLESHOOTING.md (appended to the Engine's `ErrorCatalogue`).
public enum WorkbenchErrorCatalogue {
    public static var section: ErrorCatalogue.Section {
        ErrorCatalogue.Section(title: "Workbench (c2fnas-tui)", entries: [
            TroubleshootingEntry(id: "workbench.not-a-terminal", message: TerminalError.notATerminal.description,
                                 cause: "c2fnas-tui was started with its input or output redirected (a pipe, a batch job, nohup)."),
            TroubleshootingEntry(id: "workbench.cannot-initialize", message: TerminalError.cannotInitialize(term: "vt52x").description,
                                 cause: "TERM names a terminal type without a terminfo entry on this machine."),
            TroubleshootingEntry(id: "workbench.theme", message: ThemeError(file: "themes/mine.json", problem: "role \"axis\": fg grey-ish is not a colour; use \"#rrggbb\", 0–255, \"default\" or an ANSI name like \"bright-red\"").description,
                                 cause: "a theme file with an unknown role, colour, attribute or field."),
        ])
    }
}
