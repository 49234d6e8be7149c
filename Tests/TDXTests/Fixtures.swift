import Foundation
import Testing

@testable import TDX

/// Locates `../shared/fixtures` from the package root and decodes the dstack fixtures.
enum Fixtures {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url.deletingLastPathComponent().appendingPathComponent("shared/fixtures")
            }
            url = url.deletingLastPathComponent()
        }
        return url
    }()

    static func data(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent(relative)))
    }

    struct GetQuote: Decodable {
        let quote: String
        let event_log: String
    }

    static func getQuote(_ name: String) throws -> (quote: [UInt8], eventLog: [UInt8]) {
        let decoded = try JSONDecoder().decode(GetQuote.self, from: Data(try data("dstack/\(name)")))
        return (try HexText.decode(decoded.quote, field: "quote"), Array(decoded.event_log.utf8))
    }

    static func hex(_ text: String) -> [UInt8] {
        (try? HexText.decode(text, field: "test")) ?? []
    }
}
