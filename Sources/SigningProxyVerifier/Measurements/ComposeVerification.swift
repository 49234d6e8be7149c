import Crypto
import SigningCrypto
import TDX

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Compose hash, MRCONFIGID, app id and the user's compose file.
enum ComposeVerification {
    /// What the compose checks read.
    struct Inputs {
        var quote: TDXQuote
        /// RTMR3 events authenticated by the quote, or nil.
        var runtimeEvents: [TDXEvent]?
        /// Why `runtimeEvents` is nil (no log, or the replay failed).
        var eventsUnavailable: String
        /// `info.tcb_info.app_compose`, verbatim.
        var appCompose: String?
        /// `info.app_id`.
        var infoAppID: String?
        /// A full report is being verified (the compose document is then required), not a bare quote.
        var requireCompose: Bool
    }

    static func run(_ inputs: Inputs, options: VerificationOptions, into checks: inout CheckList) {
        let events = inputs.runtimeEvents
        let eventHash = events.flatMap { RuntimeEventPolicy.payload("compose-hash", in: $0) }
        let eventAppID = events.flatMap { RuntimeEventPolicy.payload("app-id", in: $0) }
        let document = inputs.appCompose.map { Array($0.utf8) } ?? options.composeFile
        let documentSource = inputs.appCompose != nil ? "info.tcb_info.app_compose" : "the given compose file"
        let documentHash = document.map { Array(SHA256.hash(data: $0)) }

        // compose.hash: the served document hashes to the attested compose-hash event.
        switch (eventHash, documentHash) {
        case (let attested?, let computed?):
            checks.expect(
                attested == computed, "compose.hash",
                pass: "sha256(\(documentSource)) = \(HexFormatting.full(computed)) equals the compose-hash event",
                fail: "sha256(\(documentSource)) = \(HexFormatting.short(computed)) but the attested compose-hash event is "
                    + "\(HexFormatting.short(attested)): the served app-compose is not the one that was measured")
        case (nil, _) where events == nil:
            unavailable("compose.hash", inputs, into: &checks)
        case (nil, _):
            checks.fail("compose.hash", "no single compose-hash event among the attested RTMR3 events")
        case (let attested?, nil):
            if inputs.requireCompose {
                checks.fail(
                    "compose.hash",
                    "the report has no info.tcb_info.app_compose and no compose file was given, so the attested compose hash "
                        + "\(HexFormatting.short(attested)) cannot be tied to a document")
            } else {
                checks.skip(
                    "compose.hash", "no app-compose document given; attested compose hash is \(HexFormatting.full(attested))",
                    mandatory: false)
            }
        }

        checkMRConfigID(inputs, composeHash: eventHash ?? documentHash, appID: eventAppID, into: &checks)
        checkAppID(inputs, eventAppID: eventAppID, options: options, into: &checks)
        checkComposeFile(inputs, eventHash: eventHash, options: options, into: &checks)
    }

    private static func unavailable(_ id: String, _ inputs: Inputs, into checks: inout CheckList) {
        if inputs.requireCompose {
            checks.fail(id, "RTMR3 events are not authenticated: \(inputs.eventsUnavailable)")
        } else {
            checks.skip(id, "RTMR3 events are not available: \(inputs.eventsUnavailable)", mandatory: false)
        }
    }

