import HummingbirdCore
import NIOCore

/// One client connection as the fast path's child channel hands it to its task.
struct FastPathConnection: ServerChildChannelValue {
    let channel: any Channel
    let gate: GeneralRouterGate
}
