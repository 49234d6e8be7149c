import Foundation
import TestFixtures
import Testing

@testable import TDX

/// The repository's fixture locator (`Fixtures/`), visible to every file of this module without an import.
typealias Fixtures = TestFixtures.Fixtures

/// Decoding of the dstack fixtures.
extension Fixtures {
    struct GetQuote: Decodable {
        let quote: String
        let event_log: String
    }

    static func getQuote(_ name: String) throws -> (quote: [UInt8], eventLog: [UInt8]) {
        let decoded = try JSONDecoder().decode(GetQuote.self, from: Data(try bytes("dstack/\(name)")))
        return (try HexText.decode(decoded.quote, field: "quote"), Array(decoded.event_log.utf8))
    }

    static func hex(_ text: String) -> [UInt8] {
        (try? HexText.decode(text, field: "test")) ?? []
    }
}
