/// A TCB level keyed by one ISVSVN: QE identity levels and TDX module identity levels.
struct ISVSVNLevel: Decodable, Sendable {
    struct TCB: Decodable, Sendable {
        var isvsvn: Int
    }

    var tcb: TCB
    var tcbDate: String?
    var tcbStatus: String
    var advisoryIDs: [String]?
}
