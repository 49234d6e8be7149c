import Foundation
import TDX
import Testing

@testable import SigningProxyVerifier

@Suite("verify quote: DCAP to the Intel root and RTMR replay on the real quotes")
struct QuoteVerificationTests {
    let verifier = ResponseVerifier(options: VerificationOptions(now: Fixtures.now))

    static let dcap = ["quote.header", "dcap.quote-signature", "dcap.qe-report-data", "dcap.qe-report-signature", "dcap.pck-chain"]

    /// Every check listed passes, collateral checks are skipped (never passed).
    func expectGenuine(_ report: VerificationReport, replay: Bool = true) {
        for id in Self.dcap + ["quote.parse", "quote.debug"] + (replay ? ["measurements.rtmr-replay"] : []) {
            #expect(report.check(id)?.status == .pass, "\(id): \(report.check(id)?.detail ?? "missing")")
        }
        #expect(report.check("dcap.tcb-status")?.status == .skip)
        #expect(report.check("dcap.revocation")?.status == .skip)
        #expect(report.ok, "\(report.failures)")
    }

    @Test("tdx-lite-getquote.json: DCAP, RTMR replay, runtime events, MRCONFIGID V1")
    func tdxLite() throws {
        let report = verifier.verifyQuote(try Fixtures.bytes("dstack/tdx-lite-getquote.json"))
        expectGenuine(report)
        #expect(report.check("measurements.runtime-events")?.status == .pass)
        #expect(report.check("compose.mr-config-id")?.status == .pass)
        #expect(report.check("dcap.tcb-status")?.detail.contains("90c06f000000") == true)
        #expect(report.check("dcap.pck-chain")?.detail.contains("Intel SGX PCK Platform CA") == true)
        #expect(report.check("compose.hash")?.status == .skip)
    }

    @Test("quote-report.json: DCAP, full-log replay, app event after system-ready noted, zero MRCONFIGID skipped")
    func quoteReport() throws {
        let report = verifier.verifyQuote(try Fixtures.bytes("dstack/quote-report.json"))
        expectGenuine(report)
        // The PCK leaf's SGX extension holds FMSPC 90c06f000000 (checked with openssl asn1parse), not
        // b0c06f000000, which is attestation.bin's platform.
        #expect(report.check("dcap.tcb-status")?.detail.contains("90c06f000000") == true)
        let events = try #require(report.check("measurements.runtime-events"))
        #expect(events.status == .pass && events.detail.contains("1 app-emitted"))
        #expect(report.check("compose.mr-config-id")?.status == .skip)
    }

    @Test("attestation.bin quote as recorded, with its event log")
    func attestationBin() throws {
        let blob = try DstackAttestationBlob(bytes: Fixtures.bytes("dstack/attestation.bin"))
        let json = try Fixtures.jsonBytes([
            "quote": Fixtures.hex(blob.quoteBytes),
            "event_log": String(decoding: TDXEventLog(events: blob.events).jsonArray(), as: UTF8.self),
        ])
        let report = verifier.verifyQuote(json)
        expectGenuine(report)
        #expect(report.check("dcap.tcb-status")?.detail.contains("b0c06f000000") == true)
        // Bare hex and binary forms, without an event log.
        let hexReport = verifier.verifyQuote(Array(Fixtures.hex(blob.quoteBytes).utf8))
        expectGenuine(hexReport, replay: false)
        #expect(hexReport.check("measurements.rtmr-replay")?.status == .skip)
        expectGenuine(verifier.verifyQuote(blob.quoteBytes), replay: false)
    }

    /// tdx-lite with its quote bytes modified by `patch`, verified with its event log.
    func tampered(_ patch: (inout [UInt8]) -> Void, events: (([Any]) -> [Any])? = nil) throws -> VerificationReport {
        var object = try Fixtures.json("dstack/tdx-lite-getquote.json")
        var quote = Fixtures.hex(object["quote"] as? String ?? "")
        patch(&quote)
        object["quote"] = Fixtures.hex(quote)
        if let events, let log = object["event_log"] as? String {
            let array = try JSONSerialization.jsonObject(with: Data(log.utf8)) as? [Any] ?? []
            object["event_log"] = String(decoding: try Fixtures.jsonBytes(events(array)), as: UTF8.self)
        }
        return verifier.verifyQuote(try Fixtures.jsonBytes(object))
    }

