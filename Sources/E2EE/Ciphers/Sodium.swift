import CSodium

/// libsodium, initialised once per process before any call that needs its random generator or CPU dispatch.
enum Sodium {
    /// Evaluated once (Swift runs a global's initialiser exactly once, thread-safely).
    private static let initialised: Bool = sodium_init() >= 0

    /// Call before any libsodium function.
    static func ensureInitialised() {
        precondition(Self.initialised, "sodium_init failed")
    }

    /// `count` bytes from libsodium's CSPRNG.
    static func randomBytes(_ count: Int) -> [UInt8] {
        Self.ensureInitialised()
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialised in
            randombytes_buf(buffer.baseAddress!, count)
            initialised = count
        }
    }
}
