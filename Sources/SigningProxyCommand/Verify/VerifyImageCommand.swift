import ArgumentParser
import SigningProxyVerifier

/// `signing-proxy verify image (--digest D | --manifest FILE [--image-id ID]) [--service NAME]
/// (--file REPORT --nonce HEX [report options] | --compose-document FILE)`.
struct VerifyImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Check that the attested compose file runs exactly the expected signing-proxy image digest.",
        discussion: """
            With --file and --nonce the report is verified as `verify report` does, and the image pin is read from \
            its attested app-compose (info.tcb_info.app_compose, bound to RTMR3 by the compose hash). With \
            --compose-document only that file is read (an app-compose.json or a docker-compose file): a review \
            before deploying, nothing attested. The service must name its image as name@sha256:<digest>; a tag, an \
            interpolated value, another digest or a compose file that cannot be read with certainty fails. \
            A rebuild gives an image id (config digest), not the registry's digest: pass the registry's manifest \
            for the pinned digest with --manifest and the rebuild's id with --image-id (docs/DEPLOY.md).
            """
    )

    @Option(help: "Expected image digest: sha256:<64 hex>, or name@sha256:<64 hex>.")
    var digest: String?

    @Option(help: "The image manifest the registry serves for the pinned digest (raw JSON; its SHA-256 is the digest).")
    var manifest: String?

    @Option(help: "Image id (config digest) of your own rebuild; the manifest must name it. Needs --manifest.")
    var imageId: String?

    @Option(help: "Compose service that must pin the image.")
    var service = "signing-proxy"

    @Option(help: "File with the attestation report JSON (verified in full, as `verify report`).")
    var file: String?

    @Option(help: "The 32-byte nonce (64 hex) sent with the report request.")
    var nonce: String?

    @Option(help: "Check this compose document instead of a report: an app-compose.json or a docker-compose file.")
    var composeDocument: String?

    @Option(help: "Signing address selecting the entry of all_attestations (default: the top-level report).")
    var signingAddress: String?

    @OptionGroup var pins: VerifyPinOptions

    @OptionGroup var collateral: VerifyCollateralOptions

    @OptionGroup var nras: VerifyNRASOptions

    @OptionGroup var output: VerifyOutputOptions

    func validate() throws {
        guard digest != nil || manifest != nil else {
            throw ValidationError("give the expected image with --digest, or the registry's manifest with --manifest")
        }
        if let digest, !Self.isDigest(digest) {
            throw ValidationError("--digest must be sha256:<64 hex> (or name@sha256:<64 hex>)")
        }
        if imageId != nil && manifest == nil {
            throw ValidationError("--image-id needs --manifest (the manifest ties a registry digest to an image id)")
        }
        switch (file, composeDocument) {
        case (nil, nil): throw ValidationError("give a report (--file and --nonce) or a compose document (--compose-document)")
        case (_?, _?): throw ValidationError("give either a report (--file) or a compose document (--compose-document), not both")
        case (_?, nil) where nonce == nil: throw ValidationError("--file needs the --nonce the report was requested with")
        default: break
        }
    }

    /// `sha256:<64 hex>`, bare hex or `name@sha256:<64 hex>`, as the verifier accepts it.
    private static func isDigest(_ text: String) -> Bool {
        let hex = text.split(separator: "@").last.map { $0.hasPrefix("sha256:") ? $0.dropFirst(7) : $0 } ?? ""
        return hex.count == 64 && hex.allSatisfy(\.isHexDigit)
    }

    func run() async throws {
        let pin = ImagePin(
            service: service, digest: digest, manifest: try manifest.map(VerifyInput.read), rebuiltImageID: imageId)
        if let composeDocument {
            let report = ResponseVerifier().verifyImagePin(composeDocument: try VerifyInput.read(composeDocument), pin: pin)
            try VerificationPrinter.finish(report, json: output.json)
            return
        }
        guard let file, let nonce else { return }
        let input = try VerifyInput.read(file)
        let nonceBytes = try VerifyInput.nonce(nonce)
        var options = try pins.options()
        try collateral.configure(&options)
        let online = await OnlineEvidence.gather(
            for: input, signingAddress: signingAddress, collateral: collateral, nras: nras, into: &options)
        let report = ResponseVerifier(options: options).verifyAttestation(
            input, nonce: nonceBytes, signingAddress: signingAddress, imagePin: pin)
        try VerificationPrinter.finish(try online.apply(to: report), json: output.json)
    }
}
