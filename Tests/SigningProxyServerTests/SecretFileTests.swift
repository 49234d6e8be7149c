import Foundation
import SigningProxyServer
import Testing

@Suite("Secrets from files: TOKEN_FILE, DEV_KEY_SEED_FILE, --token-file, --dev-key-seed-file")
struct SecretFileTests {
    /// A fresh directory for one test's files, removed afterwards.
    private static func withDirectory(_ body: (URL) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("secret-file-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(directory)
    }

    private static func write(_ text: String, to url: URL) throws {
        try Data(text.utf8).write(to: url)
    }

    @Test("a token file is read as TOKEN would be: trailing newline and blanks ignored, comma lists kept")
    func tokenFileFromEnvironment() throws {
        try Self.withDirectory { directory in
            let file = directory.appendingPathComponent("token")
            try Self.write("s3cret\n", to: file)
            #expect(try ProxyConfiguration(environment: ["TOKEN_FILE": file.path]).tokens == ["s3cret"])
            try Self.write("  first , second\r\n\n", to: file)
            #expect(try ProxyConfiguration(environment: ["TOKEN_FILE": file.path]).tokens == ["first", "second"])
            // An empty TOKEN is no token: the file is used.
            #expect(try ProxyConfiguration(environment: ["TOKEN": "", "TOKEN_FILE": file.path]).tokens == ["first", "second"])
        }
    }

    @Test("a seed file gives the keys the same seed in DEV_KEY_SEED gives")
    func seedFileFromEnvironment() throws {
        try Self.withDirectory { directory in
            let file = directory.appendingPathComponent("seed")
            try Self.write("dev-seed\n", to: file)
            let fromFile = try ProxyConfiguration(environment: ["DEV_KEY_SEED_FILE": file.path])
            let fromVariable = try ProxyConfiguration(environment: ["DEV_KEY_SEED": "dev-seed"])
            #expect(fromFile.devKeySeed == "dev-seed")
            #expect(fromFile.devKeySeed == fromVariable.devKeySeed)
        }
    }

    @Test("a value and its file together are refused, in the environment and on the command line")
    func bothSet() throws {
        try Self.withDirectory { directory in
            let file = directory.appendingPathComponent("secret")
            try Self.write("x\n", to: file)
            #expect(throws: ConfigurationError.invalid("TOKEN_FILE", "and TOKEN are both set; set one")) {
                try ProxyConfiguration(environment: ["TOKEN": "a", "TOKEN_FILE": file.path])
            }
            #expect(throws: ConfigurationError.invalid("DEV_KEY_SEED_FILE", "and DEV_KEY_SEED are both set; set one")) {
                try ProxyConfiguration(environment: ["DEV_KEY_SEED": "a", "DEV_KEY_SEED_FILE": file.path])
            }
            var configuration = ProxyConfiguration()
            #expect(throws: ConfigurationError.invalid("--token-file", "and --token are both given; pass one")) {
                try configuration.applySecretOptions(token: "a", tokenFile: file.path, devKeySeed: nil, devKeySeedFile: nil)
            }
            #expect(throws: ConfigurationError.invalid("--dev-key-seed-file", "and --dev-key-seed are both given; pass one")) {
                try configuration.applySecretOptions(token: nil, tokenFile: nil, devKeySeed: "a", devKeySeedFile: file.path)
            }
        }
    }

    @Test("an option overrides the environment, a file option included")
    func optionsOverride() throws {
        try Self.withDirectory { directory in
            let tokenFile = directory.appendingPathComponent("token")
            let seedFile = directory.appendingPathComponent("seed")
            try Self.write("from-file\n", to: tokenFile)
            try Self.write("seed-from-file\n", to: seedFile)
            var configuration = try ProxyConfiguration(environment: ["TOKEN": "from-env", "DEV_KEY_SEED": "seed-from-env"])
            try configuration.applySecretOptions(token: nil, tokenFile: tokenFile.path, devKeySeed: nil, devKeySeedFile: seedFile.path)
            #expect(configuration.tokens == ["from-file"])
            #expect(configuration.devKeySeed == "seed-from-file")
            try configuration.applySecretOptions(token: "a,b", tokenFile: nil, devKeySeed: "s", devKeySeedFile: nil)
            #expect(configuration.tokens == ["a", "b"])
            #expect(configuration.devKeySeed == "s")
            // No options: the environment's values stay.
            var untouched = try ProxyConfiguration(environment: ["TOKEN": "from-env"])
            try untouched.applySecretOptions(token: nil, tokenFile: nil, devKeySeed: nil, devKeySeedFile: nil)
            #expect(untouched.tokens == ["from-env"])
        }
    }

    @Test("missing, unreadable, empty, oversized and non-UTF-8 files are refused with the path and no contents")
    func badFiles() throws {
        try Self.withDirectory { directory in
            let missing = directory.appendingPathComponent("missing").path
            #expect(throws: ConfigurationError.invalid("TOKEN_FILE", "names a file that cannot be read: \(missing) (No such file or directory)")) {
                try ProxyConfiguration(environment: ["TOKEN_FILE": missing])
            }
            #expect(throws: ConfigurationError.invalid("--token-file", "names a file that cannot be read: \(missing) (No such file or directory)")) {
                var configuration = ProxyConfiguration()
                try configuration.applySecretOptions(token: nil, tokenFile: missing, devKeySeed: nil, devKeySeedFile: nil)
            }
            #expect(throws: ConfigurationError.invalid("DEV_KEY_SEED_FILE", "names a file that cannot be read: \(directory.path) (Is a directory)")) {
                try ProxyConfiguration(environment: ["DEV_KEY_SEED_FILE": directory.path])
            }
            let blank = directory.appendingPathComponent("blank")
            for contents in ["", "\n", "  \r\n\t "] {
                try Self.write(contents, to: blank)
                #expect(throws: ConfigurationError.invalid("TOKEN_FILE", "names an empty file: \(blank.path)")) {
                    try ProxyConfiguration(environment: ["TOKEN_FILE": blank.path])
                }
            }
            let large = directory.appendingPathComponent("large")
            try Data(repeating: UInt8(ascii: "a"), count: ProxyConfiguration.maxSecretFileSize + 1).write(to: large)
            #expect(throws: ConfigurationError.invalid("TOKEN_FILE", "names a file larger than \(ProxyConfiguration.maxSecretFileSize) bytes: \(large.path)")) {
                try ProxyConfiguration(environment: ["TOKEN_FILE": large.path])
            }
            // A device that never ends is cut at the limit rather than read forever.
            #expect(throws: ConfigurationError.invalid("TOKEN_FILE", "names a file larger than \(ProxyConfiguration.maxSecretFileSize) bytes: /dev/zero")) {
                try ProxyConfiguration(environment: ["TOKEN_FILE": "/dev/zero"])
            }
            let binary = directory.appendingPathComponent("binary")
            try Data([0x73, 0xFF, 0xFE, 0x0A]).write(to: binary)
            #expect(throws: ConfigurationError.invalid("DEV_KEY_SEED_FILE", "names a file that is not UTF-8 text: \(binary.path)")) {
                try ProxyConfiguration(environment: ["DEV_KEY_SEED_FILE": binary.path])
            }
            // Exactly at the limit is fine.
            try Data(repeating: UInt8(ascii: "a"), count: ProxyConfiguration.maxSecretFileSize).write(to: large)
            #expect(try ProxyConfiguration(environment: ["TOKEN_FILE": large.path]).tokens.first?.count == ProxyConfiguration.maxSecretFileSize)
        }
    }

    @Test("an unreadable file (mode 000) is refused, unless this runs as root, which reads anything")
    func permissionDenied() throws {
        try Self.withDirectory { directory in
            let file = directory.appendingPathComponent("locked")
            try Self.write("s3cret\n", to: file)
            try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: file.path)
            if geteuid() == 0 {
                #expect(try ProxyConfiguration(environment: ["TOKEN_FILE": file.path]).tokens == ["s3cret"])
            } else {
                #expect(throws: ConfigurationError.invalid("TOKEN_FILE", "names a file that cannot be read: \(file.path) (Permission denied)")) {
                    try ProxyConfiguration(environment: ["TOKEN_FILE": file.path])
                }
            }
        }
    }
}
