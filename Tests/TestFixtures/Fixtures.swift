import Foundation

/// The test data in the repository's `Fixtures/` folder (each set with its `NOTICE.md`).
///
/// Found from this source file: the nearest directory above it that holds `Package.swift` is the package
/// root, so tests find the data from any working directory and in any clone, with nothing beside it.
package enum Fixtures {
    /// A fixture file that is not where it should be.
    package struct Missing: Error, CustomStringConvertible {
        package let description: String
    }

    /// The directory holding `Package.swift`.
    package static let packageRoot: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        return directory
    }()

    /// `Fixtures/` in the package root.
    package static let root = packageRoot.appendingPathComponent("Fixtures")

    /// `Fixtures/<relative>`, e.g. `dstack/appkeys.json` or `vllm/chat-stream.body`.
    package static func url(_ relative: String) -> URL {
        root.appendingPathComponent(relative)
    }

    /// The bytes of `Fixtures/<relative>`.
    package static func bytes(_ relative: String) throws -> [UInt8] {
        let location = url(relative)
        guard let data = FileManager.default.contents(atPath: location.path) else {
            throw Missing(description: "fixture Fixtures/\(relative) not found at \(location.path)")
        }
        return [UInt8](data)
    }
}
