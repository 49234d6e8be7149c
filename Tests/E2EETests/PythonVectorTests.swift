import SigningCrypto
import Testing

@testable import E2EE

/// Every dialect against the independent Python reference: Swift opens what Python sealed (through the
/// dialect's own header parsing and AAD), builds the same AAD bytes, and seals the same bytes from the same
/// ephemeral key and nonce (so Python opens what Swift seals).
@Suite struct PythonVectorTests {
    let file: PythonVectors

    init() throws {
        self.file = try PythonVectors.load()
    }

    static func suite(_ name: String) -> HybridSuite? {
        switch name {
        case "legacy-ecdsa": .legacyECDSA
        case "dv-ed25519": .dvEd25519
        case "near-ed25519-v2": .nearEd25519V2
        case "aci-x25519": .aciX25519
        case "aci-secp256k1": .aciSecp256k1
        default: nil
        }
    }

    @Test func coversEveryDialectAndDirection() {
        let dialects = Set(self.file.vectors.map { "\($0.dialect) \($0.direction)" })
        for dialect in ["dv-v1", "dv-v2", "near-v1", "near-v2", "aci-v2"] {
            #expect(dialects.contains("\(dialect) request"))
            #expect(dialects.contains("\(dialect) response"))
        }
    }

    @Test func sealsTheSameBytesAsPython() throws {
        for vector in self.file.vectors {
            let recipient = [UInt8](hex: vector.recipient)
            let sealed: [UInt8]
            if let suite = Self.suite(vector.suite) {
                let ephemeral: E2EESecretKey =
                    suite.curve == .secp256k1
                    ? .secp256k1(try Secp256k1PrivateKey(rawRepresentation: [UInt8](hex: vector.ephemeral_secret)))
                    : try .x25519(raw: [UInt8](hex: vector.ephemeral_secret))
                let to: E2EEPublicKey =
                    suite.curve == .secp256k1 ? try .secp256k1(raw: recipient) : try .x25519(raw: recipient)
                sealed = try suite.seal(
                    Array(vector.plaintext.utf8), to: to, aad: Array(vector.aad.utf8), ephemeral: ephemeral,
                    nonce: [UInt8](hex: vector.nonce)
                )
            } else {
                #expect(vector.suite == "near-ed25519-v1-box")
                sealed = try NaClBox.seal(
                    Array(vector.plaintext.utf8), to: recipient, variant: .xSalsa20Poly1305,
                    ephemeralSecret: [UInt8](hex: vector.ephemeral_secret), nonce: [UInt8](hex: vector.nonce)
                )
            }
            #expect(sealed.hex == vector.field, "\(vector.name)")
        }
    }

    @Test func clientOpensPythonSealedAnswers() throws {
        let world = self.file.world
        for vector in self.file.vectors where vector.direction == "response" {
            let blob = [UInt8](hex: vector.field)
            let opened: [UInt8]
            switch vector.suite {
            case "near-ed25519-v1-box":
                opened = try NaClBox.open(blob, secret: [UInt8](hex: world.client_x25519_secret))
            case "aci-x25519":
                opened = try HybridSuite.aciX25519.open(
                    blob, recipient: .x25519(raw: [UInt8](hex: world.aci_client_x25519_secret)),
                    aad: Array(vector.aad.utf8))
            default:
                let suite = try #require(Self.suite(vector.suite))
                let secret: E2EESecretKey =
                    suite.curve == .secp256k1
                    ? .secp256k1(try Secp256k1PrivateKey(rawRepresentation: [UInt8](hex: world.client_ecdsa_secret)))
                    : try .x25519(raw: [UInt8](hex: world.client_x25519_secret))
                opened = try suite.open(blob, recipient: secret, aad: Array(vector.aad.utf8))
            }
            #expect(String(decoding: opened, as: UTF8.self) == vector.plaintext, "\(vector.name)")
        }
    }

    @Test func serverKeysMatchPythonConversions() throws {
        let keys = try self.file.serverKeys()
        let world = self.file.world
        #expect(keys.ed25519PublicKey?.hex == world.server_ed25519_public)
        #expect(keys.x25519Secret?.hex == world.server_x25519_secret)
        #expect(keys.x25519?.publicKey.fieldEncoding.hex == world.server_x25519_public)
        #expect(keys.ecdsa?.publicKey.uncompressed.hex == world.server_ecdsa_public)
        let client = try Ed25519Montgomery.x25519PublicKey(ed25519: [UInt8](hex: world.client_ed25519_public))
        #expect(client.hex == world.client_x25519_public)
    }

