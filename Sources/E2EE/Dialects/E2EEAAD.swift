/// The associated data each dialect binds a field to; shared by the server contexts and `E2EEClient`.
package enum E2EEAAD {
    /// DV v2 request: `v2|req|algo=…|model=…|m=…|c=…|n=…|ts=…` (`c=-` for a string `content`).
    package static func dvRequest(
        algo: SigningAlgo, model: String, messageIndex: Int, contentIndex: Int?, nonce: String, timestamp: Int64
    ) -> [UInt8] {
        let content = contentIndex.map(String.init) ?? "-"
        return Array(
            "v2|req|algo=\(algo.rawValue)|model=\(model)|m=\(messageIndex)|c=\(content)|n=\(nonce)|ts=\(timestamp)".utf8
        )
    }

    /// DV v2 response: `v2|resp|algo=…|model=…|id=…|choice=…|field=…|n=…|ts=…` (the RESPONSE's model).
    package static func dvResponse(
        algo: SigningAlgo, model: String, id: String, choice: Int, field: String, nonce: String, timestamp: Int64
    ) -> [UInt8] {
        Array(
            "v2|resp|algo=\(algo.rawValue)|model=\(model)|id=\(id)|choice=\(choice)|field=\(field)|n=\(nonce)|ts=\(timestamp)"
                .utf8
        )
    }

    /// ACI v2 request: JCS of `{purpose, algo, model, field, nonce, ts}`.
    package static func aciRequest(
        suite: ACIKey.Suite, model: String, field: String, nonce: String, timestamp: Int64
    ) -> [UInt8] {
        JCS.object([
            ("purpose", .string("aci.e2ee.request.v2")), ("algo", .string(suite.rawValue)), ("model", .string(model)),
            ("field", .string(field)), ("nonce", .string(nonce)), ("ts", .integer(timestamp)),
        ])
    }

    /// ACI v2 response: the request's object with purpose `aci.e2ee.response.v2` and the response `id`.
    package static func aciResponse(
        suite: ACIKey.Suite, model: String, id: String, field: String, nonce: String, timestamp: Int64
    ) -> [UInt8] {
        JCS.object([
            ("purpose", .string("aci.e2ee.response.v2")), ("algo", .string(suite.rawValue)), ("model", .string(model)),
            ("id", .string(id)), ("field", .string(field)), ("nonce", .string(nonce)), ("ts", .integer(timestamp)),
        ])
    }
}
