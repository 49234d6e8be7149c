import Foundation
import Testing

@testable import SigningProxyVerifier

/// The `verify` CLI's collateral and NRAS options, run as a process against files and a loopback
/// server that answers like Intel PCS / a PCCS and NVIDIA NRAS.
@Suite("verify CLI: --collateral, --fetch-collateral and --nras against loopback stand-ins")
struct VerifyCommandOnlineTests {
    static let at = "2026-10-15T00:00:00Z"
    static let collateralChecks = CollateralVerificationTests.collateralChecks

    /// attestation.bin's quote in a temporary hex file.
    func quoteFile() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("quote-\(UUID().uuidString).hex").path
        try Data(try CollateralFixtures.attestationBinQuote()).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Answers like a PCCS serving the fixture collateral (root CA CRL as hex, chains URL-encoded).
    static func pccs(_ request: LoopbackServer.Received) -> (status: Int, headers: [String: String], body: [UInt8])? {
        func file(_ name: String) -> [UInt8] { (try? CollateralFixtures.file(name)) ?? [] }
        func encoded(_ bytes: [UInt8]) -> String {
            String(decoding: bytes, as: UTF8.self).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        }
        let chain = encoded(file("tcb_info_issuer_chain.pem"))
        switch request.uri {
        case "/tdx/certification/v4/tcb?fmspc=b0c06f000000":
            return (200, ["TCB-Info-Issuer-Chain": chain, "Content-Type": "application/json"], file("tcb_info.json"))
        case "/tdx/certification/v4/qe/identity":
            return (200, ["SGX-Enclave-Identity-Issuer-Chain": chain], file("qe_identity.json"))
        case "/sgx/certification/v4/pckcrl?ca=platform&encoding=der":
            let issuer = encoded((try? CollateralFixtures.platformCAChain()) ?? [])
            return (200, ["SGX-PCK-CRL-Issuer-Chain": issuer], file("pck_crl.der"))
        case "/sgx/certification/v4/rootcacrl":
            return (200, [:], Array(Fixtures.hex(file("root_ca_crl.der")).utf8))
        default:
            return nil
        }
    }

