import Hummingbird
import NIOCore

/// Per-request context: Hummingbird's core storage plus the connection, which paced streams watch.
struct MockVLLMRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The request's connection.
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
