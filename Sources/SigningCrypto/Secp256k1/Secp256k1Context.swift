import CSecp256k1

/// The process-wide libsecp256k1 context, created and randomized once.
///
/// `@unchecked Sendable` is justified by the library's contract: a context may be used from many threads
/// at once by every call that takes it as `const` (signing, verification, key parsing and recovery).
/// The only non-`const` call, `secp256k1_context_randomize`, runs in `init` before the context is
/// published, and nothing mutates it afterwards.
final class Secp256k1Context: @unchecked Sendable {
    /// The shared context; every operation in this module uses it.
    static let shared = Secp256k1Context()

    /// The `secp256k1_context *`.
    let pointer: OpaquePointer

    private init() {
        guard let context = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE)) else {
            fatalError("secp256k1_context_create failed")
        }
        // Randomization blinds the signing computation against side channels (see secp256k1.h).
        var seed = SecretBuffer.random()
        let randomized = seed.withUnsafeBytes { secp256k1_context_randomize(context, $0) }
        seed.wipe()
        precondition(randomized == 1, "secp256k1_context_randomize failed")
        self.pointer = context
    }

    deinit {
        secp256k1_context_destroy(self.pointer)
    }
}
