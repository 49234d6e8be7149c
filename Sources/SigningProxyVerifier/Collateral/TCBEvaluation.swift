/// Intel's TDX TCB status algorithm (Intel's QVL `TcbLevelCheck`/`TdxModuleCheck`): the platform level
/// from the PCK certificate and TEE_TCB_SVN, the TDX module level, and the QE level, converged into one
/// status.
enum TCBEvaluation {
    /// The converged result, or why no status could be computed.
    struct Outcome: Sendable {
        /// The converged status; nil when the TCB is not supported by this collateral.
        var status: TCBStatus?
        /// Advisory ids of every level that was selected, without duplicates, in order.
        var advisoryIDs: [String]
        /// One phrase per selected level, for the check detail.
        var levels: [String]
        /// Why no status could be computed (set when `status` is nil).
        var problem: String?
    }

    /// The TDX-relevant inputs taken from the verified quote and PCK certificate.
    struct Platform: Sendable {
        var pck: PCKExtension
        /// TEE_TCB_SVN (16 bytes) from the TD report.
        var teeTCBSVN: [UInt8]
        /// ISVSVN of the QE report.
        var qeISVSVN: Int
    }

    static func evaluate(_ platform: Platform, tcbInfo: TCBInfo, qeIdentity: EnclaveIdentity) -> Outcome {
        var outcome = Outcome(status: nil, advisoryIDs: [], levels: [], problem: nil)
        func add(_ ids: [String]?) {
            for id in ids ?? [] where !outcome.advisoryIDs.contains(id) { outcome.advisoryIDs.append(id) }
        }
        func unsupported(_ problem: String) -> Outcome {
            outcome.status = nil
            outcome.problem = problem
            return outcome
        }

        // Platform: the first level the PCK's SGX TCB reaches, then among the following levels the
        // first the TEE_TCB_SVN reaches too.
        guard platform.teeTCBSVN.count == 16 else { return unsupported("TEE_TCB_SVN is not 16 bytes") }
        let sgxLevels = tcbInfo.tcbLevels.filter { reachesSGX(platform.pck, $0) }
        guard !sgxLevels.isEmpty else {
            return unsupported(
                "no TCB level is reached by the PCK certificate's CPUSVN components "
                    + "\(platform.pck.cpuSVNComponents.map(String.init).joined(separator: ",")) and PCESVN \(platform.pck.pceSVN)")
        }
        guard let tdxLevel = sgxLevels.first(where: { reachesTDX(platform.teeTCBSVN, $0) }) else {
            return unsupported("no TCB level is reached by TEE_TCB_SVN \(HexFormatting.full(platform.teeTCBSVN))")
        }
        guard let platformStatus = TCBStatus(rawValue: tdxLevel.tcbStatus) else {
            return unsupported("the selected TCB level has the unknown status \"\(tdxLevel.tcbStatus)\"")
        }
        add(tdxLevel.advisoryIDs)
        outcome.levels.append("platform level of \(tdxLevel.tcbDate ?? "unknown date") is \(platformStatus.rawValue)")

        // TDX module: TEE_TCB_SVN[1] names the module identity, TEE_TCB_SVN[0] selects its level.
        var status = platformStatus
        let moduleVersion = platform.teeTCBSVN[1]
        if moduleVersion != 0 {
            let id = moduleIdentityID(moduleVersion)
            guard let identity = tcbInfo.tdxModuleIdentities?.first(where: { $0.id.uppercased() == id }) else {
                return unsupported("the TCB info has no TDX module identity \(id)")
            }
            let isvsvn = Int(platform.teeTCBSVN[0])
            guard let level = identity.tcbLevels.first(where: { isvsvn >= $0.tcb.isvsvn }) else {
                return unsupported("no level of TDX module \(id) is reached by its ISVSVN \(isvsvn)")
            }
            guard let moduleStatus = TCBStatus(rawValue: level.tcbStatus),
                [.upToDate, .outOfDate, .revoked].contains(moduleStatus)
            else {
                return unsupported("TDX module \(id) level has the unexpected status \"\(level.tcbStatus)\"")
            }
            add(level.advisoryIDs)
            outcome.levels.append("TDX module \(id) ISVSVN \(isvsvn) is \(moduleStatus.rawValue)")
            status = converge(status, with: moduleStatus)
        }

        // QE: the first identity level its ISVSVN reaches.
        guard let qeLevel = qeIdentity.tcbLevels.first(where: { platform.qeISVSVN >= $0.tcb.isvsvn }) else {
            return unsupported("no QE identity level is reached by the QE's ISVSVN \(platform.qeISVSVN)")
        }
        guard let qeStatus = TCBStatus(rawValue: qeLevel.tcbStatus), [.upToDate, .outOfDate, .revoked].contains(qeStatus) else {
            return unsupported("the QE identity level has the unexpected status \"\(qeLevel.tcbStatus)\"")
        }
        add(qeLevel.advisoryIDs)
        outcome.levels.append("QE ISVSVN \(platform.qeISVSVN) is \(qeStatus.rawValue)")
        outcome.status = converge(status, with: qeStatus)
        return outcome
    }

    /// `TDX_` and the module version as two uppercase hex digits.
    static func moduleIdentityID(_ version: UInt8) -> String {
        let hex = String(version, radix: 16, uppercase: true)
        return "TDX_" + (hex.count == 1 ? "0" + hex : hex)
    }

    /// Every SGX component and the PCESVN of the PCK certificate are at least the level's.
    static func reachesSGX(_ pck: PCKExtension, _ level: TCBInfo.Level) -> Bool {
        let components = level.tcb.sgxtcbcomponents.map(\.svn)
        guard components.count == 16, pck.cpuSVNComponents.count == 16 else { return false }
        return pck.pceSVN >= level.tcb.pcesvn && zip(pck.cpuSVNComponents, components).allSatisfy { $0 >= $1 }
    }

    /// Every TEE_TCB_SVN byte is at least the level's TDX component; when TEE_TCB_SVN[1] names a
    /// module version, bytes 0 and 1 are judged by the module identity instead.
    static func reachesTDX(_ teeTCBSVN: [UInt8], _ level: TCBInfo.Level) -> Bool {
        guard let components = level.tcb.tdxtcbcomponents?.map(\.svn), components.count == 16, teeTCBSVN.count == 16 else {
            return false
        }
        let first = teeTCBSVN[1] != 0 ? 2 : 0
        return (first..<16).allSatisfy { Int(teeTCBSVN[$0]) >= components[$0] }
    }

    /// A module or QE status that is worse than the platform's lowers it (Intel's convergence rules).
    static func converge(_ platform: TCBStatus, with component: TCBStatus) -> TCBStatus {
        switch component {
        case .revoked:
            return .revoked
        case .outOfDate:
            switch platform {
            case .upToDate, .swHardeningNeeded: return .outOfDate
            case .configurationNeeded, .configurationAndSWHardeningNeeded: return .outOfDateConfigurationNeeded
            default: return platform
            }
        default:
            return platform
        }
    }
}
