#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// JSON decoding whose failures read as one short sentence without echoing input values.
enum LenientJSON {
    /// Why a document did not decode.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>, what: String) -> Result<T, Failure> {
        do {
            return .success(try JSONDecoder().decode(T.self, from: Data(bytes)))
        } catch {
            return .failure(Failure(description: "\(what) is not valid: \(reason(error))"))
        }
    }

    /// A path-and-kind summary of a decoding error.
    static func reason(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? "" : " at \(path)"
        }
        switch decoding {
        case .keyNotFound(let key, let context):
            return "missing field \"\(key.stringValue)\"\(path(context))"
        case .typeMismatch(let type, let context):
            return "expected \(type)\(path(context))"
        case .valueNotFound(let type, let context):
            return "null where \(type) was expected\(path(context))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not JSON" : "bad value\(path(context))"
        @unknown default:
            return "invalid JSON"
        }
    }
}
