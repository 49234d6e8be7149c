import TEE

extension AttestationService: AttestationReporting {
    package func report(signingAlgo: String?, nonce: String?, signingAddress: String?, includeTLSFingerprint: Bool)
        async throws -> [UInt8]
    {
        do {
            return try await report(
                AttestationQuery(
                    signingAlgo: signingAlgo,
                    nonce: nonce,
                    signingAddress: signingAddress,
                    includeTLSFingerprint: includeTLSFingerprint
                )
            )
        } catch {
            throw OpenAIError(status: .init(code: error.status), type: error.type, message: error.message)
        }
    }
}
