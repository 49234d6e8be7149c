import TDX

/// The dstack RTMR3 event policy.
///
/// Requires exactly one `app-id`, `compose-hash`, `instance-id`, `key-provider` and `boot-mr-done`, and
/// rejects unknown event names up to `system-ready`. Events after `system-ready` (OS 0.5.x EmitEvent)
/// are app claims: reported, never treated as system facts.
enum RuntimeEventPolicy {
    static let required = ["app-id", "compose-hash", "instance-id", "key-provider", "boot-mr-done"]
    static let known: Set<String> = [
        "system-preparing", "app-id", "compose-hash", "init-script-hash", "gpu-policy-hash", "gpu-attestation",
        "instance-id", "boot-mr-done", "os-image-hash", "key-provider", "storage-fs", "system-ready",
    ]

    /// The system events: everything up to and including `system-ready`.
    static func systemEvents(_ events: [TDXEvent]) -> [TDXEvent] {
        guard let ready = events.firstIndex(where: { $0.event == "system-ready" }) else { return events }
        return Array(events[...ready])
    }

    /// The payload of the single system event named `name`, if there is exactly one.
    static func payload(_ name: String, in events: [TDXEvent]) -> [UInt8]? {
        let matches = systemEvents(events).filter { $0.event == name }
        return matches.count == 1 ? matches[0].eventPayload : nil
    }

    static func check(_ events: [TDXEvent], into checks: inout CheckList) {
        let id = "measurements.runtime-events"
        let system = systemEvents(events)
        let appClaims = events.count - system.count
        var problems: [String] = []
        if let foreign = system.first(where: { !$0.isRuntimeEvent }) {
            problems.append("RTMR3 holds a non-runtime event of type \(foreign.eventType)")
        }
        for name in required {
            let count = system.filter { $0.event == name }.count
            if count != 1 { problems.append("\(count) \"\(name)\" events (expected exactly 1)") }
        }
        let unknown = Set(system.map(\.event)).subtracting(known)
        if !unknown.isEmpty {
            problems.append("unknown system events " + unknown.sorted().map { "\"\($0)\"" }.joined(separator: ", "))
        }
        if let done = system.firstIndex(where: { $0.event == "boot-mr-done" }) {
            let late = system[done...].filter { ["app-id", "compose-hash", "instance-id"].contains($0.event) }
            if !late.isEmpty { problems.append("identity events after boot-mr-done") }
        }
        if problems.isEmpty {
            let note = appClaims > 0 ? "; \(appClaims) app-emitted event(s) after system-ready ignored (app claims, not system facts)" : ""
            checks.pass(id, "\(system.count) system events in the expected shape (one app-id, compose-hash, instance-id, key-provider, boot-mr-done)\(note)")
        } else {
            checks.fail(id, problems.joined(separator: "; "))
        }
    }
}
