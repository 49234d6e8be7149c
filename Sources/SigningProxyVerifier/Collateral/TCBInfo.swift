/// The `tcbInfo` object of Intel PCS v4 for TDX (version 3, id `TDX`); only the fields the checks use.
struct TCBInfo: Decodable, Sendable {
    /// One SVN of `sgxtcbcomponents` / `tdxtcbcomponents`.
    struct Component: Decodable, Sendable {
        var svn: Int
    }

    /// A platform TCB level: the SGX components and PCESVN (from the PCK certificate) and the TDX
    /// components (from TEE_TCB_SVN) that reach it.
    struct Level: Decodable, Sendable {
        struct TCB: Decodable, Sendable {
            var sgxtcbcomponents: [Component]
            var pcesvn: Int
            var tdxtcbcomponents: [Component]?
        }

        var tcb: TCB
        var tcbDate: String?
        var tcbStatus: String
        var advisoryIDs: [String]?
    }

    /// Expected MRSIGNERSEAM and SEAMATTRIBUTES of the TDX module (hex).
    struct Module: Decodable, Sendable {
        var mrsigner: String
        var attributes: String
        var attributesMask: String
    }

    /// A TDX module version (`TDX_<TEE_TCB_SVN[1] as 2 hex digits>`) with its own TCB levels.
    struct ModuleIdentity: Decodable, Sendable {
        var id: String
        var mrsigner: String
        var attributes: String
        var attributesMask: String
        var tcbLevels: [ISVSVNLevel]
    }

    var id: String
    var version: Int
    var issueDate: String
    var nextUpdate: String
    var fmspc: String
    var pceId: String?
    var tcbType: Int?
    var tcbEvaluationDataNumber: Int?
    var tdxModule: Module?
    var tdxModuleIdentities: [ModuleIdentity]?
    var tcbLevels: [Level]
}
