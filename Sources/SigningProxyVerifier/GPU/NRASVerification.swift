import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `gpu.nras`: NVIDIA NRAS's signed verdict on the GPU evidence. Every token
/// is verified against NRAS's keys before a claim is read; then the platform token must carry our
/// nonce, a true overall result and a digest of each GPU token, and each GPU token must report a
/// parsed, signed, certified report, matching RIMs and measurements, secure boot and no debug.
enum NRASVerification {
    static let id = "gpu.nras"
    /// Leeway for `iat`/`nbf`/`exp` against the verifier's clock.
    static let clockSkew: TimeInterval = 60

    /// Per-GPU claims that must be `true`.
    static let requiredGPUFlags = [
        "x-nvidia-gpu-attestation-report-parsed",
        "x-nvidia-gpu-attestation-report-nonce-match",
        "x-nvidia-gpu-attestation-report-signature-verified",
        "x-nvidia-gpu-attestation-report-cert-chain-validated",
        "x-nvidia-gpu-driver-rim-fetched",
        "x-nvidia-gpu-driver-rim-schema-validated",
        "x-nvidia-gpu-driver-rim-signature-verified",
        "x-nvidia-gpu-driver-rim-cert-validated",
        "x-nvidia-gpu-driver-rim-measurements-available",
        "x-nvidia-gpu-vbios-rim-fetched",
        "x-nvidia-gpu-vbios-rim-schema-validated",
        "x-nvidia-gpu-vbios-rim-signature-verified",
        "x-nvidia-gpu-vbios-rim-cert-validated",
        "x-nvidia-gpu-vbios-rim-measurements-available",
        "secboot",
    ]

    /// Checks `nras` for `gpuCount` GPUs whose evidence was requested with `nonce`.
    static func run(_ nras: NRASAttestation, nonce: [UInt8], gpuCount: Int, now: Date, into checks: inout CheckList) {
        switch evaluate(nras, nonce: nonce, gpuCount: gpuCount, now: now) {
        case .success(let detail): checks.pass(id, detail)
        case .failure(let failure): checks.fail(id, "NRAS " + failure.description)
        }
    }

