import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Checks that a compose document pins the expected image by digest: `image.expected` (only when the expectation is
/// unusable), `image.manifest`, `image.compose`, `image.pin` and the advisory `image.pre-launch`.
enum ImagePinVerification {
    /// The compose text a check reads, and where it came from.
    struct Source {
        /// An app-compose JSON document or a docker-compose file.
        var document: [UInt8]?
        /// Where `document` came from, for messages ("info.tcb_info.app_compose", "the given compose document").
        var origin: String
        /// Why there is no document.
        var missing: String = "no compose document"
    }

    static func run(_ pin: ImagePin, source: Source, into checks: inout CheckList) {
        guard let expected = expectedDigest(pin, into: &checks) else {
            checks.fail("image.pin", "no valid expected digest to compare the pin with")
            return
        }
        guard let compose = composeFile(source, into: &checks) else {
            checks.fail("image.pin", "no readable compose file, so nothing pins the image")
            return
        }
        checkPin(compose, service: pin.service, expected: expected, into: &checks)
    }

    // MARK: Expected digest

    /// The digest to look for: the given one, or the manifest's, which must agree and name the rebuilt image id.
    private static func expectedDigest(_ pin: ImagePin, into checks: inout CheckList) -> String? {
        var given: String?
        if let text = pin.digest {
            given = ImageReference.normalizedDigest(text)
            if given == nil {
                checks.fail("image.expected", "the expected digest is not sha256:<64 hex>")
                return nil
            }
        }
        guard let manifest = pin.manifest else {
            if pin.rebuiltImageID != nil {
                checks.fail("image.expected", "a rebuilt image id needs the registry's manifest to be compared with the pin")
                return nil
            }
            return given
        }
        let manifestDigest = "sha256:" + HexFormatting.full(SHA256.hash(data: manifest))
        if let given, given != manifestDigest {
            checks.fail(
                "image.manifest", "the manifest given hashes to \(manifestDigest), not the expected digest \(given)")
            return nil
        }
        struct Manifest: Decodable {
            struct Descriptor: Decodable { var digest: String }
            var config: Descriptor?
            var manifests: [Descriptor]?
        }
        guard case .success(let decoded) = LenientJSON.decode(Manifest.self, from: manifest, what: "image manifest") else {
            checks.fail("image.manifest", "the manifest given is not an image manifest (JSON with config.digest)")
            return nil
        }
        guard let config = decoded.config?.digest else {
            let detail =
                decoded.manifests != nil
                ? "the manifest given is an index of \(decoded.manifests?.count ?? 0) platform manifests: give the platform's manifest"
                : "the manifest given has no config.digest"
            checks.fail("image.manifest", detail)
            return nil
        }
        guard let rebuilt = pin.rebuiltImageID else {
            checks.pass(
                "image.manifest",
                "manifest digest \(manifestDigest) (image id \(config); no rebuilt image id given to compare it with)")
            return manifestDigest
        }
        guard let rebuiltID = ImageReference.normalizedDigest(rebuilt) else {
            checks.fail("image.manifest", "the rebuilt image id is not sha256:<64 hex>")
            return nil
        }
        checks.expect(
            config.lowercased() == rebuiltID, "image.manifest",
            pass: "manifest \(manifestDigest) names image id \(config), the id of the rebuild",
            fail: "manifest \(manifestDigest) names image id \(config), but the rebuild's id is \(rebuiltID): "
                + "the pinned image is not what the source builds")
        return config.lowercased() == rebuiltID ? manifestDigest : nil
    }

    // MARK: Compose

    /// The docker-compose file inside an app-compose document, or the document itself.
    private static func composeFile(_ source: Source, into checks: inout CheckList) -> ComposeDocument? {
        let id = "image.compose"
        guard let document = source.document else {
            checks.fail(id, source.missing)
            return nil
        }
        var text: String
        var origin = source.origin
        if let app = AppComposeDocument.decode(document) {
            if let runner = app.runner, runner != "docker-compose" {
                checks.fail(id, "\(source.origin) runs the \"\(runner)\" runner, not docker-compose")
                return nil
            }
            guard let file = app.dockerComposeFile else {
                checks.fail(id, "\(source.origin) has no docker_compose_file")
                return nil
            }
            if let script = app.preLaunchScript, !script.trimmingASCIIWhitespace().isEmpty {
                checks.fail(
                    "image.pre-launch",
                    "\(source.origin) has a pre_launch_script (\(script.utf8.count) bytes) that runs before compose and can start "
                        + "other containers: review it", mandatory: false)
            }
            text = file
            origin += " (its docker_compose_file)"
        } else {
            guard let decoded = String(validating: document, as: UTF8.self) else {
                checks.fail(id, "\(source.origin) is not UTF-8 text")
                return nil
            }
            text = decoded
        }
        do {
            let compose = try ComposeDocument(yaml: text)
            checks.pass(id, "read \(origin) (\(text.utf8.count) bytes): services \(compose.root.value("services")?.keys.joined(separator: ", ") ?? "(none)")")
            return compose
        } catch {
            checks.fail(id, "\(origin) cannot be read with certainty: \(error.description)")
            return nil
        }
    }

    // MARK: Pin

    private static func checkPin(_ compose: ComposeDocument, service name: String, expected: String, into checks: inout CheckList) {
        let id = "image.pin"
        guard case .mapping = compose.root.value("services") ?? .empty else {
            checks.fail(id, "the compose file has no services mapping (\(compose.root.value("services")?.kind ?? "absent"))")
            return
        }
        guard let service = compose.service(name) else {
            let names = compose.root.value("services")?.keys ?? []
            checks.fail(id, "no service \"\(name)\" in the compose file (services: \(names.isEmpty ? "none" : names.joined(separator: ", ")))")
            return
        }
        guard case .mapping = service else {
            checks.fail(id, "service \"\(name)\" is \(service.kind), not a mapping")
            return
        }
        if service.value(ComposeDocument.mergeKey) != nil {
            checks.fail(id, "service \"\(name)\" uses a merge key (<<), whose keys this check cannot see")
            return
        }
        guard let image = service.value("image") else {
            let build = service.value("build") != nil ? " (it has build:, so docker-compose would build it from source)" : ""
            checks.fail(id, "service \"\(name)\" names no image\(build)")
            return
        }
        guard case .scalar(let text) = image else {
            checks.fail(id, "service \"\(name)\": image is \(image.kind), not a single image reference")
            return
        }
        let reference = ImageReference(text)
        let quotedText = "\"\(text)\""
        if reference.name.contains("$") || text.contains("$") {
            checks.fail(id, "service \"\(name)\": image \(quotedText) is interpolated from the environment, not a fixed digest")
            return
        }
        if let malformed = reference.malformedDigest {
            checks.fail(id, "service \"\(name)\": image \(quotedText) has \"\(malformed)\" after @, not sha256:<64 lowercase hex>")
            return
        }
        guard let digest = reference.digest else {
            checks.fail(
                id,
                "service \"\(name)\": image \(quotedText) pins a tag (\(reference.tag ?? "latest, implied")), not a digest: "
                    + "the registry can serve anything under it")
            return
        }
        guard digest == expected else {
            checks.fail(id, "service \"\(name)\" pins \(digest), not the expected \(expected)")
            return
        }
        let tagNote = reference.tag.map { " (the tag \"\($0)\" is ignored when a digest is given)" } ?? ""
        checks.pass(id, "service \"\(name)\" pins \(reference.name)@\(digest)\(tagNote)")
    }
}
