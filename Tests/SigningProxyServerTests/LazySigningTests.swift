import Foundation
import MockVLLM
import SigningCore
import SigningProxyServer
import Testing

@Suite("Lazy signing (SIGNING_MODE=lazy)")
struct LazySigningTests {
    private static let streamRequest = Array(
        #"{"model":"tiny","messages":[{"role":"user","content":"hi"}],"stream":true}"#.utf8)
    private static let jsonRequest = Array(#"{"model":"tiny","messages":[{"role":"user","content":"hi"}]}"#.utf8)

    @Test("streamed and non-streamed completions are stored unsigned, signed on first lookup, then read", arguments: [true, false])
    func signOnFirstLookup(streamed: Bool) async throws {
        try await ProxyHarness.run(configure: { $0.signingMode = .lazy }) { harness in
            let request = streamed ? Self.streamRequest : Self.jsonRequest
            let answer = try await harness.send(.POST, "/v1/chat/completions", body: request)
            #expect(answer.status == 200)
            let chatID = streamed ? try firstChatID(answer.body) : try #require(try answer.json()["id"] as? String)
            if streamed { #expect(answer.text.hasSuffix("data: [DONE]\n\n")) }

            // Stored once the response was delivered, with the hashes only.
            let stored = try #require(try await harness.storedRecord(chatID))
            #expect(harness.proxy.notary.text(of: stored) == "\(sha256Hex(request)):\(sha256Hex(answer.body))")
            #expect(stored.ecdsaSignature == nil && stored.ed25519Signature == nil)
            #expect(harness.proxy.metrics.value(.signaturesStored) == 1)
            #expect(harness.proxy.metrics.value(.signaturesSignedOnLookup) == 0)

            // One ecdsa lookup signs ecdsa only.
            let firstECDSA = try await harness.signature(chatID)
            #expect(firstECDSA.status == 200)
            #expect(harness.proxy.metrics.value(.signaturesSignedOnLookup) == 1)
            let half = try #require(try await harness.storedRecord(chatID))
            #expect(half.ecdsaSignature != nil && half.ed25519Signature == nil)

            // Both answers verify as a client checks them (this looks up ecdsa again and ed25519 once).
            try await expectSigned(harness, chatID: chatID, request: request, response: answer.body)
            #expect(harness.proxy.metrics.value(.signaturesSignedOnLookup) == 2)
            #expect(try #require(try await harness.storedRecord(chatID)).isComplete)

            // Later lookups are plain reads of the same bytes.
            let firstED = try await harness.signature(chatID, algorithm: "ed25519")
            for _ in 0..<3 {
                #expect(try await harness.signature(chatID).body == firstECDSA.body)
                #expect(try await harness.signature(chatID, algorithm: "ecdsa").body == firstECDSA.body)
                #expect(try await harness.signature(chatID, algorithm: "ed25519").body == firstED.body)
            }
            #expect(harness.proxy.metrics.value(.signaturesSignedOnLookup) == 2)
        }
    }

    @Test("eager and lazy give byte-identical /v1/signature answers for the same seed and bytes", arguments: [
        ("chat-stream", "text/event-stream", "chatcmpl-bd7f0789f54390b4"),
        ("chat", "application/json", "chatcmpl-ba330a18951aac39"),
    ])
    func eagerEqualsLazy(fixture: String, contentType: String, chatID: String) async throws {
        let body = try Fixtures.bytes("vllm/\(fixture).body")
        let mock = MockVLLMConfiguration(replay: MockVLLMReplay(body: body, contentType: contentType))
        try await ProxyHarness.run(mock: mock, configure: { $0.signingMode = .eager }) { eager in
            try await ProxyHarness.run(mock: mock, configure: { $0.signingMode = .lazy }) { lazy in
                #expect(eager.proxy.keys.ecdsaAddress == lazy.proxy.keys.ecdsaAddress)
                for harness in [eager, lazy] {
                    let answer = try await harness.send(.POST, "/v1/chat/completions", body: vectorRequest)
                    #expect(answer.body == body)
                }
                #expect(try #require(try await eager.storedRecord(chatID)).isComplete)
                #expect(try #require(try await lazy.storedRecord(chatID)).ecdsaSignature == nil)
                // ed25519 first on the lazy side, so the order of first lookups differs too.
                for algorithm in ["ed25519", "ecdsa"] {
                    let fromLazy = try await lazy.signature(chatID, algorithm: algorithm)
                    let fromEager = try await eager.signature(chatID, algorithm: algorithm)
                    #expect(fromLazy.status == 200)
                    #expect(fromLazy.body == fromEager.body, "\(algorithm)")
                }
                try await expectSigned(lazy, chatID: chatID, request: vectorRequest, response: body)
                #expect(eager.proxy.metrics.value(.signaturesSignedOnLookup) == 0)
                #expect(lazy.proxy.metrics.value(.signaturesSignedOnLookup) == 2)
            }
        }
    }

    @Test("concurrent first lookups all get the one cached signature")
    func concurrentFirstLookups() async throws {
        try await ProxyHarness.run(configure: { $0.signingMode = .lazy }) { harness in
            let answer = try await harness.send(.POST, "/v1/chat/completions", body: Self.jsonRequest)
            let chatID = try #require(try answer.json()["id"] as? String)
            let bodies = try await withThrowingTaskGroup(of: [UInt8].self) { group in
                for index in 0..<16 {
                    group.addTask {
                        try await harness.signature(chatID, algorithm: index.isMultiple(of: 2) ? "ecdsa" : "ed25519").body
                    }
                }
                return try await group.reduce(into: [[UInt8]]()) { $0.append($1) }
            }
            #expect(Set(bodies).count == 2)
            let record = try #require(try await harness.storedRecord(chatID))
            #expect(record.isComplete)
            // Racing first lookups may each sign; at least one per algorithm did, never more than the lookups.
            let signed = harness.proxy.metrics.value(.signaturesSignedOnLookup)
            #expect(signed >= 2 && signed <= 16)
            for algorithm in SignatureAlgorithm.allCases {
                let cached = try await harness.signature(chatID, algorithm: algorithm.rawValue).json()
                #expect(cached["signature"] as? String == record[algorithm])
            }
        }
    }

    @Test("lazy mode keeps the lookup errors: unknown id 404 (before a bad algorithm), bad algorithm 400")
    func lookupErrors() async throws {
        try await ProxyHarness.run(configure: { $0.signingMode = .lazy }) { harness in
            try expectEnvelope(
                try await harness.signature("chatcmpl-unknown"), status: 404, type: "not_found",
                message: "Chat id not found or expired")
            try expectEnvelope(try await harness.signature("chatcmpl-unknown", algorithm: "rsa"), status: 404, type: "not_found")
            let answer = try await harness.send(.POST, "/v1/chat/completions", body: Self.jsonRequest)
            let chatID = try #require(try answer.json()["id"] as? String)
            for bad in ["rsa", "ECDSA", "", "ed25519 "] {
                try expectEnvelope(
                    try await harness.send(.GET, "/v1/signature/\(chatID)?signing_algo=\(bad.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? bad)"),
                    status: 400, type: "invalid_signing_algo")
            }
            // A refused algorithm signs nothing.
            #expect(harness.proxy.metrics.value(.signaturesSignedOnLookup) == 0)
            #expect(try #require(try await harness.storedRecord(chatID)).ecdsaSignature == nil)
            let metrics = try await harness.send(.GET, "/metrics", headers: []).text
            #expect(metrics.contains("\nsigning_proxy_lazy_signing 1\n"))
            #expect(metrics.contains("\nsigning_proxy_signatures_signed_on_lookup_total 0\n"))
        }
    }

    @Test("eager is the default and /metrics says so")
    func eagerDefault() async throws {
        #expect(ProxyConfiguration().signingMode == .eager)
        try await ProxyHarness.run { harness in
            let answer = try await harness.send(.POST, "/v1/chat/completions", body: Self.jsonRequest)
            let chatID = try #require(try answer.json()["id"] as? String)
            #expect(try #require(try await harness.storedRecord(chatID)).isComplete)
            #expect(harness.proxy.notary.mode == .eager)
            let metrics = try await harness.send(.GET, "/metrics", headers: []).text
            #expect(metrics.contains("\nsigning_proxy_lazy_signing 0\n"))
        }
    }

    @Test("SIGNING_MODE is read from the environment, any case; anything else is refused")
    func environment() throws {
        #expect(try ProxyConfiguration(environment: [:]).signingMode == .eager)
        #expect(try ProxyConfiguration(environment: ["SIGNING_MODE": ""]).signingMode == .eager)
        #expect(try ProxyConfiguration(environment: ["SIGNING_MODE": "lazy"]).signingMode == .lazy)
        #expect(try ProxyConfiguration(environment: ["SIGNING_MODE": " LAZY "]).signingMode == .lazy)
        #expect(try ProxyConfiguration(environment: ["SIGNING_MODE": "Eager"]).signingMode == .eager)
        for bad in ["later", "1", "lazy,eager"] {
            #expect(throws: ConfigurationError.invalid("SIGNING_MODE", "must be 'eager' or 'lazy'")) {
                try ProxyConfiguration(environment: ["SIGNING_MODE": bad])
            }
        }
        #expect(try ProxyConfiguration.parseSigningMode("lazy") == .lazy)
    }
}
