import ArgumentParser

/// `signing-proxy`: the proxy, its demo, and the verifier.
@main
struct SigningProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signing-proxy",
        abstract: "OpenAI-compatible proxy that signs the exact bytes of every vLLM exchange inside a TEE.",
        subcommands: [ServeCommand.self, DemoCommand.self, VerifyCommand.self]
    )
}
