import Hummingbird
import NIOCore

/// Per-request context: Hummingbird's core storage plus the client's connection, which streams watch.
package struct ProxyRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The connection the request arrived on.
    let channel: any Channel

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// The watcher installed in this connection's pipeline, if any.
    func connectionState() async -> ClientConnectionState? {
        let channel = self.channel
        return try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: ClientConnectionWatcher.self).state
        }.get()
    }
}
