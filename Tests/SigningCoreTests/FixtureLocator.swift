import Foundation

/// Finds files under `shared/fixtures`, which sits beside the package root (`../shared/fixtures`).
enum FixtureLocator {
    struct NotFound: Error, CustomStringConvertible {
        var description: String
    }

    /// The package root: the nearest directory above this source file that holds `Package.swift`.
    static func packageRoot(filePath: String = #filePath) throws -> URL {
        var directory = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        throw NotFound(description: "no Package.swift above \(filePath)")
    }

    /// The bytes of `shared/fixtures/<relativePath>`.
    static func bytes(_ relativePath: String) throws -> [UInt8] {
        let url = try packageRoot()
            .deletingLastPathComponent()
            .appendingPathComponent("shared/fixtures")
            .appendingPathComponent(relativePath)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw NotFound(description: "fixture \(relativePath) not found at \(url.path)")
        }
        return [UInt8](data)
    }
}