    @Test("a flipped byte in the TD report (MRTD) fails the quote signature only")
    func flipBody() throws {
        let report = try tampered { $0[200] ^= 1 }
        #expect(!report.ok)
        #expect(report.failures.map(\.id) == ["dcap.quote-signature"])
    }

    @Test("a flipped header byte fails the quote signature")
    func flipHeader() throws {
        let report = try tampered { $0[30] ^= 1 }  // user data
        #expect(report.failures.map(\.id) == ["dcap.quote-signature"])
    }

    @Test("a flipped byte in the quote signature fails the quote signature")
    func flipSignature() throws {
        let report = try tampered { $0[650] ^= 1 }
        #expect(report.failures.map(\.id) == ["dcap.quote-signature"])
    }

    @Test("patched REPORTDATA (the simulator's patch) fails the quote signature")
    func patchReportData() throws {
        let report = try tampered { $0.replaceSubrange(568..<632, with: [UInt8](repeating: 0xab, count: 64)) }
        #expect(report.failures.map(\.id) == ["dcap.quote-signature"])
    }

    @Test("a flipped RTMR3 byte fails the signature and the replay")
    func flipRTMR3() throws {
        let report = try tampered { $0[530] ^= 1 }
        #expect(report.failures.map(\.id).contains("dcap.quote-signature"))
        #expect(report.check("measurements.rtmr-replay")?.status == .fail)
        #expect(report.check("measurements.rtmr-replay")?.detail.contains("RTMR3") == true)
    }

    @Test("a modified QE report fails the QE report signature; a modified attestation key fails the binding")
    func flipQE() throws {
        let qe = try tampered { $0[800] ^= 1 }
        #expect(qe.failures.map(\.id) == ["dcap.qe-report-signature"])
        let key = try tampered { $0[710] ^= 1 }
        #expect(key.check("dcap.qe-report-data")?.status == .fail)
        #expect(key.check("dcap.quote-signature")?.status == .fail)
    }

    @Test("a corrupted event payload fails the replay")
    func corruptEvent() throws {
        let report = try tampered({ _ in }) { events in
            var events = events
            if var event = events[21] as? [String: Any] {
                event["event_payload"] = "00" + String((event["event_payload"] as? String ?? "").dropFirst(2))
                events[21] = event
            }
            return events
        }
        #expect(report.check("measurements.rtmr-replay")?.status == .fail)
        #expect(report.check("measurements.runtime-events")?.status == .fail)
        #expect(report.check("dcap.quote-signature")?.status == .pass)
    }

    @Test("reordered events fail the replay")
    func reorderEvents() throws {
        let report = try tampered({ _ in }) { events in
            var events = events
            events.swapAt(21, 22)
            return events
        }
        #expect(report.check("measurements.rtmr-replay")?.status == .fail)
        #expect(report.check("dcap.quote-signature")?.status == .pass)
        // Boot events too.
        let boot = try tampered({ _ in }) { events in
            var events = events
            events.swapAt(0, 1)
            return events
        }
        #expect(boot.check("measurements.rtmr-replay")?.detail.contains("RTMR0") == true)
    }

    @Test("the debug bit fails quote.debug (and the signature, since it is signed)")
    func debugBit() throws {
        let report = try tampered { $0[168] |= 1 }
        #expect(report.check("quote.debug")?.status == .fail)
        #expect(report.check("dcap.quote-signature")?.status == .fail)
    }

