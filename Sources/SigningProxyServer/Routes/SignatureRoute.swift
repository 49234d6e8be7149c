import Hummingbird
import NIOCore
import SigningCore

/// `GET /v1/signature/{chat_id}` (API.md §7).
struct SignatureRoute: Sendable {
    let authenticator: BearerAuthenticator
    let notary: ExchangeNotary
    let keys: SigningKeys
    let metrics: ProxyMetrics

    func handle(_ request: Request, context: some RequestContext) throws -> Response {
        try authenticator.authenticate(request.headers)
        metrics.increment(.signatureLookups)
        let chatID = context.parameters.get("chat_id") ?? ""
        // The lookup comes first, so an unknown id with a bad algorithm is a 404.
        guard let record = notary.lookup(chatID) else { throw OpenAIError.chatNotFound }
        let name = request.uri.queryParameters.get("signing_algo") ?? "ecdsa"
        guard let algorithm = SignatureAlgorithm(rawValue: String(name)) else { throw OpenAIError.invalidSigningAlgo }
        // With SIGNING_MODE=lazy the first lookup for this algorithm signs here.
        let signature = try notary.signature(algorithm, of: record, chatID: chatID, logger: context.logger)
        let address =
            switch algorithm {
            case .ecdsa: keys.ecdsaAddress.checksummed
            case .ed25519: keys.ed25519PublicKeyHex
            }
        var body = ByteBuffer()
        body.writeString(#"{"text":"#)
        body.writeString(JSONString.quoted(record.text))
        body.writeString(#","signature":""#)
        body.writeString(signature)
        body.writeString(#"","signing_address":""#)
        body.writeString(address)
        body.writeString(#"","signing_algo":""#)
        body.writeString(algorithm.rawValue)
        body.writeString(#""}"#)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
    }
}
