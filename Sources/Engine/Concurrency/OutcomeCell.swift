import Foundation

/// The engine's outcome, set from the engine task, read by the thread that waits for it (CLI or UI).
public final class OutcomeCell: @unchecked Sendable {
    private let condition = NSCondition()
    public init() {}
    private var value: RunOutcome?
    public func set(_ v: RunOutcome) { condition.lock(); value = v; condition.broadcast(); condition.unlock() }
    public func peek() -> RunOutcome? { condition.lock(); defer { condition.unlock() }; return value }
    public func wait(seconds: Double) -> RunOutcome? {
        condition.lock(); defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(seconds)
        while value == nil && condition.wait(until: deadline) {}
        return value
    }
}
