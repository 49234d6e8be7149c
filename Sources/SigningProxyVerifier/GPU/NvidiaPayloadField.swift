/// `nvidia_payload`: a JSON string holding the payload object (or, from some proxies, the object).
enum NvidiaPayloadField: Decodable, Sendable {
    case payload(NvidiaPayload)
    case empty
    case invalid(String)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .empty
        } else if let text = try? container.decode(String.self) {
            if text.trimmingASCIIWhitespace().isEmpty {
                self = .empty
                return
            }
            switch LenientJSON.decode(NvidiaPayload.self, from: Array(text.utf8), what: "nvidia_payload") {
            case .success(let payload): self = .payload(payload)
            case .failure(let failure): self = .invalid(failure.description)
            }
        } else if let payload = try? container.decode(NvidiaPayload.self) {
            self = .payload(payload)
        } else {
            self = .invalid("nvidia_payload is neither a JSON string nor a payload object")
        }
    }
}
