import Crypto
import Foundation
import TDX
import Testing

@testable import SigningProxyVerifier

@Suite("Attestation reports: a self-consistent simulator report fails exactly the DCAP quote signature")
struct AttestationVerificationTests {
    static let options = VerificationOptions(
        expectedModel: "tiny", kmsRootPublicKey: Vectors.simulatorKMSRoot, expectedAppID: Vectors.simulatorAppID,
        now: Fixtures.now)
    let verifier = ResponseVerifier(options: Self.options)

    func response() throws -> [UInt8] { try Fixtures.bytes("vllm/chat-stream.body") }

    func ecdsaRecord() throws -> [UInt8] {
        try Vectors.signatureRecord(
            text: Vectors.textA, signature: Vectors.simulatorSignatureA, address: Vectors.simulatorAddress, algo: "ecdsa")
    }

    static let mustPass = [
        "signature.record", "signature.text", "signature.request-hash", "signature.response-hash", "signature.ecdsa",
        "report.entry", "report.nonce", "report.key-consistency", "quote.parse", "quote.header",
        "dcap.qe-report-data", "dcap.qe-report-signature", "dcap.pck-chain", "quote.report-data", "quote.debug",
        "measurements.rtmr-replay", "measurements.runtime-events", "compose.hash", "compose.mr-config-id",
        "compose.app-id", "key-provenance.app-key", "key-provenance.kms",
    ]

    @Test("ecdsa exchange: every binding and measurement check passes, DCAP quote signature fails")
    func simulatorExchange() throws {
        let report = verifier.verify(
            request: Fixtures.request, response: try response(), signature: try ecdsaRecord(),
            attestation: try SimulatedReport.make().json(), nonce: Fixtures.nonce)
        for id in Self.mustPass {
            #expect(report.check(id)?.status == .pass, "\(id): \(report.check(id)?.detail ?? "missing")")
        }
        #expect(report.failures.map(\.id) == ["dcap.quote-signature"])
        #expect(!report.ok)
        for id in ["dcap.tcb-status", "dcap.revocation", "gpu.nras", "measurements.image", "compose.file", "quote.tls-binding"] {
            #expect(report.check(id)?.status == .skip, "\(id)")
        }
        #expect(report.check("gpu.nonce")?.status == .skip)
        #expect(Set(report.checks.map(\.id)).count == report.checks.count, "check ids are unique")
    }

    @Test("ed25519 exchange with the simulator's ed25519 key")
    func simulatorEd25519() throws {
        let record = try Vectors.signatureRecord(
            text: Vectors.textA, signature: Vectors.simulatorEd25519SignatureA, address: Vectors.simulatorEd25519Public,
            algo: "ed25519")
        let report = verifier.verify(
            request: Fixtures.request, response: try response(), signature: record,
            attestation: try SimulatedReport.makeEd25519().json(), nonce: Fixtures.nonce)
        for id in Self.mustPass where id != "signature.ecdsa" {
            #expect(report.check(id)?.status == .pass, "\(id): \(report.check(id)?.detail ?? "missing")")
        }
        #expect(report.check("signature.ed25519")?.status == .pass)
        #expect(report.failures.map(\.id) == ["dcap.quote-signature"])
    }

    @Test("the simulator as dstack ships it (served app-compose ≠ recorded compose hash) fails compose.hash")
    func dstackSimulatorCompose() throws {
        var simulated = try SimulatedReport.make()
        let blob = try DstackAttestationBlob(bytes: Fixtures.bytes("dstack/attestation.bin"))
        simulated.events = blob.events
        simulated.quote = try simulated.quote.replacing(.mrConfigID, with: blob.quote.mrConfigID)
            .replacing(.rtmr(3), with: blob.quote.rtmrs[3])
        let report = verifier.verifyAttestation(try simulated.json(), nonce: Fixtures.nonce)
        #expect(report.check("compose.hash")?.status == .fail)
        #expect(report.check("compose.hash")?.detail.contains("not the one that was measured") == true)
        #expect(report.check("compose.mr-config-id")?.status == .pass)
        #expect(report.check("measurements.rtmr-replay")?.status == .pass)
    }

