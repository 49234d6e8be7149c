import Testing

@testable import TDX

@Suite("dstack attestation.bin")
struct DstackAttestationBlobTests {
    @Test("decodes the recorded quote, 33 events, 9 runtime events and the config")
    func decode() throws {
        let blob = try DstackAttestationBlob(bytes: Fixtures.bytes("dstack/attestation.bin"))
        #expect(blob.quoteBytes.count == 5010)
        #expect(blob.quote.length == 4940)
        #expect(blob.quote.mrTD == Fixtures.hex("e53236d44a074bc78e784cdfa1a2c858a5f6b53afc1b60d8f079662314978b64241b646d8498dd767d5ea48e1e115822"))
        #expect(blob.quote.mrConfigID == Fixtures.hex("01c143116fef3940e7f776bfc0919c256232ae5338a6e948c96b711e0b2383483a") + [UInt8](repeating: 0, count: 15))
        #expect(blob.quote.reportData == [UInt8](repeating: 0, count: 64))
        #expect(blob.quote.value(of: .tdAttributes) == Fixtures.hex("0000001000000000"))
        #expect(blob.events.count == 33)
        #expect((0..<4).map { index in blob.events.filter { $0.imr == index }.count } == [17, 5, 2, 9])
        #expect(blob.runtimeEvents.count == 9)
        #expect(blob.reportData == [UInt8](repeating: 0, count: 64))
        #expect(blob.config.hasPrefix("{") && blob.config.contains("vm_config"))
        let names = blob.runtimeEvents.map(\.event)
        #expect(names == blob.events.filter(\.isRuntimeEvent).map(\.event))
        let appID = blob.runtimeEvents.first { $0.event == "app-id" }?.payload
        #expect(appID == Fixtures.hex("5bb4ff9a3837357f19dc176407a5709c62eb6c56"))
        let composeHash = blob.runtimeEvents.first { $0.event == "compose-hash" }?.payload
        #expect(composeHash == Fixtures.hex("c143116fef3940e7f776bfc0919c256232ae5338a6e948c96b711e0b2383483a"))
    }

    @Test("its event log replays to the recorded RTMRs")
    func replay() throws {
        let blob = try DstackAttestationBlob(bytes: Fixtures.bytes("dstack/attestation.bin"))
        let replayed = try RTMRReplay.replay(blob.events)
        #expect(replayed == Expected.attestationRTMRs)
        #expect(replayed == blob.quote.rtmrs)
    }

    @Test("truncated or altered blobs throw")
    func malformed() throws {
        let bytes = try Fixtures.bytes("dstack/attestation.bin")
        for length in [0, 1, 2, 3, 100, 5013, 5014, 5015, 6000, 9000, 9503] {
            #expect(throws: TDXError.self, "length \(length)") { try DstackAttestationBlob(bytes: bytes.prefix(length)) }
        }
        var version = bytes
        version[0] = 1
        #expect(throws: TDXError.self) { try DstackAttestationBlob(bytes: version) }
        #expect(throws: TDXError.self) { try DstackAttestationBlob(bytes: bytes + [0]) }
        var hugeCount = bytes
        hugeCount[5014] = 0xfe  // compact mode 10 with a huge value
        #expect(throws: TDXError.self) { try DstackAttestationBlob(bytes: hugeCount) }
    }
}
