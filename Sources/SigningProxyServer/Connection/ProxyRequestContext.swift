import Hummingbird
import NIOCore

/// Per-request context of the general router: Hummingbird's core storage and the client's connection.
package struct ProxyRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The connection the request arrived on.
    let channel: any Channel

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
