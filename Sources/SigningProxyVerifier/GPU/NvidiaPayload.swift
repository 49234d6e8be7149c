/// The GPU evidence payload (`nvidia_payload` in docs/API.md).
struct NvidiaPayload: Codable, Sendable {
    struct Item: Codable, Sendable {
        var certificate: String
        var evidence: String
    }

    var nonce: String
    var evidenceList: [Item]
    var arch: String?
    var canned: Bool?

    private enum CodingKeys: String, CodingKey {
        case nonce
        case evidenceList = "evidence_list"
        case arch
        case canned
    }
}
