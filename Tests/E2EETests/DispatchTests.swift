import Testing

@testable import E2EE

/// docs/E2EE.md's dispatch table, one row at a time.
@Suite struct DispatchTests {
    @Test func rows() throws {
        let algo = "ecdsa"
        #expect(try E2EEDialect.detect(E2EEHeaders(e2eeVersion: "2")) == .aciV2)
        #expect(try E2EEDialect.detect(E2EEHeaders(clientPublicKey: "00")) == .aciV2)
        #expect(try E2EEDialect.detect(E2EEHeaders(signingAlgo: algo, e2eeVersion: "2")) == .dvV2)
        #expect(try E2EEDialect.detect(E2EEHeaders(signingAlgo: algo, nonce: "n", timestamp: "1")) == .dvV2)
        #expect(try E2EEDialect.detect(E2EEHeaders(signingAlgo: algo, e2eeVersion: "1", nonce: "n", timestamp: "1")) == .dvV2)
        #expect(throws: E2EEError.headerMissing(.dv)) { try E2EEDialect.detect(E2EEHeaders(signingAlgo: algo, nonce: "n")) }
        #expect(throws: E2EEError.headerMissing(.dv)) { try E2EEDialect.detect(E2EEHeaders(signingAlgo: algo, timestamp: "1")) }
        #expect(try E2EEDialect.detect(E2EEHeaders(signingAlgo: algo, encryptionVersion: "2")) == .nearV2)
        #expect(try E2EEDialect.detect(E2EEHeaders(signingAlgo: algo, encryptionVersion: "1")) == .nearV1)
        #expect(try E2EEDialect.detect(E2EEHeaders(signingAlgo: algo, encryptAllFields: "true")) == .nearV1)
        #expect(try E2EEDialect.detect(E2EEHeaders(signingAlgo: algo, e2eeVersion: "1")) == .dvV1)
        #expect(try E2EEDialect.detect(E2EEHeaders(signingAlgo: algo)) == .legacyV1)
        #expect(try E2EEDialect.detect(E2EEHeaders()) == nil)
        #expect(try E2EEDialect.detect(E2EEHeaders([("X-SIGNING-ALGO", "ed25519"), ("x-encryption-version", "2")])) == .nearV2)
    }
}