    @Test("report_data: wrong nonce, wrong signer, TLS-bound layout (reference vector)")
    func reportData() throws {
        // The report answers another nonce than ours.
        let other = (0..<32).map { UInt8(255 - $0) }
        let stale = verifier.verifyAttestation(try SimulatedReport.make(nonce: other).json(), nonce: Fixtures.nonce)
        #expect(stale.check("report.nonce")?.status == .fail)
        #expect(stale.check("quote.report-data")?.status == .fail)

        // request_nonce edited to ours, quote still bound to the other one.
        var edited = try SimulatedReport.make(nonce: other)
        edited.requestNonce = Fixtures.nonce
        let editedReport = verifier.verifyAttestation(try edited.json(), nonce: Fixtures.nonce)
        #expect(editedReport.check("report.nonce")?.status == .pass)
        #expect(editedReport.check("quote.report-data")?.detail.contains("is not the nonce") == true)

        // TLS-bound layout: first half matches the documented vector.
        var tls = try SimulatedReport.make()
        try tls.bindTLS(Vectors.tlsFingerprint)
        #expect(Fixtures.hex(tls.quote.reportData[0..<32]) == Vectors.tlsBoundHead)
        let tlsReport = verifier.verifyAttestation(try tls.json(), nonce: Fixtures.nonce, signingAddress: Vectors.simulatorAddress)
        #expect(tlsReport.check("quote.report-data")?.status == .pass)
        #expect(tlsReport.check("quote.report-data")?.detail.contains("TLS-bound") == true)
        #expect(tlsReport.check("quote.tls-binding")?.status == .skip)

        var observed = Self.options
        observed.observedTLSFingerprint = Fixtures.hex(Vectors.tlsFingerprint)
        let live = ResponseVerifier(options: observed).verifyAttestation(try tls.json(), nonce: Fixtures.nonce)
        #expect(live.check("quote.tls-binding")?.status == .pass)
        observed.observedTLSFingerprint = [UInt8](repeating: 7, count: 32)
        let wrongCert = ResponseVerifier(options: observed).verifyAttestation(try tls.json(), nonce: Fixtures.nonce)
        #expect(wrongCert.check("quote.tls-binding")?.status == .fail)

        // A TLS fingerprint claimed in JSON but not bound in the quote.
        var unbound = try SimulatedReport.make()
        unbound.tlsFingerprint = Vectors.tlsFingerprint
        #expect(verifier.verifyAttestation(try unbound.json(), nonce: Fixtures.nonce).check("quote.report-data")?.status == .fail)

        // Required binding, plain report.
        var required = Self.options
        required.requireTLSBinding = true
        let plain = ResponseVerifier(options: required).verifyAttestation(try SimulatedReport.make().json(), nonce: Fixtures.nonce)
        #expect(plain.check("quote.tls-binding")?.status == .fail)
    }

    @Test("all_attestations: the entry of the signer is selected; an unknown signer fails")
    func entrySelection() throws {
        var object = try SimulatedReport.make().object()
        let ed = try SimulatedReport.makeEd25519().object()
        var edEntry = ed
        edEntry["all_attestations"] = nil
        var entries = object["all_attestations"] as? [[String: Any]] ?? []
        entries.insert(edEntry, at: 0)
        object["all_attestations"] = entries
        let merged = try Fixtures.jsonBytes(object)
        let report = verifier.verify(
            request: Fixtures.request, response: try response(), signature: try ecdsaRecord(), attestation: merged,
            nonce: Fixtures.nonce)
        #expect(report.failures.map(\.id) == ["dcap.quote-signature"])
        #expect(report.check("report.entry")?.detail.contains("2 entries") == true)

        let stranger = try Vectors.signatureRecord(
            text: Vectors.textA, signature: Vectors.hardhatSignatureA, address: Vectors.hardhatAddress, algo: "ecdsa")
        let unknown = verifier.verify(
            request: Fixtures.request, response: try response(), signature: stranger, attestation: merged, nonce: Fixtures.nonce)
        #expect(unknown.check("report.entry")?.status == .fail)
        #expect(unknown.check("signature.ecdsa")?.status == .pass)
    }

