import Foundation
import SigningProxyVerifier

/// Intel collateral stored in a directory, one file per piece (`signing-proxy verify --collateral DIR`).
///
/// | File | Content |
/// |---|---|
/// | `tcb_info.json` | PCS answer `{"tcbInfo":{…},"signature":"…"}`, unchanged |
/// | `tcb_info_issuer_chain.pem` | its `TCB-Info-Issuer-Chain` header, URL-decoded |
/// | `qe_identity.json` | PCS answer `{"enclaveIdentity":{…},"signature":"…"}`, unchanged |
/// | `qe_identity_issuer_chain.pem` | its `SGX-Enclave-Identity-Issuer-Chain` header, URL-decoded |
/// | `pck_crl.der` | PCK CA CRL (DER, PEM or hex); optional, without it revocation is skipped |
/// | `pck_crl_issuer_chain.pem` | its `SGX-PCK-CRL-Issuer-Chain` header; optional |
/// | `root_ca_crl.der` | Intel SGX Root CA CRL (DER, PEM or hex); optional, like `pck_crl.der` |
enum CollateralDirectory {
    static let tcbInfo = "tcb_info.json"
    static let tcbInfoIssuerChain = "tcb_info_issuer_chain.pem"
    static let qeIdentity = "qe_identity.json"
    static let qeIdentityIssuerChain = "qe_identity_issuer_chain.pem"
    static let pckCRL = "pck_crl.der"
    static let pckCRLIssuerChain = "pck_crl_issuer_chain.pem"
    static let rootCACRL = "root_ca_crl.der"

    /// Why a directory could not be read.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads the collateral files of `path`.
    static func load(_ path: String) throws(Failure) -> QuoteCollateral {
        let directory = URL(fileURLWithPath: path)
        func required(_ name: String) throws(Failure) -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else {
                throw Failure(description: "--collateral \(path): cannot read \(name)")
            }
            return Array(data)
        }
        func optional(_ name: String) -> [UInt8]? {
            FileManager.default.contents(atPath: directory.appendingPathComponent(name).path).map(Array.init)
        }
        return QuoteCollateral(
            tcbInfo: try required(tcbInfo), tcbInfoIssuerChain: try required(tcbInfoIssuerChain),
            qeIdentity: try required(qeIdentity), qeIdentityIssuerChain: try required(qeIdentityIssuerChain),
            pckCRL: optional(pckCRL), pckCRLIssuerChain: optional(pckCRLIssuerChain), rootCACRL: optional(rootCACRL))
    }

    /// Writes `collateral` in the layout ``load(_:)`` reads (used by `--save-collateral`).
    static func save(_ collateral: QuoteCollateral, to path: String) throws {
        let directory = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let files: [(String, [UInt8]?)] = [
            (tcbInfo, collateral.tcbInfo), (tcbInfoIssuerChain, collateral.tcbInfoIssuerChain),
            (qeIdentity, collateral.qeIdentity), (qeIdentityIssuerChain, collateral.qeIdentityIssuerChain),
            (pckCRL, collateral.pckCRL), (pckCRLIssuerChain, collateral.pckCRLIssuerChain), (rootCACRL, collateral.rootCACRL),
        ]
        for case (let name, let bytes?) in files {
            try Data(bytes).write(to: directory.appendingPathComponent(name))
        }
    }
}
