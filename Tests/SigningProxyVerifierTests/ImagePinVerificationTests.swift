import Crypto
import Foundation
import Testing

@testable import SigningProxyVerifier

@Suite("Image pins: the attested compose file runs exactly the expected image digest")
struct ImagePinVerificationTests {
    static let digest = "sha256:" + String(repeating: "ab", count: 32)
    static let other = "sha256:" + String(repeating: "cd", count: 32)

    static func compose(image: String, service: String = "signing-proxy") -> String {
        """
        # measured: pin by digest
        services:
          vllm:
            image: vllm/vllm-openai@\(other)
            command:
              - --model
              - tiny
          \(service):
            image: \(image)
            ports:
              - "127.0.0.1:8000:8000"
            environment:
              MODEL_NAME: ${MODEL_NAME}
        volumes:
          hf-cache:
        """
    }

    /// An app-compose document as dstack measures it, holding `compose`.
    static func appCompose(_ compose: String, extra: [String: Any] = [:]) throws -> String {
        var object: [String: Any] = [
            "manifest_version": 2, "name": "signing-proxy", "runner": "docker-compose", "docker_compose_file": compose,
            "kms_enabled": true, "pre_launch_script": "",
        ]
        for (key, value) in extra { object[key] = value }
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    func check(_ document: String, _ pin: ImagePin = ImagePin(digest: digest)) -> VerificationReport {
        ResponseVerifier().verifyImagePin(composeDocument: Array(document.utf8), pin: pin)
    }

    @Test("app-compose and plain compose files pinning the digest pass, with comments, quotes and a tag beside the digest")
    func matchingPins() throws {
        for image in [
            "registry.example:5000/team/signing-proxy@\(Self.digest)",
            "\"registry.example/signing-proxy@\(Self.digest)\" # the release",
            "'signing-proxy@\(Self.digest)'",
            "signing-proxy:1.2@\(Self.digest)",
        ] {
            let compose = Self.compose(image: image)
            for document in [compose, try Self.appCompose(compose)] {
                let report = check(document)
                #expect(report.ok, "\(image): \(report.failures)")
                #expect(report.check("image.pin")?.status == .pass)
            }
        }
        // Expected digest given bare, upper case or as a reference.
        for given in [String(Self.digest.dropFirst(7)).uppercased(), "x/signing-proxy@\(Self.digest)"] {
            #expect(check(Self.compose(image: "signing-proxy@\(Self.digest)"), ImagePin(digest: given)).ok)
        }
    }

    @Test("bad pins name what is wrong: no such service, a tag, another digest, a malformed digest, interpolation, build")
    func badPins() throws {
        let cases: [(String, String, String)] = [
            (Self.compose(image: "x@\(Self.digest)", service: "proxy"), "no service \"signing-proxy\"", "vllm, proxy"),
            (Self.compose(image: "registry.example/signing-proxy:1.2"), "pins a tag (1.2)", "not a digest"),
            (Self.compose(image: "registry.example/signing-proxy"), "pins a tag (latest, implied)", "not a digest"),
            (Self.compose(image: "signing-proxy@\(Self.other)"), "pins \(Self.other)", "not the expected \(Self.digest)"),
            (Self.compose(image: "signing-proxy@\(Self.digest.uppercased().replacing("SHA256", with: "sha256"))"), "after @", "lowercase"),
            (Self.compose(image: "signing-proxy@sha256:abcd"), "after @", "not sha256"),
            (Self.compose(image: "signing-proxy@sha512:\(String(repeating: "ab", count: 64))"), "after @", "not sha256"),
            (Self.compose(image: "${IMAGE}"), "interpolated", "not a fixed digest"),
            (Self.compose(image: "signing-proxy@sha256:${DIGEST}"), "interpolated", "environment"),
            (Self.compose(image: "[a, b]"), "image is a flow collection", "not a single image reference"),
            (Self.compose(image: "&pinned signing-proxy@\(Self.digest)"), "anchor, alias or tag", "not a single image"),
            (Self.compose(image: "*pinned"), "anchor, alias or tag", "not a single image"),
            ("services:\n  signing-proxy:\n    build: .\n", "names no image", "build:"),
            ("services:\n  signing-proxy:\n    <<: *defaults\n    image: s@\(Self.digest)\n", "merge key", "cannot see"),
            ("services:\n  signing-proxy:\n    image: >\n      s@\(Self.digest)\n", "block scalar", "not a single"),
            ("services:\n  signing-proxy:\n    image: s@sha256:\n      \(String(Self.digest.dropFirst(7)))\n", "multi-line", "not a single"),
            ("version: \"3\"\nservices: []\n", "no services mapping", "flow collection"),
            ("name: x\n", "no services mapping", "absent"),
        ]
        for (document, first, second) in cases {
            let report = check(document)
            let pin = report.check("image.pin")
            #expect(!report.ok)
            #expect(pin?.status == .fail)
            #expect(pin?.detail.contains(first) == true, "\(pin?.detail ?? "no image.pin") lacks \(first)")
            #expect(pin?.detail.contains(second) == true, "\(pin?.detail ?? "no image.pin") lacks \(second)")
        }
    }

    @Test("malformed compose files are refused, not guessed: duplicate keys, tabs, several documents, flow style, quotes")
    func malformedCompose() throws {
        let pinned = "s@\(Self.digest)"
        let cases: [(String, String)] = [
            ("services:\n  signing-proxy:\n    image: \(pinned)\n    image: s@\(Self.other)\n", "line 4: duplicate key \"image\""),
            ("services:\n  signing-proxy:\n    image: \(pinned)\n  signing-proxy:\n    image: x\n", "line 4: duplicate key \"signing-proxy\""),
            ("services:\n  signing-proxy:\n\timage: \(pinned)\n", "line 3: a tab"),
            ("services:\n  signing-proxy:\n    image: \(pinned)\n---\nservices: {}\n", "line 4: a second YAML document"),
            ("{\"services\": {\"signing-proxy\": {\"image\": \"\(pinned)\"}}}", "line 1: a flow-style"),
            ("services:\n  signing-proxy:\n    image: \"\(pinned)\n", "line 3: an unterminated"),
            ("services:\n  signing-proxy:\n      image: \(pinned)\n    ports: []\n", "line 4: inconsistent indentation"),
            ("services:\n  signing-proxy:\n    image: \(pinned)\n   ports: []\n", "line 4: inconsistent indentation"),
            ("- services\n", "line 1: the document is not a mapping"),
            ("services:\n  ? signing-proxy\n  : image\n", "line 2: expected `key:`"),
            ("%YAML 1.2\n---\nservices: {}\n", "line 1: a YAML directive"),
            ("", "line 1: the document is not a mapping"),
        ]
        for (document, expected) in cases {
            let report = check(document)
            let compose = report.check("image.compose")
            #expect(compose?.status == .fail, "\(document)")
            #expect(compose?.detail.contains(expected) == true, "\(compose?.detail ?? "no image.compose") lacks \(expected)")
            #expect(report.check("image.pin")?.status == .fail)
        }
        // An app-compose whose document is not for docker-compose.
        let bash = try Self.appCompose("", extra: ["runner": "bash", "docker_compose_file": NSNull()])
        #expect(check(bash).check("image.compose")?.detail.contains("\"bash\" runner") == true)
    }

    @Test("the real app-compose fixture: block scalars skipped, no signing-proxy service, pre-launch script flagged")
    func dstackFixture() throws {
        let report = check(String(decoding: try Fixtures.bytes("dstack/app-compose.json"), as: UTF8.self))
        #expect(report.check("image.compose")?.status == .pass)
        #expect(report.check("image.pin")?.detail == "no service \"signing-proxy\" in the compose file (services: dstack-agent, dstack-verifier)")
        let preLaunch = report.check("image.pre-launch")
        #expect(preLaunch?.status == .fail && preLaunch?.mandatory == false)
        let verifier = check(
            String(decoding: try Fixtures.bytes("dstack/app-compose.json"), as: UTF8.self),
            ImagePin(service: "dstack-verifier", digest: Self.digest))
        #expect(verifier.check("image.pin")?.detail.contains("pins a tag (0.5.4)") == true)
    }

    @Test("the repository's compose files: the deployed one pins by digest or names what to replace; the CI variant reads")
    func repositoryComposeFiles() throws {
        for name in ["docker-compose.yaml", "docker-compose.ci.yaml"] {
            let url = Fixtures.packageRoot.appendingPathComponent(name)
            let report = check(String(decoding: try Data(contentsOf: url), as: UTF8.self))
            #expect(report.check("image.compose")?.status == .pass, "\(name): \(report.check("image.compose")?.detail ?? "")")
            #expect(report.check("image.pin") != nil)
        }
    }

    @Test("a rebuild: the manifest's digest is the pin and its config digest must be the rebuild's image id")
    func manifestAndRebuild() throws {
        let imageID = "sha256:" + String(repeating: "12", count: 32)
        let manifest = Array(
            #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\#(imageID)","size":1}}"#
                .utf8)
        let manifestDigest = "sha256:" + SHA256.hash(data: manifest).map { String(format: "%02x", $0) }.joined()
        let compose = Self.compose(image: "signing-proxy@\(manifestDigest)")

        let rebuilt = check(compose, ImagePin(manifest: manifest, rebuiltImageID: imageID))
        #expect(rebuilt.ok, "\(rebuilt.failures)")
        #expect(rebuilt.check("image.manifest")?.detail.contains("the id of the rebuild") == true)
        #expect(check(compose, ImagePin(digest: manifestDigest, manifest: manifest)).ok)

        let otherBuild = check(compose, ImagePin(manifest: manifest, rebuiltImageID: Self.other))
        #expect(otherBuild.check("image.manifest")?.detail.contains("is not what the source builds") == true)
        #expect(!otherBuild.ok)
        let wrongDigest = check(compose, ImagePin(digest: Self.digest, manifest: manifest))
        #expect(wrongDigest.check("image.manifest")?.detail.contains("hashes to \(manifestDigest)") == true)
        let index = check(compose, ImagePin(manifest: Array(#"{"schemaVersion":2,"manifests":[{"digest":"x"}]}"#.utf8)))
        #expect(index.check("image.manifest")?.detail.contains("an index of 1 platform manifests") == true)
        #expect(check(compose, ImagePin(digest: "sha256:1234")).check("image.expected")?.detail.contains("not sha256:<64 hex>") == true)
        #expect(check(compose, ImagePin(digest: Self.digest, rebuiltImageID: imageID)).check("image.expected")?.status == .fail)
    }

    @Test("from a report: the pin is read from the attested app_compose, whose compose hash is checked")
    func fromReport() throws {
        let verifier = ResponseVerifier(options: AttestationVerificationTests.options)
        let pinned = try Self.appCompose(Self.compose(image: "registry.example/signing-proxy@\(Self.digest)"))
        let report = try SimulatedReport.make(composeOverride: pinned).json()
        let result = verifier.verifyAttestation(report, nonce: Fixtures.nonce, imagePin: ImagePin(digest: Self.digest))
        #expect(result.check("compose.hash")?.status == .pass)
        #expect(result.check("image.pin")?.status == .pass)
        #expect(result.check("image.compose")?.detail.hasPrefix("read info.tcb_info.app_compose (its docker_compose_file)") == true)
        #expect(result.failures.map(\.id) == ["dcap.quote-signature"])

        let mismatch = verifier.verifyAttestation(report, nonce: Fixtures.nonce, imagePin: ImagePin(digest: Self.other))
        #expect(mismatch.check("image.pin")?.detail == "service \"signing-proxy\" pins \(Self.digest), not the expected \(Self.other)")

        var bare = try SimulatedReport.make(composeOverride: pinned).object()
        bare["info"] = ["app_id": Vectors.simulatorAppID]
        bare["all_attestations"] = nil
        let missing = verifier.verifyAttestation(
            try Fixtures.jsonBytes(bare), nonce: Fixtures.nonce, imagePin: ImagePin(digest: Self.digest))
        #expect(missing.check("image.compose")?.detail == "the report has no info.tcb_info.app_compose")
        let notJSON = verifier.verifyAttestation(Array("nope".utf8), nonce: Fixtures.nonce, imagePin: ImagePin(digest: Self.digest))
        #expect(notJSON.check("image.compose")?.status == .fail)
    }
}