    private static func evaluate(
        _ nras: NRASAttestation, nonce: [UInt8], gpuCount: Int, now: Date
    ) -> Result<String, JSONWebToken.Failure> {
        let keys: JSONWebKeySet
        switch JSONWebKeySet.parse(nras.jwks) {
        case .failure(let failure): return .failure(.init(description: failure.description))
        case .success(let parsed): keys = parsed
        }
        guard let answer = try? JSONDecoder().decode([JSONValue].self, from: Data(nras.response)), answer.count == 2,
            let platformPair = answer[0].array, platformPair.count == 2, platformPair[0].string == "JWT",
            let platformToken = platformPair[1].string, let gpuTokens = answer[1].object?.compactMapValues(\.string),
            gpuTokens.count == answer[1].object?.count
        else {
            return .failure(.init(description: "answer is not [[\"JWT\", <platform token>], {\"GPU-n\": <token>, …}]"))
        }
        let expectedNonce = HexFormatting.full(nonce)

        // Platform token.
        let platform: JSONWebToken
        switch JSONWebToken.verify(platformToken, keys: keys) {
        case .failure(let failure): return .failure(.init(description: "platform token \(failure.description)"))
        case .success(let verified): platform = verified
        }
        let claims = platform.claims
        if let problem = commonProblem(claims, nras: nras, nonce: expectedNonce, now: now) {
            return .failure(.init(description: "platform token: \(problem)"))
        }
        guard claims["sub"]?.string == "NVIDIA-PLATFORM-ATTESTATION" else {
            return .failure(.init(description: "platform token: sub is \(claims["sub"]?.string ?? "missing"), not NVIDIA-PLATFORM-ATTESTATION"))
        }
        guard claims["x-nvidia-ver"]?.string == "2.0" else {
            return .failure(.init(description: "platform token: x-nvidia-ver is \(claims["x-nvidia-ver"]?.string ?? "missing"), this verifier reads 2.0"))
        }
        guard claims["x-nvidia-overall-att-result"]?.bool == true else {
            return .failure(.init(description: "platform token: x-nvidia-overall-att-result is not true: NRAS rejected the GPU evidence"))
        }

        // GPU tokens: one per evidence item, each bound by its digest in the platform token's submods.
        guard gpuTokens.count == gpuCount else {
            return .failure(.init(description: "answered \(gpuTokens.count) GPU token(s) for \(gpuCount) evidence item(s)"))
        }
        guard let submods = claims["submods"]?.object, Set(submods.keys) == Set(gpuTokens.keys) else {
            return .failure(.init(description: "platform token: submods do not name exactly the GPU tokens \(gpuTokens.keys.sorted())"))
        }
        var summaries: [String] = []
        for name in gpuTokens.keys.sorted() {
            guard let token = gpuTokens[name] else { continue }
            let digest = HexFormatting.full(SHA256.hash(data: Data(token.utf8)))
            guard let entry = submods[name]?.array, entry.count == 2, entry[0].string == "DIGEST",
                let pair = entry[1].array, pair.count == 2, pair[0].string == "SHA-256", pair[1].string?.lowercased() == digest
            else {
                return .failure(.init(description: "platform token: submods[\(name)] is not [\"DIGEST\", [\"SHA-256\", sha256 of the \(name) token]]"))
            }
            let gpu: JSONWebToken
            switch JSONWebToken.verify(token, keys: keys) {
            case .failure(let failure): return .failure(.init(description: "\(name) token \(failure.description)"))
            case .success(let verified): gpu = verified
            }
            if let problem = commonProblem(gpu.claims, nras: nras, nonce: expectedNonce, now: now) {
                return .failure(.init(description: "\(name) token: \(problem)"))
            }
            let falseFlags = requiredGPUFlags.filter { gpu.claims[$0]?.bool != true }
            guard falseFlags.isEmpty else {
                return .failure(.init(description: "\(name) token: not true: \(falseFlags.joined(separator: ", "))"))
            }
            guard gpu.claims["measres"]?.string == "success" else {
                return .failure(.init(description: "\(name) token: measres is \(gpu.claims["measres"]?.string ?? "missing"), not success (measurements differ from the RIMs)"))
            }
            guard gpu.claims["dbgstat"]?.string == "disabled" else {
                return .failure(.init(description: "\(name) token: dbgstat is \(gpu.claims["dbgstat"]?.string ?? "missing"), not disabled"))
            }
            let model = gpu.claims["hwmodel"]?.string ?? "unknown model"
            let driver = gpu.claims["x-nvidia-gpu-driver-version"]?.string ?? "?"
            let vbios = gpu.claims["x-nvidia-gpu-vbios-version"]?.string ?? "?"
            summaries.append("\(name): \(model), driver \(driver), VBIOS \(vbios)")
        }
        return .success(
            "NRAS attests \(gpuTokens.count) GPU(s) for our nonce, overall result true (ES384 tokens verified with kid "
                + "\(platform.keyID)); " + summaries.joined(separator: "; "))
    }

    /// Issuer, validity window and nonce, shared by the platform and GPU tokens.
    private static func commonProblem(_ claims: [String: JSONValue], nras: NRASAttestation, nonce: String, now: Date) -> String? {
        guard claims["iss"]?.string == nras.issuer else {
            return "iss is \(claims["iss"]?.string ?? "missing"), not \(nras.issuer)"
        }
        let time = now.timeIntervalSince1970
        guard let exp = claims["exp"]?.number, time <= exp + clockSkew else {
            return "expired or without exp (verification time \(now))"
        }
        if let nbf = claims["nbf"]?.number, time + clockSkew < nbf { return "not valid before \(Date(timeIntervalSince1970: nbf))" }
        if let iat = claims["iat"]?.number, time + clockSkew < iat { return "issued in the future (\(Date(timeIntervalSince1970: iat)))" }
        guard claims["eat_nonce"]?.string?.lowercased() == nonce else {
            return "eat_nonce \(claims["eat_nonce"]?.string ?? "missing") is not our nonce"
        }
        return nil
    }
}
