import Crypto
import SigningCrypto
import TDX

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The simulator's self-consistent TEE state: a template quote, its event log and the matching `Info`.
///
/// Built once from the fixtures (`Fixtures/dstack`): identity events (`app-id`, `compose-hash`,
/// `instance-id`, `key-provider`) are rewritten to the served identity, MRCONFIGID becomes
/// `01 ‖ sha256(app-compose) ‖ 0…`, and RTMR3 becomes the replay of the served log. RTMR0–2 stay as
/// recorded (their events are unchanged and must already replay to them). Only the DCAP signature can
/// then tell the quotes apart from real ones.
package struct DstackSimulatedEvidence: Sendable {
    /// The patched quote; `GetQuote` further replaces REPORTDATA.
    package let quote: TDXQuote
    /// The served events (unstripped in full mode, stripped in stripped mode).
    package let events: [TDXEvent]
    /// `event_log` as served: a compact JSON array.
    package let eventLog: String
    /// `vm_config` as served (JSON text).
    package let vmConfig: String
    /// The app-compose document, verbatim bytes of `app-compose.json`.
    package let appCompose: [UInt8]
    /// `sha256(appCompose)`.
    package let composeHash: [UInt8]
    /// App id (20 bytes) the KMS link in `appkeys.json` is bound to.
    package let appID: [UInt8]
    /// Instance id (20 bytes).
    package let instanceID: [UInt8]
    /// `key-provider` event payload (JSON text).
    package let keyProviderInfo: String
    /// The `Info` answer body.
    package let infoJSON: [UInt8]

    /// Builds the evidence from a fixtures directory.
    /// - Throws: `DstackSimulatorError` for a missing or malformed fixture, or recorded events that do
    ///   not replay to the recorded RTMR0–2.
    package init(fixturesDirectory: String, mode: DstackSimulatorConfiguration.QuoteMode) throws(DstackSimulatorError) {
        let recordedBytes = try Self.read(fixturesDirectory, "attestation.bin")
        let recorded: DstackAttestationBlob
        do {
            recorded = try DstackAttestationBlob(bytes: recordedBytes)
        } catch {
            throw .fixture("attestation.bin", error.description)
        }
        // The identity always comes from the recorded simulator evidence: its app id is the one the
        // KMS signature in appkeys.json certifies.
        func recordedPayload(_ name: String) throws(DstackSimulatorError) -> [UInt8] {
            guard let event = recorded.runtimeEvents.first(where: { $0.event == name }) else {
                throw .fixture("attestation.bin", "no \(name) runtime event")
            }
            return event.payload
        }
        appID = try recordedPayload("app-id")
        instanceID = try recordedPayload("instance-id")
        let keyProvider = try recordedPayload("key-provider")
        guard let keyProviderText = String(validating: keyProvider, as: UTF8.self) else {
            throw .fixture("attestation.bin", "key-provider payload is not UTF-8")
        }
        keyProviderInfo = keyProviderText

        appCompose = try Self.read(fixturesDirectory, "app-compose.json")
        composeHash = Array(SHA256.hash(data: appCompose))

        let templateQuote: TDXQuote
        let templateEvents: [TDXEvent]
        switch mode {
        case .full:
            templateQuote = recorded.quote
            templateEvents = recorded.events
            vmConfig = try Self.vmConfig(fromRecordedConfig: recorded.config)
        case .stripped:
            let response = try Self.strippedTemplate(fixturesDirectory)
            templateQuote = response.quote
            templateEvents = response.events
            vmConfig = response.vmConfig
        }

        let replacements: [String: [UInt8]] = [
            "app-id": appID,
            "compose-hash": composeHash,
            "instance-id": instanceID,
            "key-provider": keyProvider,
        ]
        var events = templateEvents
        var replaced: Set<String> = []
        for index in events.indices where events[index].isRuntimeEvent {
            guard let payload = replacements[events[index].event] else { continue }
            replaced.insert(events[index].event)
            events[index].eventPayload = payload
            guard events[index].version == nil || events[index].version == 1 else {
                throw .inconsistent("template event \(events[index].event) is not a version-1 runtime event")
            }
            // A full log carries runtime digests; a stripped one leaves them empty for the verifier.
            if !events[index].digest.isEmpty {
                events[index].digest = RTMRReplay.runtimeDigestV1(event: events[index].event, payload: payload)
            }
        }
        let missing = Set(replacements.keys).subtracting(replaced)
        guard missing.isEmpty else {
            throw .inconsistent("template log lacks runtime events \(missing.sorted().joined(separator: ", "))")
        }

        let registers: [[UInt8]]
        do {
            registers = try RTMRReplay.replay(events)
        } catch {
            throw .inconsistent("template event log does not replay: \(error.description)")
        }
        for index in 0..<3 where registers[index] != templateQuote.rtmrs[index] {
            throw .inconsistent("template events do not replay to the recorded RTMR\(index)")
        }
        do {
            let configID = [1] + composeHash + [UInt8](repeating: 0, count: 15)
            quote = try templateQuote
                .replacing(.mrConfigID, with: configID)
                .replacing(.rtmr(3), with: registers[3])
        } catch {
            throw .inconsistent("cannot patch the template quote: \(error.description)")
        }
        self.events = events
        eventLog = String(decoding: TDXEventLog(events: events).jsonArray(), as: UTF8.self)
        infoJSON = try Self.info(
            quote: quote, events: events, appCompose: appCompose, composeHash: composeHash, appID: appID,
            instanceID: instanceID, keyProviderInfo: keyProviderInfo, vmConfig: vmConfig)
    }

    /// The quote with REPORTDATA set to `reportData` (already padded to 64 bytes).
    package func quote(reportData: [UInt8]) -> [UInt8] {
        var bytes = quote.bytes
        let range = quote.range(of: .reportData)
        bytes.replaceSubrange(range, with: reportData.prefix(range.count))
        return bytes
    }

    // MARK: Fixtures

    private static func read(_ directory: String, _ name: String) throws(DstackSimulatorError) -> [UInt8] {
        let url = URL(fileURLWithPath: directory).appendingPathComponent(name)
        do {
            return Array(try Data(contentsOf: url))
        } catch {
            throw .fixture(name, "cannot read \(url.path) (set --fixtures to the repository's Fixtures/dstack directory)")
        }
    }

    private static func vmConfig(fromRecordedConfig config: String) throws(DstackSimulatorError) -> String {
        struct Config: Decodable {
            var vmConfig: String
            enum CodingKeys: String, CodingKey { case vmConfig = "vm_config" }
        }
        guard let decoded = try? JSONDecoder().decode(Config.self, from: Data(config.utf8)) else {
            throw .fixture("attestation.bin", "config has no vm_config string")
        }
        return decoded.vmConfig
    }

    private static func strippedTemplate(
        _ directory: String
    ) throws(DstackSimulatorError) -> (quote: TDXQuote, events: [TDXEvent], vmConfig: String) {
        struct Response: Decodable {
            var quote: String
            var eventLog: String
            var vmConfig: String
            enum CodingKeys: String, CodingKey {
                case quote
                case eventLog = "event_log"
                case vmConfig = "vm_config"
            }
        }
        let name = "tdx-lite-getquote.json"
        let bytes = try read(directory, name)
        guard let response = try? JSONDecoder().decode(Response.self, from: Data(bytes)) else {
            throw .fixture(name, "needs string fields quote, event_log and vm_config")
        }
        do {
            let quote = try TDXQuote(bytes: Hex.decode(response.quote))
            let log = try TDXEventLog(json: Array(response.eventLog.utf8))
            return (quote, log.events, response.vmConfig)
        } catch {
            throw .fixture(name, "\(error)")
        }
    }

    // MARK: Info

    private struct TCBInfo: Encodable {
        var mrtd: String
        var rtmr0: String
        var rtmr1: String
        var rtmr2: String
        var rtmr3: String
        var mrAggregated: String
        var osImageHash: String
        var composeHash: String
        var deviceID: String
        var eventLog: [TDXEvent]
        var appCompose: String

        enum CodingKeys: String, CodingKey {
            case mrtd, rtmr0, rtmr1, rtmr2, rtmr3
            case mrAggregated = "mr_aggregated"
            case osImageHash = "os_image_hash"
            case composeHash = "compose_hash"
            case deviceID = "device_id"
            case eventLog = "event_log"
            case appCompose = "app_compose"
        }
    }

    private struct Info: Encodable {
        var appID: String
        var instanceID: String
        var appCert: String
        var tcbInfo: String
        var appName: String
        var deviceID: String
        var mrAggregated: String
        var osImageHash: String
        var keyProviderInfo: String
        var composeHash: String
        var vmConfig: String
        var cloudVendor: String
        var cloudProduct: String

        enum CodingKeys: String, CodingKey {
            case appID = "app_id"
            case instanceID = "instance_id"
            case appCert = "app_cert"
            case tcbInfo = "tcb_info"
            case appName = "app_name"
            case deviceID = "device_id"
            case mrAggregated = "mr_aggregated"
            case osImageHash = "os_image_hash"
            case keyProviderInfo = "key_provider_info"
            case composeHash = "compose_hash"
            case vmConfig = "vm_config"
            case cloudVendor = "cloud_vendor"
            case cloudProduct = "cloud_product"
        }
    }

    private static func info(
        quote: TDXQuote, events: [TDXEvent], appCompose: [UInt8], composeHash: [UInt8], appID: [UInt8],
        instanceID: [UInt8], keyProviderInfo: String, vmConfig: String
    ) throws(DstackSimulatorError) -> [UInt8] {
        guard let appComposeText = String(validating: appCompose, as: UTF8.self) else {
            throw .fixture("app-compose.json", "not UTF-8")
        }
        struct ComposeName: Decodable { var name: String? }
        struct VMConfig: Decodable {
            var osImageHash: String?
            enum CodingKeys: String, CodingKey { case osImageHash = "os_image_hash" }
        }
        let appName = (try? JSONDecoder().decode(ComposeName.self, from: Data(appCompose)))?.name ?? ""
        // Info reports the image of vm_config; the os-image-hash event (what the KMS accepted) may differ.
        let osImageHash =
            (try? JSONDecoder().decode(VMConfig.self, from: Data(vmConfig.utf8)))?.osImageHash
            ?? events.first(where: { $0.isRuntimeEvent && $0.event == "os-image-hash" }).map { Hex.encode($0.eventPayload) }
            ?? ""
        let rtmrs = quote.rtmrs
        // Simulator-defined values (no hardware behind them): mr_aggregated = sha256(MRTD ‖ RTMR0..3),
        // device_id = sha256("dstack-simulator-device").
        let mrAggregated = Hex.encode(SHA256.hash(data: quote.mrTD + rtmrs.joined()))
        let deviceID = Hex.encode(SHA256.hash(data: Array("dstack-simulator-device".utf8)))
        let tcb = TCBInfo(
            mrtd: Hex.encode(quote.mrTD), rtmr0: Hex.encode(rtmrs[0]), rtmr1: Hex.encode(rtmrs[1]),
            rtmr2: Hex.encode(rtmrs[2]), rtmr3: Hex.encode(rtmrs[3]), mrAggregated: mrAggregated,
            osImageHash: osImageHash, composeHash: Hex.encode(composeHash), deviceID: deviceID,
            eventLog: events, appCompose: appComposeText)
        let pretty = JSONEncoder()
        pretty.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let compact = JSONEncoder()
        compact.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            let tcbText = String(decoding: try pretty.encode(tcb), as: UTF8.self)
            let info = Info(
                appID: Hex.encode(appID), instanceID: Hex.encode(instanceID), appCert: "", tcbInfo: tcbText,
                appName: appName, deviceID: deviceID, mrAggregated: mrAggregated, osImageHash: osImageHash,
                keyProviderInfo: keyProviderInfo, composeHash: Hex.encode(composeHash), vmConfig: vmConfig,
                cloudVendor: "dstack-simulator", cloudProduct: "signing-proxy test double")
            return Array(try compact.encode(info))
        } catch {
            throw .inconsistent("cannot encode Info: \(error)")
        }
    }
}
