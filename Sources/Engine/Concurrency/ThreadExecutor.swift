import Foundation

/// A serial executor backed by one dedicated thread. The engine actor runs on it, so its long
/// synchronous training loops never occupy the Swift cooperative pool (which has only as many
/// threads as cores and would starve the UI and other tasks).
public final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var threadID: pthread_t?
    private var thread: Thread!

    public init(name: String, stackSize: Int = 16 << 20) {
        thread = Thread { [unowned self] in self.loop() }
        thread.name = name
        thread.stackSize = stackSize
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// True on the executor's own thread (thread names are unreliable on Linux; compare ids).
    public var isCurrentThread: Bool {
        condition.lock(); defer { condition.unlock() }
        guard let id = threadID else { return false }
        return pthread_equal(id, pthread_self()) != 0
    }

    public func checkIsolated() {
        precondition(isCurrentThread, "not on the \(thread.name ?? "engine") thread")
    }

    private func loop() {
        condition.lock()
        threadID = pthread_self()
        condition.unlock()
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedSerialExecutor())
        }
    }
}
