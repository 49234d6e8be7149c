import Testing

@testable import RedisClient

@Suite("Redis configuration from the Python proxy's environment names")
struct RedisConfigurationTests {
    @Test("no REDIS_HOST and no REDIS_URL: no shared store")
    func unset() throws {
        #expect(try RedisConfiguration.fromEnvironment([:]) == nil)
        #expect(try RedisConfiguration.fromEnvironment(["REDIS_HOST": "", "REDIS_PASSWORD": ""]) == nil)
    }

    @Test("REDIS_HOST alone takes port 6379 and database 0, no AUTH")
    func hostOnly() throws {
        let configuration = try #require(try RedisConfiguration.fromEnvironment(["REDIS_HOST": "redis.internal"]))
        #expect(configuration.host == "redis.internal")
        #expect(configuration.port == 6379)
        #expect(configuration.database == 0)
        #expect(configuration.password == nil)
        #expect(configuration.username == nil)
    }

    @Test("all four variables")
    func allVariables() throws {
        let configuration = try #require(
            try RedisConfiguration.fromEnvironment([
                "REDIS_HOST": "10.0.0.5", "REDIS_PORT": "6380", "REDIS_PASSWORD": "s3cret", "REDIS_DB": "3",
            ]))
        #expect(configuration.endpoint == "10.0.0.5:6380")
        #expect(configuration.password == "s3cret")
        #expect(configuration.database == 3)
        #expect(configuration.description == "redis://:***@10.0.0.5:6380/3")
        #expect(!"\(configuration)".contains("s3cret"))
    }

    @Test(
        "a bad port is refused with the variable's name",
        arguments: ["0", "65536", "-1", "+6379", " 6379", "6379 ", "63a9", "0x10", "99999999999", "6379.0"])
    func badPort(_ value: String) {
        #expect(throws: RedisConfigurationError.invalidPort(variable: "REDIS_PORT", value: value)) {
            try RedisConfiguration.fromEnvironment(["REDIS_HOST": "h", "REDIS_PORT": value])
        }
    }

    @Test("a bad database is refused with the variable's name", arguments: ["-1", "2147483648", "one", "1 ", "+1", "1e3"])
    func badDatabase(_ value: String) {
        #expect(throws: RedisConfigurationError.invalidDatabase(variable: "REDIS_DB", value: value)) {
            try RedisConfiguration.fromEnvironment(["REDIS_HOST": "h", "REDIS_DB": value])
        }
    }

    @Test("port and database bounds are accepted")
    func bounds() throws {
        let low = try #require(try RedisConfiguration.fromEnvironment(["REDIS_HOST": "h", "REDIS_PORT": "1", "REDIS_DB": "0"]))
        #expect(low.port == 1 && low.database == 0)
        let high = try #require(
            try RedisConfiguration.fromEnvironment(["REDIS_HOST": "h", "REDIS_PORT": "65535", "REDIS_DB": "2147483647"]))
        #expect(high.port == 65535 && high.database == 2_147_483_647)
    }

    @Test("port, password or database without a host is refused, not ignored")
    func missingHost() {
        #expect(throws: RedisConfigurationError.missingHost("REDIS_PORT, REDIS_DB")) {
            try RedisConfiguration.fromEnvironment(["REDIS_PORT": "6379", "REDIS_DB": "1"])
        }
    }

    @Test("a URL or spaces in REDIS_HOST are refused, without the password")
    func hostIsNotAURL() throws {
        #expect(throws: RedisConfigurationError.invalidHost("cache:6379/0")) {
            try RedisConfiguration.fromEnvironment(["REDIS_HOST": "redis://:pw@cache:6379/0"])
        }
        #expect(throws: RedisConfigurationError.invalidHost("cache 1")) {
            try RedisConfiguration.fromEnvironment(["REDIS_HOST": "cache 1"])
        }
        #expect(try RedisConfiguration.fromEnvironment(["REDIS_HOST": "::1"])?.endpoint == "[::1]:6379")
    }

    @Test("REDIS_URL forms")
    func urls() throws {
        let plain = try RedisConfiguration.parseURL("redis://cache:6390/2")
        #expect(plain.host == "cache" && plain.port == 6390 && plain.database == 2 && plain.password == nil)

        let bare = try RedisConfiguration.parseURL("redis://cache")
        #expect(bare.port == 6379 && bare.database == 0)
        #expect(try RedisConfiguration.parseURL("redis://cache/").database == 0)

        let passwordOnly = try RedisConfiguration.parseURL("redis://:p%40ss%2Fw0rd@cache:6379/0")
        #expect(passwordOnly.username == nil && passwordOnly.password == "p@ss/w0rd")

        let user = try RedisConfiguration.parseURL("REDIS://alice:pw@127.0.0.1:7000/15")
        #expect(user.username == "alice" && user.password == "pw" && user.host == "127.0.0.1" && user.port == 7000)
        #expect(user.database == 15)
        #expect(user.description == "redis://alice:***@127.0.0.1:7000/15")

        let unencodedAt = try RedisConfiguration.parseURL("redis://:a@b@cache")
        #expect(unencodedAt.password == "a@b" && unencodedAt.host == "cache")

        let v6 = try RedisConfiguration.parseURL("redis://[::1]:6400/1")
        #expect(v6.host == "::1" && v6.port == 6400 && v6.endpoint == "[::1]:6400")

        let fromEnvironment = try #require(try RedisConfiguration.fromEnvironment(["REDIS_URL": "redis://:x@h:1/1"]))
        #expect(fromEnvironment.password == "x")
    }

    @Test("bad REDIS_URLs are refused with a reason that never shows the password")
    func badURLs() {
        let cases: [(String, RedisConfigurationError)] = [
            ("rediss://:pw@h", .invalidURL("TLS (rediss://) is not supported")),
            ("http://h:6379", .invalidURL("the scheme must be redis://")),
            ("unix:///run/redis.sock", .invalidURL("the scheme must be redis://")),
            ("h:6379", .invalidURL("the scheme must be redis://")),
            ("redis://", .invalidURL("no host")),
            ("redis://:pw@:6379", .invalidURL("no host")),
            ("redis://alice@h", .invalidURL("a user name needs a password (redis://user:password@host)")),
            ("redis://alice:@h", .invalidURL("a user name needs a password")),
            ("redis://:p%4@h", .invalidURL("invalid percent-encoding in the user or password")),
            ("redis://h:6379?db=1", .invalidURL("query parameters and fragments are not supported")),
            ("redis://[::1", .invalidURL("unclosed [ in the IPv6 host")),
            ("redis://h:port", .invalidPort(variable: "REDIS_URL", value: "port")),
            ("redis://h:0", .invalidPort(variable: "REDIS_URL", value: "0")),
            ("redis://h:", .invalidPort(variable: "REDIS_URL", value: "")),
            ("redis://h/x", .invalidDatabase(variable: "REDIS_URL", value: "x")),
            ("redis://h/1/2", .invalidDatabase(variable: "REDIS_URL", value: "1/2")),
        ]
        for (url, expected) in cases {
            #expect(throws: expected, "\(url)") { try RedisConfiguration.parseURL(url) }
            do {
                _ = try RedisConfiguration.parseURL(url)
            } catch {
                #expect(!error.description.contains("pw"), "\(error)")
            }
        }
    }

    @Test("REDIS_URL together with the separate variables is refused")
    func conflicting() {
        #expect(throws: RedisConfigurationError.conflicting("REDIS_HOST, REDIS_PASSWORD")) {
            try RedisConfiguration.fromEnvironment(["REDIS_URL": "redis://h", "REDIS_HOST": "h", "REDIS_PASSWORD": "x"])
        }
    }

    @Test("errors describe themselves")
    func descriptions() {
        #expect(
            RedisConfigurationError.invalidPort(variable: "REDIS_PORT", value: "abc").description
                == "REDIS_PORT must be a port number from 1 to 65535, got \"abc\"")
    }
}
