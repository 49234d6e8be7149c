import Synchronization

/// Heap home of a private key's 32 bytes that wipes them when the last key value referring to it goes away.
///
/// The bytes never change after `init`; the `Mutex` is there so that `deinit` may write zeros while
/// the class stays `Sendable` without `@unchecked`. Readers hold the lock only for a 32-byte copy.
final class SecretKeyStorage: Sendable {
    private let secret: Mutex<SecretBuffer>

    init(_ secret: consuming SecretBuffer) {
        self.secret = Mutex(secret)
    }

    /// Calls `body` with a pointer to a stack copy of the 32 bytes; the copy is wiped afterwards.
    func withUnsafeBytes<Result>(_ body: (UnsafePointer<UInt8>) -> Result) -> Result {
        var copy = self.secret.withLock { $0 }
        defer { copy.wipe() }
        return copy.withUnsafeBytes(body)
    }

    deinit {
        self.secret.withLock { $0.wipe() }
    }
}