    /// The headers a client of `vector`'s dialect sends.
    func headers(for vector: PythonVectors.Vector) -> E2EEHeaders {
        let world = self.file.world
        let ecdsa = vector.where.algo == "ecdsa" || vector.suite == "aci-secp256k1"
        switch vector.dialect {
        case "dv-v1", "dv-v2":
            return E2EEHeaders(
                signingAlgo: vector.where.algo,
                clientPublicKey: ecdsa ? world.client_ecdsa_public : world.client_ed25519_public,
                // DV clients send the report's 64-byte key (no 04).
                modelPublicKey: ecdsa ? String(world.server_ecdsa_public.dropFirst(2)) : world.server_ed25519_public,
                e2eeVersion: vector.dialect == "dv-v1" ? "1" : nil,
                nonce: vector.dialect == "dv-v2" ? world.dv_nonce : nil,
                timestamp: vector.dialect == "dv-v2" ? String(world.timestamp) : nil
            )
        case "near-v1", "near-v2":
            return E2EEHeaders(
                signingAlgo: vector.where.algo,
                clientPublicKey: ecdsa ? world.client_ecdsa_public : world.client_ed25519_public,
                encryptionVersion: vector.dialect == "near-v2" ? "2" : nil
            )
        default:
            return E2EEHeaders(
                clientPublicKey: ecdsa ? world.client_ecdsa_public : world.aci_client_x25519_public,
                modelPublicKey: ecdsa ? world.server_ecdsa_public : "0x" + world.aci_x25519_public.uppercased(),
                e2eeVersion: "2", nonce: world.aci_nonce, timestamp: String(world.timestamp)
            )
        }
    }

    @Test func dialectsOpenPythonRequestsAndBuildItsAAD() throws {
        let keys = try self.file.serverKeys()
        let keyset = try self.file.aciKeyset()
        let model = self.file.world.model
        for vector in self.file.vectors {
            let context = try #require(
                try E2EERequestContext.parse(self.headers(for: vector), keys: keys, keyset: keyset, now: self.file.world.timestamp)
            )
            let place = vector.where
            switch context {
            case .dv(let dv):
                #expect(dv.version == (vector.dialect == "dv-v2" ? 2 : 1), "\(vector.name)")
                if vector.direction == "request" {
                    let aad = dv.requestAAD(model: model, messageIndex: place.m ?? 0, contentIndex: place.c)
                    #expect(String(decoding: aad, as: UTF8.self) == vector.aad, "\(vector.name)")
                    let text = try dv.decryptRequestField(
                        vector.field, model: model, messageIndex: place.m ?? 0, contentIndex: place.c)
                    #expect(text == vector.plaintext, "\(vector.name)")
                } else {
                    let aad = dv.responseAAD(
                        model: place.model ?? "", id: place.id ?? "", choice: place.choice ?? 0, field: place.field ?? "")
                    #expect(String(decoding: aad, as: UTF8.self) == vector.aad, "\(vector.name)")
                }
            case .near(let near):
                #expect(near.version == (vector.dialect == "near-v2" ? 2 : 1), "\(vector.name)")
                if vector.direction == "request" {
                    #expect(try near.decryptField(vector.field) == vector.plaintext, "\(vector.name)")
                }
            case .aci(let aci):
                if vector.direction == "request" {
                    let aad = aci.requestAAD(model: model, field: place.field ?? "")
                    #expect(String(decoding: aad, as: UTF8.self) == vector.aad, "\(vector.name)")
                    let text = try aci.decryptRequestField(vector.field, model: model, field: place.field ?? "")
                    #expect(text == vector.plaintext, "\(vector.name)")
                } else {
                    let aad = aci.responseAAD(model: model, id: place.id ?? "", field: place.field ?? "")
                    #expect(String(decoding: aad, as: UTF8.self) == vector.aad, "\(vector.name)")
                }
            case .legacyV1:
                Issue.record("\(vector.name): every vector names its dialect")
            }
        }
    }

    /// DV v1 and NEAR v1 look alike; a bare `X-Signing-Algo` + both keys resolves by the field.
    @Test func legacyV1ResolvesByTrialDecryption() throws {
        let keys = try self.file.serverKeys()
        let world = self.file.world
        for (name, expected) in [("dv-v1-ed25519-request", LegacyV1Context.Resolution.dv),
                                 ("near-v1-ed25519-request", .near)] {
            let vector = try #require(self.file.vectors.first { $0.name == name })
            let headers = E2EEHeaders(
                signingAlgo: "ed25519", clientPublicKey: world.client_ed25519_public,
                modelPublicKey: world.server_ed25519_public)
            guard case .legacyV1(var context) = try E2EERequestContext.parse(headers, keys: keys, keyset: [], now: 0)
            else { Issue.record("not legacy v1"); continue }
            #expect(try context.decryptField(vector.field) == vector.plaintext)
            #expect(context.resolution == expected)
            // The answer follows the client's dialect.
            let answer = [UInt8](hex: try context.encryptField("answer"))
            let clientSecret = [UInt8](hex: world.client_x25519_secret)
            let opened =
                expected == .near
                ? try NaClBox.open(answer, secret: clientSecret)
                : try HybridSuite.dvEd25519.open(answer, recipient: .x25519(raw: clientSecret))
            #expect(opened == Array("answer".utf8))
        }
    }
}
