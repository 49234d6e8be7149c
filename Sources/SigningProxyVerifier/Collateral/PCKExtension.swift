import SwiftASN1
import X509

/// The Intel SGX extension of a PCK leaf certificate (OID 1.2.840.113741.1.13.1): the platform's
/// TCB as Intel certified it, and the FMSPC that selects its TCB info.
struct PCKExtension: Sendable, Hashable {
    /// FMSPC (6 bytes), `…1.13.1.4`.
    var fmspc: [UInt8]
    /// PCE id (2 bytes), `…1.13.1.3`.
    var pceID: [UInt8]
    /// The 16 CPUSVN components `…1.13.1.2.1` to `.16`, in order.
    var cpuSVNComponents: [Int]
    /// PCESVN, `…1.13.1.2.17`.
    var pceSVN: Int

    static let extensionOID: ASN1ObjectIdentifier = [1, 2, 840, 113741, 1, 13, 1]
    private static let tcbOID: ASN1ObjectIdentifier = [1, 2, 840, 113741, 1, 13, 1, 2]
    private static let pceIDOID: ASN1ObjectIdentifier = [1, 2, 840, 113741, 1, 13, 1, 3]
    private static let fmspcOID: ASN1ObjectIdentifier = [1, 2, 840, 113741, 1, 13, 1, 4]

    /// Why the extension could not be read.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads the extension of `leaf`.
    static func parse(_ leaf: Certificate) -> Result<PCKExtension, Failure> {
        guard let ext = leaf.extensions.first(where: { $0.oid == extensionOID }) else {
            return .failure(.init(description: "the PCK certificate has no Intel SGX extension (1.2.840.113741.1.13.1)"))
        }
        do {
            let entries = try pairs(DER.parse(Array(ext.value)))
            guard let fmspc = octets(entries[fmspcOID]), fmspc.count == 6 else {
                return .failure(.init(description: "the SGX extension has no 6-byte FMSPC"))
            }
            let pceID = octets(entries[pceIDOID]) ?? []
            guard let tcbNode = entries[tcbOID] else {
                return .failure(.init(description: "the SGX extension has no TCB (…1.13.1.2)"))
            }
            let tcb = try pairs(tcbNode)
            var components: [Int] = []
            for index in 1...16 {
                let oid = try ASN1ObjectIdentifier(elements: [1, 2, 840, 113741, 1, 13, 1, 2, UInt(index)])
                guard let value = integer(tcb[oid]) else {
                    return .failure(.init(description: "the SGX extension lacks CPUSVN component \(index)"))
                }
                components.append(value)
            }
            let pceSVNOID = try ASN1ObjectIdentifier(elements: [1, 2, 840, 113741, 1, 13, 1, 2, 17])
            guard let pceSVN = integer(tcb[pceSVNOID]) else {
                return .failure(.init(description: "the SGX extension lacks PCESVN"))
            }
            return .success(PCKExtension(fmspc: fmspc, pceID: pceID, cpuSVNComponents: components, pceSVN: pceSVN))
        } catch {
            return .failure(.init(description: "the SGX extension is not valid DER"))
        }
    }

    /// A SEQUENCE of SEQUENCE { OID, value } as a dictionary (later duplicates are ignored).
    private static func pairs(_ node: ASN1Node) throws -> [ASN1ObjectIdentifier: ASN1Node] {
        guard case .constructed(let children) = node.content, node.identifier == .sequence else {
            throw ASN1Error.unexpectedFieldType(node.identifier)
        }
        var result: [ASN1ObjectIdentifier: ASN1Node] = [:]
        for child in children {
            try DER.sequence(child, identifier: .sequence) { nodes in
                let oid = try ASN1ObjectIdentifier(derEncoded: &nodes)
                guard let value = nodes.next() else { throw ASN1Error.invalidASN1Object(reason: "missing value") }
                if result[oid] == nil { result[oid] = value }
            }
        }
        return result
    }

    private static func octets(_ node: ASN1Node?) -> [UInt8]? {
        guard let node, let value = try? ASN1OctetString(derEncoded: node) else { return nil }
        return Array(value.bytes)
    }

    private static func integer(_ node: ASN1Node?) -> Int? {
        guard let node, let value = try? Int(derEncoded: node), value >= 0 else { return nil }
        return value
    }
}
