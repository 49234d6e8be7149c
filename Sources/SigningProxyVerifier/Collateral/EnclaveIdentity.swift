/// The `enclaveIdentity` object of Intel PCS v4 (the TD QE's identity, id `TD_QE`, version 2).
struct EnclaveIdentity: Decodable, Sendable {
    var id: String
    var version: Int
    var issueDate: String
    var nextUpdate: String
    var tcbEvaluationDataNumber: Int?
    /// Expected MISCSELECT (hex, 4 bytes) after masking with ``miscselectMask``.
    var miscselect: String
    var miscselectMask: String
    /// Expected ATTRIBUTES (hex, 16 bytes) after masking with ``attributesMask``.
    var attributes: String
    var attributesMask: String
    var mrsigner: String
    var isvprodid: Int
    var tcbLevels: [ISVSVNLevel]
}
