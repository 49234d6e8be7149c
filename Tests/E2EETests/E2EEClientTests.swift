import Testing

@testable import E2EE

/// The client side against the server contexts, per dialect: its headers select the dialect, its fields open,
/// and it opens the answers.
@Suite struct E2EEClientTests {
    let keys: TestKeys

    init() throws { self.keys = try TestKeys() }

    func client(_ dialect: E2EEClient.Dialect, _ algo: SigningAlgo) throws -> E2EEClient {
        let world = self.keys.world
        let v2 = dialect == .dv(version: 2)
        return try E2EEClient(
            dialect: dialect, algo: algo,
            serverPublicKeyHex: algo == .ecdsa ? String(world.server_ecdsa_public.dropFirst(2)) : world.server_ed25519_public,
            clientSecp256k1: self.keys.clientECDSA, clientEd25519Seed: self.keys.clientEd25519Seed,
            nonce: v2 ? world.dv_nonce : nil, timestamp: v2 ? world.timestamp : nil)
    }

    @Test(arguments: [E2EEClient.Dialect.dv(version: 1), .dv(version: 2), .near(version: 1), .near(version: 2)],
          [SigningAlgo.ecdsa, .ed25519])
    func dvAndNear(dialect: E2EEClient.Dialect, algo: SigningAlgo) throws {
        let client = try self.client(dialect, algo)
        let context = try #require(try self.keys.context(E2EEHeaders(client.headers)))
        let model = "m"
        switch context {
        case .dv(let dv):
            let field = try client.sealRequestField("q", aad: dv.requestAAD(model: model, messageIndex: 0, contentIndex: nil))
            #expect(try dv.decryptRequestField(field, model: model, messageIndex: 0, contentIndex: nil) == "q")
            let answer = try dv.encryptResponseField("a", model: "served", id: "c1", choice: 0, field: "content")
            #expect(try client.openResponseField(answer, aad: dv.responseAAD(model: "served", id: "c1", choice: 0, field: "content")) == "a")
        case .near(let near):
            #expect(try near.decryptField(client.sealRequestField("q")) == "q")
            #expect(try client.openResponseField(near.encryptField("a")) == "a")
        default:
            Issue.record("\(dialect) selected \(context)")
        }
    }

    @Test(arguments: [ACIKey.Suite.x25519, .secp256k1])
    func aci(suite: ACIKey.Suite) throws {
        let world = self.keys.world
        let client = try E2EEClient(
            aci: suite, serverPublicKeyHex: suite == .x25519 ? world.aci_x25519_public : world.server_ecdsa_public,
            clientSecret: suite == .x25519 ? self.keys.aciClientX25519 : .secp256k1(self.keys.clientECDSA),
            nonce: world.aci_nonce, timestamp: world.timestamp)
        guard case .aci(let aci) = try self.keys.context(E2EEHeaders(client.headers)) else {
            Issue.record("not ACI"); return
        }
        let field = try client.sealRequestField("q", aad: aci.requestAAD(model: "m", field: "prompt"))
        #expect(try aci.decryptRequestField(field, model: "m", field: "prompt") == "q")
        let answer = try aci.encryptResponseField("a", model: "m", id: "r", field: "choices.0.text")
        #expect(try client.openResponseField(answer, aad: aci.responseAAD(model: "m", id: "r", field: "choices.0.text")) == "a")
        #expect(throws: CipherFailure.authentication) {
            try client.openResponseField(answer, aad: aci.responseAAD(model: "m", id: "r", field: "choices.1.text"))
        }
    }
}
