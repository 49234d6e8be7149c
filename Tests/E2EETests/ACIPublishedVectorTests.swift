import Foundation
import TestFixtures
import Testing

@testable import E2EE

/// ACI's published E2EE v2 vectors (`Fixtures/aci-e2ee-v2/`): the service key and the two AAD byte strings.
@Suite struct ACIPublishedVectorTests {
    let page: String

    init() throws {
        self.page = String(decoding: try Fixtures.bytes("aci-e2ee-v2/e2ee-v2-test-vectors.md"), as: UTF8.self)
    }

    /// A `| Input | `value` |` row of the "Fixed inputs" table.
    func input(_ name: String) throws -> String {
        let row = try #require(self.page.split(separator: "\n").first { $0.hasPrefix("| \(name) |") })
        let cell = try #require(row.split(separator: "|").dropFirst().first)
        return cell.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`"))
    }

    /// The fenced `text` blocks, in order (request AAD, then response AAD).
    var textBlocks: [String] {
        self.page.components(separatedBy: "```text\n").dropFirst().compactMap { $0.components(separatedBy: "\n```").first }
    }

    @Test func serviceKeyAndAADMatch() throws {
        let publicKey = try self.input("Service X25519 public key")
        let model = try self.input("Model")
        let nonce = try self.input("Request nonce")
        let timestamp = try #require(Int64(try self.input("Request timestamp")))
        let responseID = try self.input("Response id")
        #expect(try self.input("Suite") == ACIKey.Suite.x25519.rawValue)

        let key = try ACIKey(keyID: "e2ee-1", x25519Secret: [UInt8](repeating: 0x03, count: 32))
        #expect(key.publicKeyHex == publicKey)

        let headers = E2EEHeaders(
            clientPublicKey: publicKey, modelPublicKey: publicKey, e2eeVersion: "2", nonce: nonce,
            timestamp: String(timestamp))
        let context = try ACIContext(headers: headers, keyset: [key], now: timestamp)
        let blocks = self.textBlocks
        try #require(blocks.count == 2)
        #expect(String(decoding: context.requestAAD(model: model, field: "messages.0.content"), as: UTF8.self) == blocks[0])
        #expect(
            String(decoding: context.responseAAD(model: model, id: responseID, field: "choices.0.message.content"), as: UTF8.self)
                == blocks[1])
    }

    /// A field sealed under the published request AAD opens only under it.
    @Test func fieldBoundToThePublishedAAD() throws {
        let key = try ACIKey(keyID: "e2ee-1", x25519Secret: [UInt8](repeating: 0x03, count: 32))
        let aad = Array(self.textBlocks[0].utf8)
        let sealed = try HybridSuite.aciX25519.seal(Array("hi".utf8), to: .x25519(raw: [UInt8](hex: key.publicKeyHex)), aad: aad)
        #expect(try HybridSuite.aciX25519.open(sealed, recipient: key.secret, aad: aad) == Array("hi".utf8))
        #expect(throws: CipherFailure.authentication) {
            try HybridSuite.aciX25519.open(sealed, recipient: key.secret, aad: Array(self.textBlocks[1].utf8))
        }
    }
}
