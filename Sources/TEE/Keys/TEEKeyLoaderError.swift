/// Why the signing keys could not be obtained from the dstack agent; each description says what to do.
package struct TEEKeyLoaderError: Error, CustomStringConvertible, Hashable {
    private enum Code: Hashable {
        case agent(step: String, detail: String)
        case invalidKey(String)
        case invalidChain(String)
        case missingAppID(String)
    }

    private let code: Code

    private init(_ code: Code) { self.code = code }

    /// A call to the agent failed (`step` names the call, `detail` the agent error).
    package static func agent(step: String, _ error: any Error) -> TEEKeyLoaderError {
        .init(.agent(step: step, detail: String(describing: error)))
    }

    /// A key returned by `GetKey` is unusable (wrong length, out of range).
    package static func invalidKey(_ detail: String) -> TEEKeyLoaderError { .init(.invalidKey(detail)) }

    /// A signature chain does not verify.
    package static func invalidChain(_ detail: String) -> TEEKeyLoaderError { .init(.invalidChain(detail)) }

    /// `Info` has no usable `app_id`, so the KMS link cannot be checked.
    package static func missingAppID(_ detail: String) -> TEEKeyLoaderError { .init(.missingAppID(detail)) }

    package var description: String {
        switch code {
        case .agent(let step, let detail):
            return "dstack \(step) failed: \(detail). Check that the guest agent socket is mounted "
                + "(- /var/run/dstack.sock:/var/run/dstack.sock) or set DSTACK_SIMULATOR_ENDPOINT; "
                + "use DEV=1 only for development"
        case .invalidKey(let detail):
            return "dstack GetKey returned an unusable key: \(detail). The agent or KMS is misbehaving; "
                + "do not start without TEE keys (DEV=1 is for development only)"
        case .invalidChain(let detail):
            return "dstack key signature chain does not verify: \(detail). The agent is not issuing "
                + "KMS-certified keys for this app; check the agent and KMS configuration"
        case .missingAppID(let detail):
            return "dstack Info has no usable app_id (\(detail)), so the KMS link cannot be checked; "
                + "upgrade the dstack OS or check the agent"
        }
    }
}
