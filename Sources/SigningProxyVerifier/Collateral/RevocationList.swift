import SwiftASN1
import X509

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A certificate revocation list (RFC 5280 §5), read only as far as the checks need: issuer, update
/// times, revoked serial numbers and the signature over the `tbsCertList` bytes.
struct RevocationList: Sendable {
    var issuer: DistinguishedName
    var thisUpdate: Date
    var nextUpdate: Date?
    /// Revoked serial numbers, big-endian without leading zero bytes.
    var revokedSerials: Set<[UInt8]>
    /// DER of `tbsCertList`, the signed bytes.
    var signedBytes: [UInt8]
    var signatureAlgorithm: Certificate.SignatureAlgorithm?
    /// The DER `ECDSA-Sig-Value` from the signature BIT STRING.
    var signature: [UInt8]

    /// Why a CRL could not be read.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads a CRL given as DER, PEM (`X509 CRL`) or hex text of the DER (as PCCS serves it).
    static func parse(_ input: [UInt8]) -> Result<RevocationList, Failure> {
        guard let der = derBytes(input) else {
            return .failure(.init(description: "is neither DER, PEM nor hex"))
        }
        do {
            return .success(try RevocationList(der: der))
        } catch {
            return .failure(.init(description: "is not a valid DER CRL"))
        }
    }

    private static func derBytes(_ input: [UInt8]) -> [UInt8]? {
        if input.first == 0x30 { return input }
        let text = String(decoding: input, as: UTF8.self).trimmingASCIIWhitespace()
        if text.hasPrefix("-----BEGIN") {
            return (try? PEMDocument(pemString: text)).map { $0.derBytes }
        }
        return HexFormatting.decode(text)
    }

    private init(der: [UInt8]) throws {
        let root = try DER.parse(der)
        var tbsNode: ASN1Node?
        var algorithm: ASN1ObjectIdentifier?
        var signature: [UInt8] = []
        try DER.sequence(root, identifier: .sequence) { nodes in
            guard let tbs = nodes.next(), let algorithmNode = nodes.next(), let signatureNode = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "CRL needs three elements")
            }
            tbsNode = tbs
            algorithm = try DER.sequence(algorithmNode, identifier: .sequence) { inner in
                let oid = try ASN1ObjectIdentifier(derEncoded: &inner)
                while inner.next() != nil {}
                return oid
            }
            signature = Array(try ASN1BitString(derEncoded: signatureNode).bytes)
        }
        guard let tbsNode else { throw ASN1Error.invalidASN1Object(reason: "no tbsCertList") }

        var issuer = DistinguishedName()
        var thisUpdate = Date(timeIntervalSince1970: 0)
        var nextUpdate: Date?
        var serials: Set<[UInt8]> = []
        try DER.sequence(tbsNode, identifier: .sequence) { nodes in
            var next = nodes.next()
            if next?.identifier == .integer { next = nodes.next() }  // version
            guard next?.identifier == .sequence else { throw ASN1Error.invalidASN1Object(reason: "no signature algorithm") }
            guard let issuerNode = nodes.next() else { throw ASN1Error.invalidASN1Object(reason: "no issuer") }
            issuer = try DistinguishedName(derEncoded: issuerNode)
            guard let thisNode = nodes.next(), let this = try Self.time(thisNode) else {
                throw ASN1Error.invalidASN1Object(reason: "no thisUpdate")
            }
            thisUpdate = this
            next = nodes.next()
            if let node = next, let time = try Self.time(node) {
                nextUpdate = time
                next = nodes.next()
            }
            if let node = next, node.identifier == .sequence {
                guard case .constructed(let entries) = node.content else { throw ASN1Error.unexpectedFieldType(node.identifier) }
                for entry in entries {
                    try DER.sequence(entry, identifier: .sequence) { fields in
                        let serial = try ArraySlice<UInt8>(derEncoded: &fields)
                        serials.insert(Self.normalized(serial))
                        while fields.next() != nil {}
                    }
                }
                next = nodes.next()
            }
            // crlExtensions [0] and anything after are not needed.
            while next != nil { next = nodes.next() }
        }
        self.issuer = issuer
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.revokedSerials = serials
        self.signedBytes = Array(tbsNode.encodedBytes)
        self.signatureAlgorithm = algorithm.flatMap(Self.signatureAlgorithm(for:))
        self.signature = signature
    }

    /// Whether `key` signed this CRL.
    func isSigned(by key: Certificate.PublicKey) -> Bool {
        guard let signatureAlgorithm else { return false }
        return key.isValidSignature(signature, for: signedBytes, signatureAlgorithm: signatureAlgorithm)
    }

    /// Whether the certificate with `serial` is listed as revoked.
    func revokes(_ serial: Certificate.SerialNumber) -> Bool {
        revokedSerials.contains(Self.normalized(serial.bytes))
    }

    /// Whether `now` lies within `thisUpdate ... nextUpdate` (a CRL without nextUpdate never goes stale).
    func isCurrent(at now: Date) -> Bool {
        thisUpdate <= now && nextUpdate.map { now <= $0 } ?? true
    }

    static func normalized(_ serial: some Collection<UInt8>) -> [UInt8] {
        Array(serial.drop { $0 == 0 })
    }

    private static func signatureAlgorithm(for oid: ASN1ObjectIdentifier) -> Certificate.SignatureAlgorithm? {
        switch oid {
        case [1, 2, 840, 10045, 4, 3, 2]: .ecdsaWithSHA256
        case [1, 2, 840, 10045, 4, 3, 3]: .ecdsaWithSHA384
        case [1, 2, 840, 10045, 4, 3, 4]: .ecdsaWithSHA512
        default: nil
        }
    }

    /// UTCTime or GeneralizedTime as a date; nil for any other node.
    private static func time(_ node: ASN1Node) throws -> Date? {
        let parts: (year: Int, month: Int, day: Int, hours: Int, minutes: Int, seconds: Int)
        switch node.identifier {
        case UTCTime.defaultIdentifier:
            let time = try UTCTime(derEncoded: node)
            parts = (time.year, time.month, time.day, time.hours, time.minutes, time.seconds)
        case GeneralizedTime.defaultIdentifier:
            let time = try GeneralizedTime(derEncoded: node)
            parts = (time.year, time.month, time.day, time.hours, time.minutes, time.seconds)
        default:
            return nil
        }
        return PCSTime.date(
            year: parts.year, month: parts.month, day: parts.day, hours: parts.hours, minutes: parts.minutes,
            seconds: parts.seconds)
    }
}
