import Logging
import NIOCore
import RedisClient
import SigningCore
import SigningProxyServer
import Testing

@Suite("Shared store settings and value format")
struct SharedStoreSettingsTests {
    @Test("the Python proxy's variables, or REDIS_URL, turn the store on; nothing set leaves it off")
    func variables() throws {
        #expect(try ProxyConfiguration(environment: [:]).sharedStore == nil)
        let separate = try #require(
            try ProxyConfiguration(environment: [
                "REDIS_HOST": "redis", "REDIS_PORT": "6380", "REDIS_PASSWORD": "s3cret", "REDIS_DB": "2",
                "REDIS_WRITE_TIMEOUT_MS": "75", "REDIS_LOOKUP_TIMEOUT_MS": "900",
            ]).sharedStore)
        #expect(separate.redis.host == "redis" && separate.redis.port == 6380 && separate.redis.database == 2)
        #expect(separate.redis.password == "s3cret")
        #expect(separate.writeTimeout == .milliseconds(75) && separate.lookupTimeout == .milliseconds(900))
        #expect(!separate.description.contains("s3cret"))
        let url = try #require(try ProxyConfiguration(environment: ["REDIS_URL": "redis://:pw@10.0.0.5:7000/3"]).sharedStore)
        #expect(url.redis.host == "10.0.0.5" && url.redis.port == 7000 && url.redis.database == 3)
        #expect(url.writeTimeout == .milliseconds(50) && url.lookupTimeout == .milliseconds(500))
        #expect(!ProxyConfiguration.unsupportedVariables.contains("REDIS_HOST"))
    }

    @Test(
        "bad values stop start-up with a message naming the variable, never the password",
        arguments: [
            (["REDIS_HOST": "redis", "REDIS_PORT": "0"], "REDIS_PORT"),
            (["REDIS_HOST": "redis", "REDIS_PORT": "http"], "REDIS_PORT"),
            (["REDIS_HOST": "redis", "REDIS_DB": "-1"], "REDIS_DB"),
            (["REDIS_HOST": "redis://x:6379"], "REDIS_HOST"),
            (["REDIS_PORT": "6379"], "REDIS_HOST"),
            (["REDIS_PASSWORD": "s3cret"], "REDIS_HOST"),
            (["REDIS_URL": "redis://:s3cret@h/1", "REDIS_HOST": "h"], "REDIS_URL"),
            (["REDIS_URL": "rediss://:s3cret@h"], "REDIS_URL"),
            (["REDIS_URL": "http://:s3cret@h"], "REDIS_URL"),
            (["REDIS_HOST": "h", "REDIS_WRITE_TIMEOUT_MS": "0"], "REDIS_WRITE_TIMEOUT_MS"),
            (["REDIS_HOST": "h", "REDIS_WRITE_TIMEOUT_MS": "20000"], "REDIS_WRITE_TIMEOUT_MS"),
            (["REDIS_HOST": "h", "REDIS_WRITE_TIMEOUT_MS": "1.5"], "REDIS_WRITE_TIMEOUT_MS"),
            (["REDIS_HOST": "h", "REDIS_LOOKUP_TIMEOUT_MS": "soon"], "REDIS_LOOKUP_TIMEOUT_MS"),
            (["REDIS_WRITE_TIMEOUT_MS": "50"], "REDIS_WRITE_TIMEOUT_MS"),
        ])
    func badValues(environment: [String: String], variable: String) {
        do {
            _ = try ProxyConfiguration(environment: environment)
            Issue.record("accepted \(environment)")
        } catch {
            #expect(error.description.contains(variable), "\(error)")
            #expect(!error.description.contains("s3cret"))
        }
    }

    @Test("values round-trip in the documented layout; anything else reads as nothing")
    func format() throws {
        let signer = ExchangeSigner(keys: .dev(seed: "format"), format: .plain, modelName: "tiny")
        let hash = try #require(FixedBytes<32>(lowercaseHex: String(repeating: "a1", count: 32)))
        let record = try signer.sign(requestHash: hash, responseHash: hash)
        let value = try #require(SharedRecordFormat.encode(record))
        #expect(value.readableBytes == 456)
        #expect(
            String(buffer: value)
                == #"{"v":1,"request_hash":"\#(hash.hex)","response_hash":"\#(hash.hex)","ecdsa":"0x\#(record.ecdsaSignature!.hex)","ed25519":"\#(record.ed25519Signature!.hex)"}"#
        )
        #expect(SharedRecordFormat.decode(value) == record)
        // Unsigned records are never encoded.
        #expect(SharedRecordFormat.encode(SignatureRecord(requestHash: hash, responseHash: hash)) == nil)
        let text = String(buffer: value)
        for bad in [
            text.uppercased(), text.replacingOccurrences(of: #""v":1"#, with: #""v":2"#), text + " ", " " + text,
            text.replacingOccurrences(of: "a1", with: "g1"), String(text.dropLast()), "",
            text.replacingOccurrences(of: "request_hash", with: "requesthash_"),
        ] {
            #expect(SharedRecordFormat.decode(ByteBuffer(string: bad)) == nil, "\(bad.prefix(40))")
        }
        var invalidUTF8 = value
        invalidUTF8.setInteger(UInt8(0xFF), at: 40)
        #expect(SharedRecordFormat.decode(invalidUTF8) == nil)
    }
}