    @Test("a chain checked at a time outside its validity, or against another root, fails")
    func chainValidityAndPin() throws {
        let input = try Fixtures.bytes("dstack/tdx-lite-getquote.json")
        let late = ResponseVerifier(options: VerificationOptions(now: Date(timeIntervalSince1970: 2_200_000_000)))
        let lateReport = late.verifyQuote(input)
        #expect(lateReport.check("dcap.pck-chain")?.status == .fail)
        #expect(lateReport.check("dcap.pck-chain")?.detail.contains("not valid") == true)
        var otherRoot = verifier
        otherRoot.anchors.intel = TrustAnchor(name: "Some Root", derSHA256: [UInt8](repeating: 1, count: 32), publicKeyX963: nil)
        let pinned = otherRoot.verifyQuote(input)
        #expect(pinned.check("dcap.pck-chain")?.status == .fail)
        #expect(pinned.check("dcap.pck-chain")?.detail.contains("not the pinned Some Root") == true)
    }

    @Test("a PCK chain whose root certificate was altered fails the chain check")
    func alteredRoot() throws {
        let quote = try TDXQuote(bytes: Fixtures.hex(try Fixtures.json("dstack/tdx-lite-getquote.json")["quote"] as? String ?? ""))
        let pem = String(decoding: quote.authData.pckChainPEM, as: UTF8.self)
        // Drop the root: the chain then ends at the Platform CA, which is not the pinned root.
        let end = "-----END CERTIFICATE-----"
        let parts = pem.components(separatedBy: end)
        let withoutRoot = Array((parts[0] + end + parts[1] + end + "\n").utf8)
        let range = quote.authData.pckChainRange
        var bytes = Array(quote.bytes[..<range.lowerBound]) + withoutRoot
        let delta = quote.authData.pckChainPEM.count - withoutRoot.count
        // Fix the PEM size, the certification data size and the auth data size.
        func patch32(_ offset: Int, minus: Int) {
            let value = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
            let new = value - UInt32(minus)
            for index in 0..<4 { bytes[offset + index] = UInt8(new >> (8 * index) & 0xff) }
        }
        patch32(range.lowerBound - 4, minus: delta)
        patch32(766, minus: delta)
        patch32(632, minus: delta)
        let report = verifier.verifyQuote(bytes)
        #expect(report.check("quote.parse")?.status == .pass)
        #expect(report.check("dcap.pck-chain")?.status == .fail)
        #expect(report.check("dcap.quote-signature")?.status == .pass)
    }

    @Test("malformed inputs fail quote.parse with a reason, never crash")
    func malformed() throws {
        let good = Fixtures.hex(try Fixtures.json("dstack/tdx-lite-getquote.json")["quote"] as? String ?? "")
        let inputs: [(String, [UInt8])] = [
            ("empty", []),
            ("short", Array(Fixtures.hex(Array(good.prefix(100))).utf8)),
            ("body only", Array(Fixtures.hex(Array(good.prefix(636))).utf8)),
            ("truncated auth data", Array(Fixtures.hex(Array(good.prefix(1300))).utf8)),
            ("truncated PEM", Array(Fixtures.hex(Array(good.prefix(4000))).utf8)),
            ("bad hex", Array("04000200zz".utf8)),
            ("odd hex", Array("0400020".utf8)),
            ("bad JSON", Array(#"{"quote": "#.utf8)),
            ("JSON without quote", Array(#"{"event_log": "[]"}"#.utf8)),
            ("JSON with bad quote", Array(#"{"quote": 12}"#.utf8)),
            ("binary garbage", [0xff, 0xfe, 0x00]),
        ]
        for (name, input) in inputs {
            let report = verifier.verifyQuote(input)
            let parse = report.check("quote.parse")
            #expect(parse?.status == .fail, "\(name)")
            #expect(parse?.detail.isEmpty == false, "\(name)")
            #expect(!report.ok, "\(name)")
        }
        let badLog = verifier.verifyQuote(Array(#"{"quote":"\#(Fixtures.hex(good))","event_log":"[{\"imr\":9}]"}"#.utf8))
        #expect(badLog.check("measurements.rtmr-replay")?.status == .fail)
        #expect(badLog.check("dcap.quote-signature")?.status == .pass)
    }
}
