import Foundation
import Testing

@testable import TDX

@Suite("Event log and RTMR replay")
struct RTMRReplayTests {
    @Test("tdx-lite: stripped log of 29 events replays to the quote's RTMRs")
    func tdxLite() throws {
        let fixture = try Fixtures.getQuote("tdx-lite-getquote.json")
        let log = try TDXEventLog(json: fixture.eventLog)
        #expect(log.events.count == 29)
        #expect((0..<4).map { log.events(imr: UInt32($0)).count } == [13, 5, 2, 9])
        #expect(log.events(imr: 3).allSatisfy { $0.isRuntimeEvent && $0.digest.isEmpty })
        let replayed = try RTMRReplay.replay(log.events)
        #expect(replayed == Expected.tdxLiteRTMRs)
        #expect(try replayed == TDXQuote(bytes: fixture.quote).rtmrs)
        let acpi = log.events.filter { $0.eventType == 10 && !$0.eventPayload.isEmpty }
        #expect(acpi.map(\.event) == ["acpi-loader", "acpi-rsdp", "acpi-tables"])
        #expect(acpi.allSatisfy { $0.eventPayload == Array("ACPI DATA".utf8) })
    }

    @Test("quote-report: full log, supplied runtime digests equal the recomputed ones")
    func quoteReport() throws {
        let fixture = try Fixtures.getQuote("quote-report.json")
        let log = try TDXEventLog(json: fixture.eventLog)
        #expect((0..<4).map { log.events(imr: UInt32($0)).count } == [13, 5, 2, 8])
        let runtime = log.events(imr: 3)
        #expect(runtime.allSatisfy { $0.digest.count == 48 })
        for event in runtime {
            #expect(try RTMRReplay.measuredDigest(of: event) == event.digest)
        }
        #expect(runtime.last?.event == "LIUM_MINER_HOTKEY")
        #expect(try RTMRReplay.replay(log.events) == Expected.quoteReportRTMRs)
    }

    @Test("the log is accepted as a bare array as well as inside a string")
    func bareArray() throws {
        let fixture = try Fixtures.getQuote("tdx-lite-getquote.json")
        let bare = try TDXEventLog(json: fixture.eventLog)
        let asString = try JSONEncoder().encode(String(decoding: fixture.eventLog, as: UTF8.self))
        let nested = try TDXEventLog(json: Array(asString))
        #expect(bare == nested)
        #expect(bare.events.count == 29)
        let reencoded = try TDXEventLog(json: nested.jsonArray())
        #expect(reencoded == nested)
    }

    @Test("corrupting an event payload or reordering events changes the replay")
    func tamper() throws {
        let fixture = try Fixtures.getQuote("tdx-lite-getquote.json")
        let events = try TDXEventLog(json: fixture.eventLog).events
        let appID = try #require(events.firstIndex { $0.event == "app-id" })
        var corrupted = events
        corrupted[appID].eventPayload[0] ^= 1
        #expect(try RTMRReplay.replay(corrupted)[3] != Expected.tdxLiteRTMRs[3])
        var reordered = events
        reordered.swapAt(appID, appID + 1)
        #expect(try RTMRReplay.replay(reordered)[3] != Expected.tdxLiteRTMRs[3])
        var renamed = events
        renamed[appID].event = "app-id2"
        #expect(try RTMRReplay.replay(renamed)[3] != Expected.tdxLiteRTMRs[3])
        // A full log whose runtime digest no longer matches its payload is rejected outright.
        var full = try TDXEventLog(json: Fixtures.getQuote("quote-report.json").eventLog).events
        let fullAppID = try #require(full.firstIndex { $0.event == "app-id" })
        full[fullAppID].eventPayload[0] ^= 1
        #expect(throws: TDXError.self) { try RTMRReplay.replay(full) }
    }

    @Test("bad events: imr out of range, short boot digest, unknown version, bad JSON")
    func malformed() throws {
        let boot = TDXEvent(imr: 0, eventType: 1, digest: [1, 2], event: "", eventPayload: [])
        #expect(throws: TDXError.self) { try RTMRReplay.replay([boot]) }
        let imr = TDXEvent(imr: 4, eventType: TDXEvent.dstackRuntimeEventType, digest: [], event: "x", eventPayload: [])
        #expect(throws: TDXError.self) { try RTMRReplay.replay([imr]) }
        var version = imr
        version.imr = 3
        version.version = 3
        #expect(throws: TDXError.self) { try RTMRReplay.replay([version]) }
        for text in ["", "{", "{}", "[{}]", "\"[1]\"", #"[{"imr":0,"event_type":1,"digest":"zz"}]"#,
            #"[{"imr":0,"event_type":1,"digest":"abc"}]"#, #"[{"imr":-1,"event_type":1}]"#, "\"not json\""]
        {
            #expect(throws: TDXError.self, "\(text)") { try TDXEventLog(json: Array(text.utf8)) }
        }
    }

    @Test("v1 and v2 runtime digests; v2 preimage is RFC 8785 JSON and must match when supplied")
    func runtimeDigests() throws {
        let preimage = RTMRReplay.runtimePreimageV2(event: "app-id", payload: [0xab, 0x01])
        #expect(String(decoding: preimage, as: UTF8.self) == #"{"name":"app-id","payload":"ab01","type":134217729}"#)
        let escaped = RTMRReplay.runtimePreimageV2(event: "a\"b\\c\n\u{1}é", payload: [])
        #expect(String(decoding: escaped, as: UTF8.self) == #"{"name":"a\"b\\c\n\u0001é","payload":"","type":134217729}"#)
        var v2 = TDXEvent(imr: 3, eventType: TDXEvent.dstackRuntimeEventType, digest: [], event: "app-id",
            eventPayload: [0xab, 0x01], version: 2, preimage: preimage)
        let digest = try RTMRReplay.measuredDigest(of: v2)
        #expect(digest == RTMRReplay.runtimeDigestV2(event: "app-id", payload: [0xab, 0x01]))
        #expect(digest != RTMRReplay.runtimeDigestV1(event: "app-id", payload: [0xab, 0x01]))
        v2.digest = digest
        #expect(try RTMRReplay.measuredDigest(of: v2) == digest)
        v2.preimage = Array(#"{"name":"app-id","payload":"ab02","type":134217729}"#.utf8)
        #expect(throws: TDXError.self) { try RTMRReplay.measuredDigest(of: v2) }
        v2.preimage = nil
        v2.digest[0] ^= 1
        #expect(throws: TDXError.self) { try RTMRReplay.measuredDigest(of: v2) }
        // v2 events decode from JSON with version and preimage.
        let json = #"[{"imr":3,"event_type":134217729,"digest":"","event":"app-id","event_payload":"ab01","version":2,"preimage":"\#(HexText.encode(preimage))"}]"#
        let decoded = try TDXEventLog(json: Array(json.utf8))
        #expect(decoded.events.first?.version == 2 && decoded.events.first?.preimage == preimage)
    }
}
