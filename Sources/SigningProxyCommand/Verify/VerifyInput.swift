import ArgumentParser
import Foundation
import SigningCrypto

/// Reading the verifier's inputs from the command line.
enum VerifyInput {
    /// The bytes of `path` (`-` for standard input).
    static func read(_ path: String) throws -> [UInt8] {
        if path == "-" {
            return Array(FileHandle.standardInput.readDataToEndOfFile())
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path)")
        }
        return Array(data)
    }

    /// A 32-byte nonce given as 64 hex characters.
    static func nonce(_ text: String) throws -> [UInt8] {
        guard let bytes = try? Hex.decode(text), bytes.count == 32 else {
            throw ValidationError("--nonce must be 64 hex characters (32 bytes)")
        }
        return bytes
    }
}
