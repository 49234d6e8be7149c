import Foundation

@testable import SigningProxyVerifier

/// `collateral-pck`: PCK certificate chains as a quote carries them: `CertificateChain.parse(pem:)`, the
/// Intel SGX extension reader `PCKExtension.parse`, and chain verification against the pinned root.
///
/// Input: DER certificates one after another (the fuzzer edits DER, not base64); the harness writes
/// them as the PEM chain a quote holds, with the trailing NUL quotes carry.
///
/// Checks:
/// - The chain holds exactly the certificates that decode, in order, each with its DER as given.
/// - An extension that reads has a 6-byte FMSPC, 16 CPUSVN components and no negative SVN.
/// - Verification answers (a reason or success) without trapping, at a time inside and one outside the
///   leaf's validity; outside it never succeeds.
enum PCKChainTarget {
    static let target = FuzzTarget(
        name: "collateral-pck",
        summary: "PCK chain PEM → certificates → Intel SGX extension; chain verification answers"
    ) { run($0) }

    static func run(_ input: UnsafeRawBufferPointer) {
        let pieces = DERPieces.split(Array(input))
        var pem = ""
        for piece in pieces {
            pem += "-----BEGIN CERTIFICATE-----\n" + Data(piece).base64EncodedString(options: .lineLength64Characters)
                + "\n-----END CERTIFICATE-----\n"
        }
        guard case .success(let chain) = CertificateChain.parse(pem: Array(pem.utf8) + [0]) else { return }
        Invariant.require(chain.certificates.count == pieces.count && chain.derEncodings == pieces, "the chain is not the certificates given")

        for certificate in chain.certificates {
            guard case .success(let pck) = PCKExtension.parse(certificate) else { continue }
            Invariant.require(pck.fmspc.count == 6, "FMSPC of \(pck.fmspc.count) bytes")
            Invariant.require(pck.cpuSVNComponents.count == 16, "\(pck.cpuSVNComponents.count) CPUSVN components")
            Invariant.require(pck.pceSVN >= 0 && pck.cpuSVNComponents.allSatisfy { $0 >= 0 }, "a negative SVN")
        }

        let leaf = chain.leaf
        _ = chain.verify(to: .intelSGXRootCA, now: leaf.notValidBefore)
        if leaf.notValidAfter < Date.distantFuture {
            let expired = chain.verify(to: .intelSGXRootCA, now: leaf.notValidAfter.addingTimeInterval(1))
            Invariant.require(expired != nil, "a chain verifies after its leaf expired")
        }
    }
}
