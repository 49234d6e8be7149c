import Crypto
import Foundation
import TDX

/// An attestation report built the way a self-consistent dstack test double serves it: the recorded
/// `attestation.bin` quote with report_data, MRCONFIGID and RTMR3 patched to match the served
/// app-compose and event log. Only the DCAP quote signature gives it away.
struct SimulatedReport {
    var quote: TDXQuote
    var events: [TDXEvent]
    var appCompose: String
    var algorithm = "ecdsa"
    var signingAddress = Vectors.simulatorAddress
    var signingPublicKey = Vectors.simulatorPublicXY
    var requestNonce = Fixtures.nonce
    var infoAppID = Vectors.simulatorAppID
    var tlsFingerprint: String?
    var provenance: [String: Any]?
    var nvidiaPayload: String = #"{"nonce":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f","evidence_list":[],"arch":"HOPPER"}"#
    var extra: [String: Any] = [:]

    /// The consistent simulator report for the ecdsa key and `nonce`.
    static func make(nonce: [UInt8] = Fixtures.nonce, composeOverride: String? = nil) throws -> SimulatedReport {
        let blob = try DstackAttestationBlob(bytes: Fixtures.bytes("dstack/attestation.bin"))
        let served = String(decoding: try Fixtures.bytes("dstack/app-compose.json"), as: UTF8.self)
        let appCompose = composeOverride ?? served
        let composeHash = Array(SHA256.hash(data: Array(appCompose.utf8)))
        var events = blob.events
        for index in events.indices where events[index].event == "compose-hash" {
            events[index].eventPayload = composeHash
            events[index].digest = []
        }
        let rtmrs = try RTMRReplay.replay(events)
        let reportData = Fixtures.hex(Vectors.simulatorAddress.dropFirst(2).lowercased()) + [UInt8](repeating: 0, count: 12) + nonce
        let quote = try blob.quote
            .replacing(.reportData, with: reportData)
            .replacing(.mrConfigID, with: [1] + composeHash + [UInt8](repeating: 0, count: 15))
            .replacing(.rtmr(3), with: rtmrs[3])
        let link1 = try Fixtures.json("dstack/appkeys.json")["k256_signature"] as? String ?? ""
        return SimulatedReport(
            quote: quote, events: events, appCompose: appCompose, requestNonce: nonce,
            provenance: [
                "path": "tiny/ecdsa-signing-key", "purpose": "signing", "algorithm": "secp256k1",
                "public_key": Vectors.simulatorCompressed, "signature_chain": [Vectors.simulatorLink0, link1],
                "app_id": Vectors.simulatorAppID,
            ])
    }

    /// The same report for the simulator's ed25519 key.
    static func makeEd25519(nonce: [UInt8] = Fixtures.nonce) throws -> SimulatedReport {
        var report = try make(nonce: nonce)
        report.algorithm = "ed25519"
        report.signingAddress = Vectors.simulatorEd25519Public
        report.signingPublicKey = Vectors.simulatorEd25519Public
        report.quote = try report.quote.replacing(.reportData, with: Fixtures.hex(Vectors.simulatorEd25519Public) + nonce)
        report.provenance?["path"] = "tiny/ed25519-signing-key"
        report.provenance?["algorithm"] = "ed25519"
        report.provenance?["public_key"] = Vectors.simulatorEd25519Public
        let link1 = try Fixtures.json("dstack/appkeys.json")["k256_signature"] as? String ?? ""
        report.provenance?["signature_chain"] = [Vectors.simulatorEd25519Link0, link1]
        return report
    }

    /// Replaces report_data for the TLS-bound layout with `fingerprint`.
    mutating func bindTLS(_ fingerprint: String) throws {
        let head = Array(SHA256.hash(data: Fixtures.hex(signingAddress.dropFirst(2).lowercased()) + Fixtures.hex(fingerprint)))
        quote = try quote.replacing(.reportData, with: head + requestNonce)
        tlsFingerprint = fingerprint
    }

    func object() -> [String: Any] {
        var object: [String: Any] = [
            "model_name": "tiny",
            "signing_address": signingAddress,
            "signing_algo": algorithm,
            "signing_public_key": signingPublicKey,
            "request_nonce": Fixtures.hex(requestNonce),
            "intel_quote": Fixtures.hex(quote.bytes),
            "quote": Fixtures.hex(quote.bytes),
            "event_log": String(decoding: TDXEventLog(events: events).jsonArray(), as: UTF8.self),
            "vm_config": "{}",
            "nvidia_payload": nvidiaPayload,
            "info": [
                "app_id": infoAppID,
                "tcb_info": ["app_compose": appCompose, "rtmr3": Fixtures.hex(quote.rtmrs[3])],
            ] as [String: Any],
        ]
        if let tlsFingerprint { object["tls_cert_fingerprint"] = tlsFingerprint }
        if let provenance { object["key_provenance"] = provenance }
        for (key, value) in extra { object[key] = value }
        var inner = object
        inner["all_attestations"] = nil
        object["all_attestations"] = [inner]
        return object
    }

    func json() throws -> [UInt8] {
        try Fixtures.jsonBytes(object())
    }
}