    @Test("key consistency and provenance: wrong public key, wrong KMS pin, wrong app id, missing chain")
    func provenance() throws {
        var wrongKey = try SimulatedReport.make()
        wrongKey.signingPublicKey = String(Vectors.simulatorPublicXY.dropLast(2)) + "00"
        let keyReport = verifier.verifyAttestation(try wrongKey.json(), nonce: Fixtures.nonce)
        #expect(keyReport.check("report.key-consistency")?.status == .fail)

        var pin = Self.options
        pin.kmsRootPublicKey = "02" + String(repeating: "11", count: 32)
        let pinReport = ResponseVerifier(options: pin).verifyAttestation(try SimulatedReport.make().json(), nonce: Fixtures.nonce)
        #expect(pinReport.check("key-provenance.kms")?.status == .fail)
        pin.kmsRootPublicKey = Vectors.simulatorKMSRoot
        pin.expectedAppID = String(repeating: "ab", count: 20)
        let appReport = ResponseVerifier(options: pin).verifyAttestation(try SimulatedReport.make().json(), nonce: Fixtures.nonce)
        #expect(appReport.check("compose.app-id")?.status == .fail)
        #expect(appReport.check("key-provenance.kms")?.status == .fail)

        var noPin = Self.options
        noPin.kmsRootPublicKey = nil
        let unpinned = ResponseVerifier(options: noPin).verifyAttestation(try SimulatedReport.make().json(), nonce: Fixtures.nonce)
        #expect(unpinned.check("key-provenance.kms")?.status == .skip)
        #expect(unpinned.check("key-provenance.kms")?.detail.contains(Vectors.simulatorKMSRoot) == true)

        var missing = try SimulatedReport.make()
        missing.provenance = nil
        #expect(verifier.verifyAttestation(try missing.json(), nonce: Fixtures.nonce).check("key-provenance.kms")?.status == .fail)
        #expect(ResponseVerifier(options: noPin).verifyAttestation(try missing.json(), nonce: Fixtures.nonce).check("key-provenance.kms")?.status == .skip)

        var swapped = try SimulatedReport.make()
        swapped.provenance?["purpose"] = "other"
        let swappedReport = verifier.verifyAttestation(try swapped.json(), nonce: Fixtures.nonce)
        #expect(swappedReport.check("key-provenance.kms")?.status == .fail)
    }

    @Test("compose file option: equal passes, different fails; info.app_id must match the event")
    func composeFile() throws {
        let compose = try Fixtures.bytes("dstack/app-compose.json")
        var options = Self.options
        options.composeFile = compose
        let same = ResponseVerifier(options: options).verifyAttestation(try SimulatedReport.make().json(), nonce: Fixtures.nonce)
        #expect(same.check("compose.file")?.status == .pass)
        options.composeFile = Array(compose.dropLast())
        let different = ResponseVerifier(options: options).verifyAttestation(try SimulatedReport.make().json(), nonce: Fixtures.nonce)
        #expect(different.check("compose.file")?.status == .fail)

        var appID = try SimulatedReport.make()
        appID.infoAppID = String(repeating: "00", count: 20)
        #expect(verifier.verifyAttestation(try appID.json(), nonce: Fixtures.nonce).check("compose.app-id")?.status == .fail)
    }