    @Test("--collateral DIR: the real collateral passes TCB status and revocation at --at, offline")
    func collateralDirectory() async throws {
        let outcome = try await SigningProxyBinary.run([
            "verify", "quote", "--file", try quoteFile(), "--collateral", CollateralFixtures.directory.path, "--at", Self.at, "--json",
        ])
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        for id in Self.collateralChecks { #expect(outcome.checks[id]?.status == "pass", "\(id): \(outcome.checks[id]?.detail ?? "missing")") }
        #expect(outcome.checks["dcap.tcb-status"]?.detail.hasPrefix("UpToDate") == true)

        // The same collateral a month later is stale: non-zero exit, named checks.
        let late = try await SigningProxyBinary.run([
            "verify", "quote", "--file", try quoteFile(), "--collateral", CollateralFixtures.directory.path,
            "--at", "2026-11-20T00:00:00Z", "--json",
        ])
        #expect(late.status == 1)
        #expect(late.checks["dcap.collateral.tcb-info"]?.detail.contains("expired") == true)
    }

    @Test("without collateral TCB status and revocation are skipped, never passed")
    func offline() async throws {
        let outcome = try await SigningProxyBinary.run(["verify", "quote", "--file", try quoteFile(), "--at", Self.at, "--json"])
        #expect(outcome.status == 0)
        #expect(outcome.checks["dcap.tcb-status"]?.status == "skip")
        #expect(outcome.checks["dcap.revocation"]?.status == "skip")
        #expect(outcome.checks["dcap.collateral.tcb-info"] == nil)
    }

    @Test("--fetch-collateral --pccs-url: fetches for the quote's FMSPC and CA, verifies, and --save-collateral stores it")
    func fetch() async throws {
        let server = LoopbackServer(Self.pccs)
        let saved = FileManager.default.temporaryDirectory.appendingPathComponent("collateral-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: saved) }
        let file = try quoteFile()
        let outcome = try await server.run { base in
            try await SigningProxyBinary.run([
                "verify", "quote", "--file", file, "--fetch-collateral", "--pccs-url", base, "--save-collateral", saved.path,
                "--at", Self.at, "--json",
            ])
        }
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        for id in Self.collateralChecks { #expect(outcome.checks[id]?.status == "pass", "\(id): \(outcome.checks[id]?.detail ?? "missing")") }
        #expect(
            Set(server.requests.map(\.uri)) == [
                "/tdx/certification/v4/tcb?fmspc=b0c06f000000", "/tdx/certification/v4/qe/identity",
                "/sgx/certification/v4/pckcrl?ca=platform&encoding=der", "/sgx/certification/v4/rootcacrl",
            ])
        // Stored byte for byte (issuer chains URL-decoded), and usable offline.
        for name in ["tcb_info.json", "qe_identity.json", "pck_crl.der", "tcb_info_issuer_chain.pem"] {
            #expect(try Data(contentsOf: saved.appendingPathComponent(name)) == Data(try CollateralFixtures.file(name)), "\(name)")
        }
        let offline = try await SigningProxyBinary.run([
            "verify", "quote", "--file", file, "--collateral", saved.path, "--at", Self.at, "--json",
        ])
        #expect(offline.status == 0)
        #expect(offline.checks["dcap.revocation"]?.status == "pass")
    }

    @Test("a fetch that fails (404, missing issuer-chain header, refused connection) fails the checks with the reason")
    func fetchFailures() async throws {
        let file = try quoteFile()
        let noChain = LoopbackServer { request in
            guard var answer = Self.pccs(request) else { return nil }
            answer.headers["SGX-Enclave-Identity-Issuer-Chain"] = nil
            return answer
        }
        let outcome = try await noChain.run { base in
            try await SigningProxyBinary.run(["verify", "quote", "--file", file, "--fetch-collateral", "--pccs-url", base, "--at", Self.at, "--json"])
        }
        #expect(outcome.status == 1)
        for id in ["dcap.tcb-status", "dcap.revocation"] {
            #expect(outcome.checks[id]?.status == "fail", "\(id)")
            #expect(outcome.checks[id]?.detail.contains("SGX-Enclave-Identity-Issuer-Chain") == true, "\(outcome.checks[id]?.detail ?? "")")
        }
        let empty = LoopbackServer { _ in nil }
        let notFound = try await empty.run { base in
            try await SigningProxyBinary.run(["verify", "quote", "--file", file, "--fetch-collateral", "--pccs-url", base, "--json"])
        }
        #expect(notFound.status == 1)
        #expect(notFound.checks["dcap.tcb-status"]?.detail.contains("answered 404") == true)
        // A loopback port that just closed: the connection is refused, which is reported at once.
        let closed = try await LoopbackServer { _ in nil }.run { base in base }
        let refused = try await SigningProxyBinary.run([
            "verify", "quote", "--file", file, "--fetch-collateral", "--pccs-url", closed, "--json",
        ])
        #expect(refused.status == 1)
        #expect(refused.checks["dcap.tcb-status"]?.detail.contains("refused") == true, "\(refused.checks["dcap.tcb-status"]?.detail ?? "")")
    }

    @Test("usage errors: both collateral sources, --pccs-url alone, an unknown or Revoked --allow-tcb-status, a missing directory")
    func usage() async throws {
        let file = try quoteFile()
        for arguments in [
            ["--collateral", "/nonexistent", "--fetch-collateral"], ["--pccs-url", "http://127.0.0.1:1"],
            ["--allow-tcb-status", "Revoked"], ["--allow-tcb-status", "Fine"], ["--collateral", "/nonexistent"], ["--at", "yesterday"],
        ] {
            let outcome = try await SigningProxyBinary.run(["verify", "quote", "--file", file] + arguments)
            #expect(outcome.status != 0 && outcome.status != 1, "\(arguments): \(outcome.status)")
            #expect(!outcome.stderr.isEmpty, "\(arguments)")
        }
        let allowed = try await SigningProxyBinary.run([
            "verify", "quote", "--file", file, "--collateral", CollateralFixtures.directory.path, "--at", Self.at,
            "--allow-tcb-status", "OutOfDate", "--allow-tcb-status", "swhardeningneeded",
        ])
        #expect(allowed.status == 0, "\(allowed.stderr)")
    }

    @Test("verify report --nras: POSTs the payload, verifies the ES384 answer with the served JWKS; failures are named")
    func nras() async throws {
        let pki = try GPUVerificationTests.TestPKI()
        var simulated = try SimulatedReport.make()
        simulated.nvidiaPayload = try GPUVerificationTests().payload(pki: pki, nonce: Fixtures.nonce, gpus: 2)
        let reportPath = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString).json")
        try Data(try simulated.json()).write(to: reportPath)
        defer { try? FileManager.default.removeItem(at: reportPath) }
        let nras = TestNRAS()
        let answer = try nras.answer(nonce: Fixtures.nonce)
        let jwks = try nras.jwks
        let server = LoopbackServer { request in
            switch (request.method, request.uri) {
            case ("POST", "/v3/attest/gpu"): return (200, ["Content-Type": "application/json"], answer)
            case ("GET", "/.well-known/jwks.json"): return (200, [:], jwks)
            default: return nil
            }
        }
        let arguments = [
            "verify", "report", "--file", reportPath.path, "--nonce", Fixtures.hex(Fixtures.nonce), "--nras",
            "--at", ISO8601DateFormatter().string(from: Fixtures.now), "--json",
        ]
        let outcome = try await server.run { base in try await SigningProxyBinary.run(arguments + ["--nras-url", base]) }
        #expect(outcome.checks["gpu.nras"]?.status == "pass", "\(outcome.checks["gpu.nras"]?.detail ?? outcome.stderr)")
        let posted = try #require(server.requests.first { $0.method == "POST" })
        #expect(String(decoding: posted.body, as: UTF8.self) == simulated.nvidiaPayload)
        // The simulated quote still fails DCAP, so the exit status is 1 whatever NRAS says.
        #expect(outcome.status == 1)

        let broken = LoopbackServer { request in request.method == "POST" ? (500, [:], Array("down".utf8)) : nil }
        let failed = try await broken.run { base in try await SigningProxyBinary.run(arguments + ["--nras-url", base]) }
        #expect(failed.checks["gpu.nras"]?.status == "fail")
        #expect(failed.checks["gpu.nras"]?.detail.contains("answered 500") == true, "\(failed.checks["gpu.nras"]?.detail ?? "")")

        let skipped = try await SigningProxyBinary.run(Array(arguments.filter { $0 != "--nras" }))
        #expect(skipped.checks["gpu.nras"]?.status == "skip")
    }
}
