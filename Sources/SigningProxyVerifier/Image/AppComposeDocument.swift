#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// dstack's app-compose document (`info.tcb_info.app_compose`, whose SHA-256 is the attested compose hash): only the
/// fields that decide which containers run.
struct AppComposeDocument: Decodable, Sendable {
    /// `docker-compose` for compose apps.
    var runner: String?
    /// The docker-compose file, as text.
    var dockerComposeFile: String?
    /// A shell script the CVM runs before compose starts; it can run containers of its own.
    var preLaunchScript: String?

    private enum CodingKeys: String, CodingKey {
        case runner
        case dockerComposeFile = "docker_compose_file"
        case preLaunchScript = "pre_launch_script"
    }

    /// The document when `bytes` is a JSON object with at least one of these fields, else nil (a plain compose file).
    static func decode(_ bytes: some Collection<UInt8>) -> AppComposeDocument? {
        guard bytes.first(where: { !" \t\r\n".utf8.contains($0) }) == UInt8(ascii: "{"),
            let document = try? JSONDecoder().decode(AppComposeDocument.self, from: Data(bytes)),
            document.runner != nil || document.dockerComposeFile != nil
        else { return nil }
        return document
    }
}
