import Synchronization

/// A thread-safe queue the engine posts to and the UI drains once per frame, with no `await`
/// in the UI loop.
public final class Mailbox<Item: Sendable>: Sendable {
    private let items = Mutex<[Item]>([])

    public init() {}

    public func post(_ item: Item) { items.withLock { $0.append(item) } }

    public func drain() -> [Item] {
        items.withLock { queue in
            let out = queue
            queue.removeAll(keepingCapacity: true)
            return out
        }
    }
}
