import ArgumentParser

/// `signing-proxy verify`: check quotes, attestation reports and live exchanges offline down to Intel's root.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a TDX quote, an attestation report, or a live exchange on any signed route end to end.",
        discussion: """
            Every check is printed with its reason (✔ pass, ✘ fail, – skip). The exit status is 0 only when \
            no mandatory check failed. TCB status and revocation need Intel collateral (--collateral DIR, or \
            --fetch-collateral online) and NVIDIA NRAS needs --nras (online); without them those checks are \
            reported as skipped, never as passed.
            """,
        subcommands: [VerifyQuoteCommand.self, VerifyReportCommand.self, VerifyChatCommand.self, VerifyExchangeCommand.self, VerifyImageCommand.self]
    )
}
