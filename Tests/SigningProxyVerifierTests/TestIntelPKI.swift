import Crypto
import Foundation
import SwiftASN1
import TDX
import X509

@testable import SigningProxyVerifier

/// A test PKI shaped like Intel's (root → PCK Platform CA → PCK certificate with the SGX extension,
/// root → "Intel SGX TCB Signing"), and quotes, TCB info, QE identity and CRLs signed with it, so the
/// collateral algorithm can be driven through every status with genuine signatures.
struct TestIntelPKI {
    /// The PCK certificate's TCB as its SGX extension certifies it.
    struct PCK {
        var cpuSVN = [4, 4, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0]
        var pceSVN = 11
        var fmspc: [UInt8] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]
    }

    /// What the synthetic quote's TD report and QE report carry.
    struct QuoteValues {
        var teeTCBSVN: [UInt8] = [0x0b, 0x01, 0x04] + [UInt8](repeating: 0, count: 13)
        var mrSignerSeam = [UInt8](repeating: 0, count: 48)
        var seamAttributes = [UInt8](repeating: 0, count: 8)
        var qeISVSVN: UInt16 = 6
    }

    /// One platform level of the TCB info.
    struct Level {
        var sgx: [Int]
        var pcesvn: Int
        var tdx: [Int]
        var status: String
        var advisories: [String] = []
        var date = "2025-08-13T00:00:00Z"
    }

    static let start = CollateralFixtures.now.addingTimeInterval(-86_400 * 30)
    static let end = CollateralFixtures.now.addingTimeInterval(86_400 * 365)

    let rootKey = P256.Signing.PrivateKey()
    let caKey = P256.Signing.PrivateKey()
    let leafKey = P256.Signing.PrivateKey()
    let tcbSigningKey = P256.Signing.PrivateKey()
    let attestationKey = P256.Signing.PrivateKey()
    let root: Certificate
    let ca: Certificate
    let leaf: Certificate
    let tcbSigning: Certificate
    let pck: PCK

    init(pck: PCK = PCK(), tcbSigningName: String = "Intel SGX TCB Signing") throws {
        self.pck = pck
        let rootName = try DistinguishedName { CommonName("Test SGX Root CA") }
        let caName = try DistinguishedName { CommonName("Test SGX PCK Platform CA") }
        let ca = try Extensions.ca()
        root = try Self.certificate(serial: 1, key: rootKey.publicKey, issuer: rootName, subject: rootName, extensions: ca, signer: rootKey)
        self.ca = try Self.certificate(serial: 2, key: caKey.publicKey, issuer: rootName, subject: caName, extensions: ca, signer: rootKey)
        tcbSigning = try Self.certificate(
            serial: 3, key: tcbSigningKey.publicKey, issuer: rootName,
            subject: try DistinguishedName { CommonName(tcbSigningName) }, extensions: try Extensions.leaf(), signer: rootKey)
        var leafExtensions = try Extensions.leaf()
        try leafExtensions.append(Self.sgxExtension(pck))
        leaf = try Self.certificate(
            serial: 0x4242, key: leafKey.publicKey, issuer: caName,
            subject: try DistinguishedName { CommonName("Test SGX PCK Certificate") }, extensions: leafExtensions, signer: caKey)
    }

    private enum Extensions {
        static func ca() throws -> Certificate.Extensions {
            try Certificate.Extensions { Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil)) }
        }

        static func leaf() throws -> Certificate.Extensions {
            try Certificate.Extensions { Critical(BasicConstraints.notCertificateAuthority) }
        }
    }

    private static func certificate(
        serial: Int, key: P256.Signing.PublicKey, issuer: DistinguishedName, subject: DistinguishedName,
        extensions: Certificate.Extensions, signer: P256.Signing.PrivateKey
    ) throws -> Certificate {
        try Certificate(
            version: .v3, serialNumber: .init(serial), publicKey: .init(key), notValidBefore: start, notValidAfter: end,
            issuer: issuer, subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: .init(signer))
    }

    /// The Intel SGX extension: PPID, TCB (16 components, PCESVN, CPUSVN), PCEID, FMSPC.
    private static func sgxExtension(_ pck: PCK) throws -> Certificate.Extension {
        func oid(_ tail: UInt...) throws -> ASN1ObjectIdentifier {
            try ASN1ObjectIdentifier(elements: [1, 2, 840, 113741, 1, 13, 1] + tail)
        }
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { outer in
            try outer.appendConstructedNode(identifier: .sequence) { entry in
                try entry.serialize(try oid(1))
                try entry.serialize(ASN1OctetString(contentBytes: ArraySlice(repeating: 0xaa, count: 16)))
            }
            try outer.appendConstructedNode(identifier: .sequence) { entry in
                try entry.serialize(try oid(2))
                try entry.appendConstructedNode(identifier: .sequence) { tcb in
                    for (index, svn) in pck.cpuSVN.enumerated() {
                        try tcb.appendConstructedNode(identifier: .sequence) { component in
                            try component.serialize(try oid(2, UInt(index + 1)))
                            try component.serialize(svn)
                        }
                    }
                    try tcb.appendConstructedNode(identifier: .sequence) { component in
                        try component.serialize(try oid(2, 17))
                        try component.serialize(pck.pceSVN)
                    }
                    try tcb.appendConstructedNode(identifier: .sequence) { component in
                        try component.serialize(try oid(2, 18))
                        try component.serialize(ASN1OctetString(contentBytes: ArraySlice(pck.cpuSVN.map { UInt8($0) })))
                    }
                }
            }
            try outer.appendConstructedNode(identifier: .sequence) { entry in
                try entry.serialize(try oid(3))
                try entry.serialize(ASN1OctetString(contentBytes: [0x00, 0x00]))
            }
            try outer.appendConstructedNode(identifier: .sequence) { entry in
                try entry.serialize(try oid(4))
                try entry.serialize(ASN1OctetString(contentBytes: ArraySlice(pck.fmspc)))
            }
        }
        return Certificate.Extension(oid: try oid(), critical: false, value: ArraySlice(coder.serializedBytes))
    }

    var anchor: TrustAnchor {
        get throws {
            TrustAnchor(name: "Test SGX Root CA", derSHA256: Array(SHA256.hash(data: try root.serializeAsPEM().derBytes)))
        }
    }

    static func pem(_ certificates: [Certificate]) throws -> [UInt8] {
        Array(try certificates.map { try $0.serializeAsPEM().pemString + "\n" }.joined().utf8)
    }

    /// attestation.bin's quote re-signed by this PKI, with `values` in the TD and QE reports.
    func quote(_ values: QuoteValues = QuoteValues()) throws -> [UInt8] {
        let template = try DstackAttestationBlob(bytes: Fixtures.bytes("dstack/attestation.bin")).quote
        let patched = try template.replacing(.teeTCBSVN, with: values.teeTCBSVN)
            .replacing(.mrSignerSeam, with: values.mrSignerSeam).replacing(.seamAttributes, with: values.seamAttributes)
        let signed = Array(patched.signedBytes)
        let signature = try attestationKey.signature(for: Data(signed)).rawRepresentation
        let attestationPoint = Array(attestationKey.publicKey.rawRepresentation)
        let qeAuth = template.authData.qeAuthData
        var qeReport = template.authData.qeReport
        qeReport[258] = UInt8(values.qeISVSVN & 0xff)
        qeReport[259] = UInt8(values.qeISVSVN >> 8)
        qeReport.replaceSubrange(320..<384, with: Array(SHA256.hash(data: attestationPoint + qeAuth)) + [UInt8](repeating: 0, count: 32))
        let qeSignature = Array(try leafKey.signature(for: Data(qeReport)).rawRepresentation)
        let chain = try Self.pem([leaf, ca, root])
        let inner = le16(5) + le32(chain.count) + chain
        let certification = qeReport + qeSignature + le16(qeAuth.count) + qeAuth + inner
        let auth = Array(signature) + attestationPoint + le16(6) + le32(certification.count) + certification
        return signed + le32(auth.count) + auth
    }

    private func le16(_ value: Int) -> [UInt8] { [UInt8(value & 0xff), UInt8((value >> 8) & 0xff)] }
    private func le32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xff) } }

    /// `{"<member>":<json>,"signature":"<hex>"}` signed by the TCB signing key (or `key`).
    func signed(member: String, json: String, key: P256.Signing.PrivateKey? = nil) throws -> [UInt8] {
        let signature = try (key ?? tcbSigningKey).signature(for: Data(json.utf8)).rawRepresentation
        return Array(#"{"\#(member)":\#(json),"signature":"\#(Fixtures.hex(signature))"}"#.utf8)
    }

    static func date(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }

    /// A TDX TCB info (version 3) for this PKI's FMSPC.
    func tcbInfoJSON(
        levels: [Level], modules: [(id: String, levels: [(isvsvn: Int, status: String)])] = [("TDX_01", [(11, "UpToDate")])],
        moduleMRSigner: String = String(repeating: "0", count: 96), fmspc: String? = nil,
        issued: Date = CollateralFixtures.now.addingTimeInterval(-86_400), next: Date = CollateralFixtures.now.addingTimeInterval(86_400 * 20)
    ) -> String {
        func components(_ svns: [Int]) -> String { "[" + svns.map { #"{"svn":\#($0)}"# }.joined(separator: ",") + "]" }
        let levelText = levels.map { level in
            let advisories = level.advisories.isEmpty ? "" : #","advisoryIDs":["# + level.advisories.map { "\"\($0)\"" }.joined(separator: ",") + "]"
            return #"{"tcb":{"sgxtcbcomponents":\#(components(level.sgx)),"pcesvn":\#(level.pcesvn),"tdxtcbcomponents":\#(components(level.tdx))},"tcbDate":"\#(level.date)","tcbStatus":"\#(level.status)"\#(advisories)}"#
        }.joined(separator: ",")
        let moduleText = modules.map { module in
            let moduleLevels = module.levels.map { #"{"tcb":{"isvsvn":\#($0.isvsvn)},"tcbDate":"2025-08-13T00:00:00Z","tcbStatus":"\#($0.status)"}"# }
            return #"{"id":"\#(module.id)","mrsigner":"\#(moduleMRSigner)","attributes":"0000000000000000","attributesMask":"FFFFFFFFFFFFFFFF","tcbLevels":[\#(moduleLevels.joined(separator: ","))]}"#
        }.joined(separator: ",")
        return #"{"id":"TDX","version":3,"issueDate":"\#(Self.date(issued))","nextUpdate":"\#(Self.date(next))","fmspc":"\#(fmspc ?? Fixtures.hex(pck.fmspc).uppercased())","pceId":"0000","tcbType":0,"tcbEvaluationDataNumber":20,"tdxModule":{"mrsigner":"\#(moduleMRSigner)","attributes":"0000000000000000","attributesMask":"FFFFFFFFFFFFFFFF"},"tdxModuleIdentities":[\#(moduleText)],"tcbLevels":[\#(levelText)]}"#
    }

    /// A TD_QE identity with the real QE's MRSIGNER and the given ISVSVN levels.
    func qeIdentityJSON(
        levels: [(isvsvn: Int, status: String)] = [(4, "UpToDate")],
        mrsigner: String = "DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5"
    ) -> String {
        let levelText = levels.map { #"{"tcb":{"isvsvn":\#($0.isvsvn)},"tcbDate":"2025-08-13T00:00:00Z","tcbStatus":"\#($0.status)"}"# }
        return #"{"id":"TD_QE","version":2,"issueDate":"\#(Self.date(CollateralFixtures.now.addingTimeInterval(-86_400)))","nextUpdate":"\#(Self.date(CollateralFixtures.now.addingTimeInterval(86_400 * 20)))","tcbEvaluationDataNumber":20,"miscselect":"00000000","miscselectMask":"FFFFFFFF","attributes":"11000000000000000000000000000000","attributesMask":"FBFFFFFFFFFFFFFF0000000000000000","mrsigner":"\#(mrsigner)","isvprodid":2,"tcbLevels":[\#(levelText.joined(separator: ","))]}"#
    }

    /// A CRL by `issuer` listing `revoked` serials, signed with `key`.
    static func crl(
        issuer: Certificate, key: P256.Signing.PrivateKey, revoked: [Certificate.SerialNumber] = [],
        thisUpdate: Date = CollateralFixtures.now.addingTimeInterval(-86_400), nextUpdate: Date = CollateralFixtures.now.addingTimeInterval(86_400 * 20)
    ) throws -> [UInt8] {
        func utc(_ date: Date) throws -> UTCTime {
            let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
            return try UTCTime(
                year: parts.year!, month: parts.month!, day: parts.day!, hours: parts.hour!, minutes: parts.minute!, seconds: parts.second!)
        }
        let algorithm: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 2]
        var tbs = DER.Serializer()
        try tbs.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(1)
            try coder.appendConstructedNode(identifier: .sequence) { try $0.serialize(algorithm) }
            try coder.serialize(issuer.subject)
            try coder.serialize(try utc(thisUpdate))
            try coder.serialize(try utc(nextUpdate))
            if !revoked.isEmpty {
                try coder.appendConstructedNode(identifier: .sequence) { list in
                    for serial in revoked {
                        try list.appendConstructedNode(identifier: .sequence) { entry in
                            try entry.serialize(serial.bytes)
                            try entry.serialize(try utc(thisUpdate))
                        }
                    }
                }
            }
        }
        let signature = try key.signature(for: Data(tbs.serializedBytes)).derRepresentation
        var crl = DER.Serializer()
        try crl.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(ASN1Any(derEncoded: try DER.parse(tbs.serializedBytes)))
            try coder.appendConstructedNode(identifier: .sequence) { try $0.serialize(algorithm) }
            try coder.serialize(ASN1BitString(bytes: ArraySlice(signature)))
        }
        return crl.serializedBytes
    }

    /// The default, UpToDate-everywhere collateral for this PKI.
    func collateral(
        tcbInfo: String? = nil, qeIdentity: String? = nil, pckRevoked: [Certificate.SerialNumber] = [],
        rootRevoked: [Certificate.SerialNumber] = []
    ) throws -> QuoteCollateral {
        let chain = try Self.pem([tcbSigning, root])
        return QuoteCollateral(
            tcbInfo: try signed(member: "tcbInfo", json: tcbInfo ?? tcbInfoJSON(levels: [Self.upToDateLevel])),
            tcbInfoIssuerChain: chain,
            qeIdentity: try signed(member: "enclaveIdentity", json: qeIdentity ?? qeIdentityJSON()),
            qeIdentityIssuerChain: chain,
            pckCRL: try Self.crl(issuer: ca, key: caKey, revoked: pckRevoked),
            rootCACRL: try Self.crl(issuer: root, key: rootKey, revoked: rootRevoked))
    }

    static let upToDateLevel = Level(
        sgx: [4, 4, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0], pcesvn: 11, tdx: [5, 0, 4] + [Int](repeating: 0, count: 13),
        status: "UpToDate")

    /// Verifies `quote` with `collateral` against this PKI's root.
    func verify(
        _ quote: [UInt8], collateral: QuoteCollateral, accept: Set<TCBStatus> = [], now: Date = CollateralFixtures.now
    ) throws -> VerificationReport {
        var verifier = ResponseVerifier(options: VerificationOptions(now: now, collateral: collateral, acceptedTCBStatuses: accept))
        verifier.anchors.intel = try anchor
        return verifier.verifyQuote(quote)
    }
}
