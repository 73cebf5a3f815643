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
            TroubleshootingEntry(id: "workbench.attach-not-a-run", message: AttachError.notARun("runs/typo").description,
                                 cause: "--attach names a folder without config.json (a typo, or the parent of the run folder)."),
            TroubleshootingEntry(id: "workbench.attach-dataset-moved",
                                 message: AttachError.datasetMoved(run: "runs/Task01-20261201-101500", folder: "/data/Task01_BrainMRI").description,
                                 cause: "the dataset folder was moved, renamed or is on a disk that is not mounted."),
            TroubleshootingEntry(id: "workbench.attach-dataset-unknown", message: AttachError.datasetUnknown(run: "runs/old-run").description,
                                 cause: "the run was started by a version that did not write source.json."),
            TroubleshootingEntry(id: "workbench.attach-other-dataset",
                                 message: AttachError.otherDataset(run: "runs/r", folder: "sample-data/Task00_Phantom", found: "Phantom", planned: "BrainMRI").description,
                                 cause: "--dataset (or the positional dataset) names another task than the one the run was planned on."),
        ])
    }
}
