import Hummingbird
import Logging
import NIOCore
import SigningCrypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Answers the v0 guest-agent methods over HTTP, as the dstack guest agent does.
///
/// `POST /<Method>` and `POST /v0/<Method>`; a JSON content type is required; errors are
/// `{"error": ...}` with 400 (the method failed), 404 (`Service not found`), 405 or 413. Any other path
/// is a plain-text 404, as on an agent where nothing is mounted there.
struct DstackSimulatorResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let configuration: DstackSimulatorConfiguration
    let evidence: DstackSimulatedEvidence
    let issuer: DstackKeyIssuer

    /// Largest request body accepted (the real agent's limit is larger; ours only needs small JSON).
    private static let maxBodyBytes = 1 << 20
    /// Methods of the v0 surface this double implements.
    private static let knownMethods: Set<String> = ["GetKey", "GetQuote", "Info", "Version", "EmitEvent"]

    func respond(to request: Request, context: Context) async throws -> Response {
        let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: true)
        let method: String
        switch segments.count {
        case 1: method = String(segments[0])
        case 2 where segments[0] == "v0": method = String(segments[1])
        default: return Self.plain(.notFound, "Not Found\n")
        }
        context.logger.debug("dstack simulator call", metadata: ["dstack.method": "\(method)"])
        if configuration.delay > .zero {
            try await Task.sleep(for: configuration.delay)
        }
        guard Self.knownMethods.contains(method), !configuration.missingMethods.contains(method) else {
            return Self.error(.notFound, "Service not found: \(method)")
        }
        guard request.method == .post else {
            return Self.error(.methodNotAllowed, "Use POST for \(method)")
        }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            return Self.error(.badRequest, "Content-Type must be application/json (got \(contentType.isEmpty ? "none" : contentType))")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maxBodyBytes)
        } catch {
            return Self.error(.contentTooLarge, "Request body is larger than \(Self.maxBodyBytes) bytes")
        }
        if configuration.failingMethods.contains(method) {
            return Self.error(.badRequest, "simulated failure: \(method)")
        }
        let bytes = Array(buffer: body)
        switch method {
        case "GetKey": return getKey(bytes)
        case "GetQuote": return getQuote(bytes)
        case "Info": return Self.json(evidence.infoJSON)
        case "Version": return Self.encode(VersionAnswer(version: configuration.version, rev: "simulator"))
        default:
            return Self.error(
                .badRequest,
                "EmitEvent was removed in dstack 0.6.0; runtime RTMR3 events are system-owned and cannot be extended by apps")
        }
    }

    // MARK: Methods

    private struct GetKeyArguments: Decodable {
        var path: String?
        var purpose: String?
        var algorithm: String?
    }

    private struct GetKeyAnswer: Encodable {
        var key: String
        var signatureChain: [String]
        enum CodingKeys: String, CodingKey {
            case key
            case signatureChain = "signature_chain"
        }
    }

    private struct GetQuoteArguments: Decodable {
        var reportData: String?
        enum CodingKeys: String, CodingKey { case reportData = "report_data" }
    }

    private struct GetQuoteAnswer: Encodable {
        var quote: String
        var eventLog: String
        var reportData: String
        var vmConfig: String
        enum CodingKeys: String, CodingKey {
            case quote
            case eventLog = "event_log"
            case reportData = "report_data"
            case vmConfig = "vm_config"
        }
    }

    private struct VersionAnswer: Encodable {
        var version: String
        var rev: String
    }

    private func getKey(_ body: [UInt8]) -> Response {
        guard let arguments = Self.decode(GetKeyArguments.self, body) else {
            return Self.error(.badRequest, "Invalid JSON for GetKey")
        }
        let requested = arguments.algorithm ?? ""
        guard var algorithm = DstackKeyIssuer.Algorithm(requestValue: requested) else {
            return Self.error(.badRequest, "Unsupported algorithm: \(requested)")
        }
        if configuration.ignoresAlgorithm {
            algorithm = .secp256k1
        }
        do {
            let issued = try issuer.issue(path: arguments.path ?? "", purpose: arguments.purpose ?? "", algorithm: algorithm)
            return Self.encode(GetKeyAnswer(key: Hex.encode(issued.key), signatureChain: issued.chain.map { Hex.encode($0) }))
        } catch {
            return Self.error(.badRequest, error.description)
        }
    }

    private func getQuote(_ body: [UInt8]) -> Response {
        guard let arguments = Self.decode(GetQuoteArguments.self, body) else {
            return Self.error(.badRequest, "Invalid JSON for GetQuote")
        }
        guard let reportData = try? Hex.decode(arguments.reportData ?? "") else {
            return Self.error(.badRequest, "Invalid report_data: not hex")
        }
        guard reportData.count <= 64 else {
            return Self.error(.badRequest, "Report data is too long")
        }
        let padded = reportData + [UInt8](repeating: 0, count: 64 - reportData.count)
        // Fault injection: a quote that does not carry the requested report data.
        let quoted = configuration.badReportData ? padded.map { $0 ^ 0xff } : padded
        return Self.encode(
            GetQuoteAnswer(
                quote: Hex.encode(evidence.quote(reportData: quoted)),
                eventLog: evidence.eventLog,
                reportData: Hex.encode(padded),
                vmConfig: evidence.vmConfig))
    }

    // MARK: Encoding

    private static func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8]) -> T? {
        // Methods without arguments may be called with an empty body.
        try? JSONDecoder().decode(T.self, from: body.isEmpty ? Data("{}".utf8) : Data(body))
    }

    private static func encode(_ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else {
            return error(.internalServerError, "cannot encode the answer")
        }
        return json(Array(data))
    }

    private static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json", .contentLength: String(bytes.count)],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        struct ErrorAnswer: Encodable { var error: String }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(ErrorAnswer(error: message))).map { Array($0) } ?? Array(#"{"error":"error"}"#.utf8)
        return json(data, status: status)
    }

    private static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/plain", .contentLength: String(text.utf8.count)],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
