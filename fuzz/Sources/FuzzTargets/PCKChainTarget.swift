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

/// Splits concatenated DER elements by their outer lengths; what does not frame as DER stays one piece.
enum DERPieces {
    static func split(_ bytes: [UInt8]) -> [[UInt8]] {
        var pieces: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            guard let length = elementLength(bytes, at: offset), length <= bytes.count - offset else {
                pieces.append(Array(bytes[offset...]))
                break
            }
            pieces.append(Array(bytes[offset..<(offset + length)]))
            offset += length
        }
        return pieces
    }

    /// Header plus content length of the element at `offset` (definite lengths of up to 3 bytes).
    private static func elementLength(_ bytes: [UInt8], at offset: Int) -> Int? {
        guard bytes.count - offset >= 2 else { return nil }
        let first = Int(bytes[offset + 1])
        if first < 0x80 { return 2 + first }
        let count = first & 0x7F
        guard (1...3).contains(count), bytes.count - offset >= 2 + count else { return nil }
        var length = 0
        for index in 0..<count { length = length << 8 | Int(bytes[offset + 2 + index]) }
        return 2 + count + length
    }
}
