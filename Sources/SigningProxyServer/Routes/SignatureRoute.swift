import Hummingbird
import NIOCore
import SigningCore

/// `GET /v1/signature/{chat_id}` (API.md §7).
struct SignatureRoute: Sendable {
    let authenticator: BearerAuthenticator
    let store: SignatureStore<SignatureRecord>
    let keys: SigningKeys
    let metrics: ProxyMetrics

    func handle(_ request: Request, context: some RequestContext) throws -> Response {
        try authenticator.authenticate(request.headers)
        metrics.increment(.signatureLookups)
        let chatID = context.parameters.get("chat_id") ?? ""
        // The lookup comes first, so an unknown id with a bad algorithm is a 404.
        guard let record = store.lookup(chatID) else { throw OpenAIError.chatNotFound }
        let algorithm = request.uri.queryParameters.get("signing_algo") ?? "ecdsa"
        let signature: String
        let address: String
        switch algorithm {
        case "ecdsa":
            signature = record.ecdsaSignature
            address = keys.ecdsaAddress.checksummed
        case "ed25519":
            signature = record.ed25519Signature
            address = keys.ed25519PublicKeyHex
        default:
            throw OpenAIError.invalidSigningAlgo
        }
        var body = ByteBuffer()
        body.writeString(#"{"text":"#)
        body.writeString(JSONString.quoted(record.text))
        body.writeString(#","signature":""#)
        body.writeString(signature)
        body.writeString(#"","signing_address":""#)
        body.writeString(address)
        body.writeString(#"","signing_algo":""#)
        body.writeString(algorithm)
        body.writeString(#""}"#)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
    }
}
