import DstackSimulator
import Foundation
import SigningCrypto
import TDX
import TestFixtures
import Testing

@testable import TEE

/// `serve` labels its reports `tee` or `simulated` from the agent's own quote (docs/API.md, Response fields).
@Suite("AttestationMode from the agent's quote")
struct AttestationModeTests {
    @Test("the in-process dstack simulator is detected as simulated, in both quote formats",
        arguments: DstackSimulatorConfiguration.QuoteMode.allCases)
    func simulatorIsSimulated(mode: DstackSimulatorConfiguration.QuoteMode) async throws {
        let detected = try await DstackTestSupport.withSimulator(configure: { $0.quoteMode = mode }) { client, _ in
            try await AttestationMode.probe(agent: client)
        }
        #expect(detected == .simulated)
        #expect(detected.keysDerivedMessage.contains("simulator"))
        #expect(!detected.keysDerivedMessage.contains("in the TEE"))
    }

    @Test("a quote as the quoting enclave signed it (recorded from hardware) reads as tee, from an agent too")
    func realQuotesAreTEE() async throws {
        let recorded = try AttestationFixtures.getQuote().quote
        #expect(AttestationMode.of(quote: recorded) == .tee)
        let blob = try DstackAttestationBlob(bytes: try Fixtures.bytes("dstack/attestation.bin"))
        #expect(AttestationMode.of(quote: blob.quote.bytes) == .tee)
        // An agent that returns its quote untouched (fail-closed the other way: a real agent stays tee).
        let agent = try AttestationFakeAgent(behaviour: .init(patchReportData: false))
        #expect(try await AttestationMode.probe(agent: agent) == .tee)
        #expect(AttestationMode.tee.keysDerivedMessage == "signing keys derived in the TEE")
    }

    @Test("any byte of the signed part changed, a wrong signature, or no quote at all reads as simulated")
    func tamperedQuotesAreSimulated() throws {
        let recorded = try AttestationFixtures.getQuote().quote
        let parsed = try TDXQuote(bytes: recorded)
        for offset in [0, 100, 568, 631, parsed.signedRange.upperBound - 1] {
            var changed = recorded
            changed[offset] ^= 0x01
            #expect(AttestationMode.of(quote: changed) == .simulated, "byte \(offset)")
        }
        var badSignature = recorded
        badSignature[parsed.authData.quoteSignatureRange.lowerBound] ^= 0x01
        #expect(AttestationMode.of(quote: badSignature) == .simulated)
        #expect(AttestationMode.of(quote: []) == .simulated)
        #expect(AttestationMode.of(quote: Array(recorded.prefix(600))) == .simulated)
    }

    @Test("an agent that gives no quote makes the probe fail (serve then refuses to start)")
    func noQuoteThrows() async throws {
        let agent = try AttestationFakeAgent(behaviour: .init(failingQuotes: 1))
        await #expect(throws: DstackAgentError.self) { try await AttestationMode.probe(agent: agent) }
    }
}
