import Foundation
import Dispatch

/// Turns SIGINT and SIGTERM into a callback on a private queue (instead of killing the
/// process), so a run can checkpoint and exit cleanly. A second signal while the first is
/// being handled exits at once with status 130.
public final class SignalTrap: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "c2fnas.signals")
    private var fired = 0

    public init(signals: [Int32] = [SIGINT, SIGTERM], handler: @escaping @Sendable (Int32) -> Void) {
        for sig in signals {
            signal(sig, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            src.setEventHandler { [unowned self] in
                self.fired += 1
                if self.fired > 1 {
                    FileHandle.standardError.write(Data("\nsecond signal: exiting without waiting\n".utf8))
                    exit(130)
                }
                handler(sig)
            }
            src.resume()
            sources.append(src)
        }
    }

    deinit { for s in sources { s.cancel() } }
}
