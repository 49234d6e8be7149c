import ArgumentParser
import Foundation

/// `chaos`: the chaos soak (`make soak`) and the attack reproducers (`make attack`), run against the
/// release signing-proxy over loopback.
@main
struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Chaos soak and attack reproducers for signing-proxy (loopback only, bounded in time and count).",
        subcommands: [SoakCommand.self, AttackCommand.self]
    )
}

/// Options every subcommand takes.
struct CommonOptions: ParsableArguments {
    @Option(help: "Folder with the release signing-proxy and mock-vllm binaries.")
    var binDir = ".build/release"

    @Option(help: "Folder with the mock-vllm binary, when not --bin-dir (e.g. to test an older proxy with today's mock).")
    var mockBinDir: String?

    @Option(
        name: .customLong("proxy-env"),
        help: "NAME=VALUE added to every proxy's environment (repeatable), e.g. VLLM_PROXY_HEADER_TIMEOUT_SECS=5.")
    var proxyEnv: [String] = []

    @Flag(help: "Keep the temporary folder with every process's log (kept anyway when a run fails).")
    var keepLogs = false

    func validate() throws {
        _ = try environment()
    }

    func environment() throws -> [String: String] {
        var result: [String: String] = [:]
        for entry in proxyEnv {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw ValidationError("--proxy-env takes NAME=VALUE, got \(entry)")
            }
            result[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return result
    }
}

/// Writes `value` as pretty, key-sorted JSON to `path` (folders created).
func writeJSON(_ value: some Encodable, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let url = URL(fileURLWithPath: path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try encoder.encode(value).write(to: url)
    chaosLog("wrote \(path)")
}
