import Foundation
import Testing

@testable import E2EE

/// Clients, exchanges and JSON helpers for the body-layer tests (E2EEExchange and E2EEStreamSealer).
struct ExchangeFixture {
    let keys: TestKeys

    init() throws { self.keys = try TestKeys() }

    var world: PythonVectors.World { self.keys.world }

    /// A DV or NEAR client of the vectors' world.
    func client(_ dialect: E2EEClient.Dialect, _ algo: SigningAlgo) throws -> E2EEClient {
        let v2 = dialect == .dv(version: 2)
        return try E2EEClient(
            dialect: dialect, algo: algo,
            serverPublicKeyHex: algo == .ecdsa ? String(self.world.server_ecdsa_public.dropFirst(2)) : self.world.server_ed25519_public,
            clientSecp256k1: self.keys.clientECDSA, clientEd25519Seed: self.keys.clientEd25519Seed,
            nonce: v2 ? self.world.dv_nonce : nil, timestamp: v2 ? self.world.timestamp : nil)
    }

    func aciClient(_ suite: ACIKey.Suite) throws -> E2EEClient {
        try E2EEClient(
            aci: suite, serverPublicKeyHex: suite == .x25519 ? self.world.aci_x25519_public : self.world.server_ecdsa_public,
            clientSecret: suite == .x25519 ? self.keys.aciClientX25519 : .secp256k1(self.keys.clientECDSA),
            nonce: self.world.aci_nonce, timestamp: self.world.timestamp)
    }

    /// The headers of `client` with some dropped (by lowercase name) or added.
    func headers(_ client: E2EEClient, dropping: Set<String> = [], adding: [(String, String)] = []) -> E2EEHeaders {
        E2EEHeaders(client.headers.filter { !dropping.contains($0.0.lowercased()) } + adding)
    }

    func exchange(_ headers: E2EEHeaders, _ endpoint: E2EEEndpoint) throws -> E2EEExchange {
        try #require(try E2EEExchange(headers: headers, endpoint: endpoint, keys: self.keys.server, keyset: self.keys.keyset, now: self.keys.now))
    }

    // MARK: JSON

    static func bytes(_ object: Any) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    static func object(_ bytes: [UInt8]) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }

    /// Semantic equality of two JSON texts (Foundation's parser; numbers compare by value).
    static func expectSameJSON(_ actual: [UInt8], _ expected: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let lhs = try Self.object(actual) as? NSObject
        let rhs = try Self.object(expected) as? NSObject
        let same = lhs == rhs
        let message = Comment(rawValue: "\(String(decoding: actual, as: UTF8.self)) != \(String(decoding: expected, as: UTF8.self))")
        #expect(same, message, sourceLocation: sourceLocation)
    }

    /// The value at `path` (member names and array positions).
    static func value(_ object: Any, _ path: [Any]) -> Any? {
        var current: Any? = object
        for step in path {
            switch step {
            case let name as String: current = (current as? [String: Any])?[name]
            case let index as Int:
                guard let array = current as? [Any], array.indices.contains(index) else { return nil }
                current = array[index]
            default: return nil
            }
        }
        return current
    }

    /// `object` with the value at `path` replaced (nil removes the member).
    static func replacing(_ object: Any, _ path: [Any], with value: Any?) -> Any {
        guard let step = path.first else { return value as Any }
        let rest = Array(path.dropFirst())
        if let name = step as? String, var dictionary = object as? [String: Any] {
            if rest.isEmpty, value == nil {
                dictionary.removeValue(forKey: name)
            } else {
                dictionary[name] = Self.replacing(dictionary[name] as Any, rest, with: value)
            }
            return dictionary
        }
        if let index = step as? Int, var array = object as? [Any] {
            array[index] = Self.replacing(array[index], rest, with: value)
            return array
        }
        return object
    }

    /// Checks a sealed answer: each of `sealed` (path, AAD, plaintext) holds a hex field that `client` opens to the
    /// plaintext under that AAD; with those fields put back and `dropped` removed from `plain`, the rest equals it.
    static func expectSealed(
        _ output: [UInt8], plain: [UInt8], client: E2EEClient, sealed: [(path: [Any], aad: [UInt8], plaintext: String)],
        dropped: [[Any]] = [], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        var actual = try Self.object(output)
        for field in sealed {
            let hex = try #require(Self.value(actual, field.path) as? String, "\(field.path) not a string", sourceLocation: sourceLocation)
            #expect(hex.utf8.allSatisfy { $0.isASCIIHexDigit } && !hex.isEmpty, "\(field.path)", sourceLocation: sourceLocation)
            #expect(try client.openResponseField(hex, aad: field.aad) == field.plaintext, "\(field.path)", sourceLocation: sourceLocation)
            actual = Self.replacing(actual, field.path, with: Self.value(try Self.object(plain), field.path))
        }
        var expected = try Self.object(plain)
        for path in dropped { expected = Self.replacing(expected, path, with: nil) }
        let same = (actual as? NSObject) == (expected as? NSObject)
        let message = Comment(rawValue: "\(String(describing: actual)) != \(String(describing: expected))")
        #expect(same, message, sourceLocation: sourceLocation)
    }
}
