import Foundation

/// The engine checks this gate between steps: it blocks while paused and reports cancellation.
/// Commands from the UI set the flags from any thread; the engine thread waits on the condition.
public final class PauseGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var paused = false
    private var cancelled = false
    private var skipRequested = false

    public init() {}

    public var isPaused: Bool { condition.lock(); defer { condition.unlock() }; return paused }
    public var isCancelled: Bool { condition.lock(); defer { condition.unlock() }; return cancelled }

    public func pause() { condition.lock(); paused = true; condition.unlock() }
    public func resume() { condition.lock(); paused = false; condition.broadcast(); condition.unlock() }
    public func cancel() { condition.lock(); cancelled = true; condition.broadcast(); condition.unlock() }
    /// Asks the current stage to end early (the stage keeps what it has learned so far).
    public func requestSkip() { condition.lock(); skipRequested = true; condition.unlock() }

    /// Consumes a pending skip request.
    public func takeSkip() -> Bool {
        condition.lock(); defer { condition.unlock() }
        let s = skipRequested
        skipRequested = false
        return s
    }

    /// Blocks while paused. Calls `onPause` once (on this thread) when it starts waiting and
    /// `onResume` when it stops, so the engine can acknowledge both with events.
    /// Returns false when the run was cancelled.
    @discardableResult
    public func waitIfPaused(onPause: () -> Void = {}, onResume: () -> Void = {}) -> Bool {
        condition.lock()
        guard paused && !cancelled else { let ok = !cancelled; condition.unlock(); return ok }
        condition.unlock()
        onPause()
        condition.lock()
        while paused && !cancelled { condition.wait() }
        let ok = !cancelled
        condition.unlock()
        onResume()
        return ok
    }
}
