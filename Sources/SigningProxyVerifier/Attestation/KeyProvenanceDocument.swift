/// `key_provenance` (docs/API.md, Response fields): the dstack `GetKey` chain of the signing key.
struct KeyProvenanceDocument: Decodable, Sendable {
    var path: String?
    var purpose: String?
    var algorithm: String?
    var publicKey: String?
    var signatureChain: [String]?
    var appID: String?

    private enum CodingKeys: String, CodingKey {
        case path
        case purpose
        case algorithm
        case publicKey = "public_key"
        case signatureChain = "signature_chain"
        case appID = "app_id"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func string(_ key: CodingKeys) -> String? { try? container.decodeIfPresent(String.self, forKey: key) }
        path = string(.path)
        purpose = string(.purpose)
        algorithm = string(.algorithm)
        publicKey = string(.publicKey)
        signatureChain = try? container.decodeIfPresent([String].self, forKey: .signatureChain)
        appID = string(.appID)
    }
}