    @Test("a corrupted or reordered event log fails the replay and everything resting on RTMR3")
    func eventLogTampering() throws {
        var corrupted = try SimulatedReport.make()
        let index = try #require(corrupted.events.firstIndex { $0.event == "app-id" })
        corrupted.events[index].eventPayload[0] ^= 1
        corrupted.events[index].digest = []
        let report = verifier.verifyAttestation(try corrupted.json(), nonce: Fixtures.nonce)
        #expect(report.check("measurements.rtmr-replay")?.status == .fail)
        #expect(report.check("compose.hash")?.status == .fail)
        #expect(report.check("compose.app-id")?.status == .fail)

        var reordered = try SimulatedReport.make()
        reordered.events.swapAt(index, index + 1)
        #expect(verifier.verifyAttestation(try reordered.json(), nonce: Fixtures.nonce).check("measurements.rtmr-replay")?.status == .fail)
    }

    @Test("expected image measurements are compared when given")
    func imageMeasurements() throws {
        let simulated = try SimulatedReport.make()
        var options = Self.options
        options.expectedMeasurements = ExpectedMeasurements(
            mrTD: Fixtures.hex(simulated.quote.mrTD), rtmr0: Fixtures.hex(simulated.quote.rtmrs[0]))
        #expect(ResponseVerifier(options: options).verifyAttestation(try simulated.json(), nonce: Fixtures.nonce).check("measurements.image")?.status == .pass)
        options.expectedMeasurements?.rtmr1 = String(repeating: "00", count: 48)
        let wrong = ResponseVerifier(options: options).verifyAttestation(try simulated.json(), nonce: Fixtures.nonce)
        #expect(wrong.check("measurements.image")?.status == .fail)
        #expect(wrong.check("measurements.image")?.detail.contains("RTMR1") == true)
    }

    @Test("malformed reports fail with a reason, never crash")
    func malformedReports() throws {
        let good = try SimulatedReport.make().object()
        var noQuote = good
        noQuote["intel_quote"] = nil
        noQuote["quote"] = nil
        noQuote["all_attestations"] = nil
        var badQuote = good
        badQuote["intel_quote"] = "zz"
        badQuote["all_attestations"] = nil
        var shortQuote = good
        shortQuote["intel_quote"] = String((good["intel_quote"] as? String ?? "").prefix(1400))
        shortQuote["all_attestations"] = nil
        var badLog = good
        badLog["event_log"] = "[{\"imr\": \"x\"}]"
        badLog["all_attestations"] = nil
        var badPayload = good
        badPayload["nvidia_payload"] = "{not json"
        badPayload["all_attestations"] = nil
        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "report.json"),
            ("array", Array("[1,2]".utf8), "report.json"),
            ("no quote", try Fixtures.jsonBytes(noQuote), "quote.parse"),
            ("bad quote hex", try Fixtures.jsonBytes(badQuote), "quote.parse"),
            ("short quote", try Fixtures.jsonBytes(shortQuote), "quote.parse"),
            ("bad event log", try Fixtures.jsonBytes(badLog), "measurements.rtmr-replay"),
            ("bad nvidia payload", try Fixtures.jsonBytes(badPayload), "gpu.nonce"),
        ]
        for (name, input, failing) in cases {
            let report = verifier.verifyAttestation(input, nonce: Fixtures.nonce)
            #expect(report.check(failing)?.status == .fail, "\(name): \(report.checks.map { "\($0.id)=\($0.status)" })")
            #expect(report.check(failing)?.detail.isEmpty == false)
            #expect(!report.ok)
        }
        let shortNonce = verifier.verifyAttestation(try SimulatedReport.make().json(), nonce: [1, 2, 3])
        #expect(shortNonce.check("report.nonce")?.detail.contains("32 bytes") == true)
    }

    @Test("the report serialises as {ok, checks:[{id,status,detail,mandatory}]}")
    func jsonShape() throws {
        let report = verifier.verifyAttestation(try SimulatedReport.make().json(), nonce: Fixtures.nonce)
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any]
        #expect(object?["ok"] as? Bool == false)
        let checks = object?["checks"] as? [[String: Any]] ?? []
        #expect(checks.count == report.checks.count)
        #expect(checks.first?["status"] as? String == "pass")
        let decoded = try JSONDecoder().decode(VerificationReport.self, from: JSONEncoder().encode(report))
        #expect(decoded == report)
    }
}