    /// MRCONFIGID V1 (`01 ‖ compose hash ‖ 0…`), V2 (`02 ‖ keccak256(hash ‖ app id ‖ kind ‖ provider id) ‖ 0…`) or zero.
    private static func checkMRConfigID(_ inputs: Inputs, composeHash: [UInt8]?, appID: [UInt8]?, into checks: inout CheckList) {
        let id = "compose.mr-config-id"
        let mrConfigID = inputs.quote.mrConfigID
        if mrConfigID.allSatisfy({ $0 == 0 }) {
            checks.skip(
                id, "MRCONFIGID is all zero (OS before MRCONFIGID binding): the compose hash is bound only by the RTMR3 event",
                mandatory: false)
            return
        }
        guard let composeHash else {
            unavailable(id, inputs, into: &checks)
            return
        }
        let tailIsZero = mrConfigID[33...].allSatisfy { $0 == 0 }
        switch mrConfigID[0] {
        case 1:
            checks.expect(
                Array(mrConfigID[1..<33]) == composeHash && tailIsZero, id,
                pass: "MRCONFIGID = 01 ‖ compose hash ‖ zeros (V1)",
                fail: "MRCONFIGID V1 carries \(HexFormatting.short(mrConfigID[1..<33])), not the compose hash "
                    + "\(HexFormatting.short(composeHash))")
        case 2:
            guard let appID, let events = inputs.runtimeEvents,
                let provider = RuntimeEventPolicy.payload("key-provider", in: events).flatMap(KeyProviderEvent.init)
            else {
                checks.fail(id, "MRCONFIGID V2 needs the attested app-id and key-provider events, which are missing")
                return
            }
            let expected = Keccak256.hash(composeHash + appID + [provider.kind] + provider.id)
            checks.expect(
                Array(mrConfigID[1..<33]) == expected && tailIsZero, id,
                pass: "MRCONFIGID = 02 ‖ keccak256(compose hash ‖ app id ‖ key provider \(provider.name)) (V2)",
                fail: "MRCONFIGID V2 does not bind the compose hash, app id and key provider")
        default:
            checks.fail(id, "MRCONFIGID starts with 0x\(String(mrConfigID[0], radix: 16)), neither V1 (01) nor V2 (02) nor zero")
        }
    }

    private static func checkAppID(_ inputs: Inputs, eventAppID: [UInt8]?, options: VerificationOptions, into checks: inout CheckList) {
        let id = "compose.app-id"
        guard let eventAppID else {
            if inputs.runtimeEvents == nil {
                unavailable(id, inputs, into: &checks)
            } else {
                checks.fail(id, "no single app-id event among the attested RTMR3 events")
            }
            return
        }
        var compared: [String] = []
        var problems: [String] = []
        if let text = inputs.infoAppID {
            if HexFormatting.decode(text) == eventAppID {
                compared.append("info.app_id")
            } else {
                problems.append("info.app_id \(text) differs from the attested app-id \(HexFormatting.full(eventAppID))")
            }
        }
        if let text = options.expectedAppID {
            if HexFormatting.decode(text) == eventAppID {
                compared.append("the expected app id")
            } else {
                problems.append("attested app-id \(HexFormatting.full(eventAppID)) is not the expected app \(text)")
            }
        }
        if !problems.isEmpty {
            checks.fail(id, problems.joined(separator: "; "))
        } else if compared.isEmpty {
            checks.skip(id, "attested app id \(HexFormatting.full(eventAppID)); nothing given to compare it with", mandatory: false)
        } else {
            checks.pass(id, "attested app-id \(HexFormatting.full(eventAppID)) equals " + compared.joined(separator: " and "))
        }
    }

    private static func checkComposeFile(_ inputs: Inputs, eventHash: [UInt8]?, options: VerificationOptions, into checks: inout CheckList) {
        let id = "compose.file"
        guard let file = options.composeFile else {
            checks.skip(id, "no reviewed compose file given (--compose)", mandatory: false)
            return
        }
        let fileHash = Array(SHA256.hash(data: file))
        if let served = inputs.appCompose {
            let servedBytes = Array(served.utf8)
            checks.expect(
                servedBytes == file, id,
                pass: "the given compose file equals info.tcb_info.app_compose byte for byte (\(file.count) bytes)",
                fail: "the given compose file (\(file.count) bytes, sha256 \(HexFormatting.short(fileHash))) differs from "
                    + "info.tcb_info.app_compose (\(servedBytes.count) bytes, sha256 \(HexFormatting.short(Array(SHA256.hash(data: servedBytes)))))")
        } else if let eventHash {
            checks.expect(
                fileHash == eventHash, id,
                pass: "sha256 of the given compose file equals the attested compose hash",
                fail: "sha256 of the given compose file \(HexFormatting.short(fileHash)) is not the attested compose hash "
                    + "\(HexFormatting.short(eventHash))")
        } else {
            checks.fail(id, "nothing attested to compare the compose file with: \(inputs.eventsUnavailable)")
        }
    }
}
