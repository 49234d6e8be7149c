/// Seals the generated fields of an answer, a whole JSON body or one streamed event, per dialect and endpoint
/// (docs/E2EE.md, "Which fields"). Each sealed value's hex string is spliced over the original value; every other
/// byte, the `id` and the numbers included, is kept as received.
///
/// Rules ported from DV's `encrypt_chat_completion_{response,chunk}`, NEAR's `encrypt_response_fields` /
/// `encrypt_streaming_chunk`, and ACI's `spec/e2ee-v2.md` §5 with its gateway's `encrypt_e2ee_*`.
struct E2EEAnswerSealer: Sendable {
    let context: E2EERequestContext
    let endpoint: E2EEEndpoint
    /// ACI binds the request's `model` into the answer's AAD.
    let aciModel: String

    var family: E2EEError.Family { self.context.family }

    /// What this dialect leaves in the clear on this endpoint (see `Walk.refuseUnsealed`).
    private func unsealed(streamed: Bool) -> Walk.Unsealed {
        let container = self.endpoint == .chatCompletions ? (streamed ? "delta" : "message") : nil
        return switch self.context {
        case .dv: Walk.Unsealed(container: container, toolCalls: true, logprobs: true, audio: true, strictText: true)
        case .legacyV1: Walk.Unsealed(container: container, toolCalls: true, logprobs: true, audio: false, strictText: false)
        case .near(let near):
            Walk.Unsealed(
                container: container, toolCalls: !near.encryptAllFields,
                logprobs: !near.encryptAllFields || self.endpoint != .chatCompletions, audio: false, strictText: false)
        case .aci: Walk.Unsealed(container: container, toolCalls: true, logprobs: true, audio: streamed, strictText: false)
        }
    }

    /// The sealed bytes of `body` (a whole answer, or one event's data when `streamed`).
    func seal(_ body: [UInt8], streamed: Bool) throws(E2EEError) -> [UInt8] {
        var walk = Walk(json: JSONScanner(body), fault: .unsealableAnswer(self.family))
        let root: Range<Int>
        do { root = try walk.json.root() } catch { throw walk.fault }
        // vLLM answers (and its error events) are objects: any other root has no place for its fields to be sealed.
        guard walk.json.kind(root) == .object else { throw walk.fault }
        let top = try walk.members(root)
        try walk.refuseUnsealed(top, self.unsealed(streamed: streamed))
        switch self.context {
        case .dv(let dv):
            try walk.sealDV(top, streamed: streamed, union: false) { text, model, id, choice, field throws(E2EEError) in
                try dv.encryptResponseField(text, model: model, id: id, choice: choice, field: field)
            }
        case .legacyV1(let legacy):
            if self.endpoint == .chatCompletions, legacy.resolution != .near {
                try walk.sealDV(top, streamed: streamed, union: true) { text, _, _, _, _ throws(E2EEError) in
                    try legacy.encryptField(text)
                }
            } else {
                try walk.sealNear(top, endpoint: self.endpoint, streamed: streamed, allFields: false) { text throws(E2EEError) in
                    try legacy.encryptField(text)
                }
            }
        case .near(let near):
            try walk.sealNear(top, endpoint: self.endpoint, streamed: streamed, allFields: near.encryptAllFields) {
                text throws(E2EEError) in try near.encryptField(text)
            }
        case .aci(let aci):
            let model = self.aciModel
            try walk.sealACI(top, endpoint: self.endpoint, streamed: streamed) { text, id, field throws(E2EEError) in
                try aci.encryptResponseField(text, model: model, id: id, field: field)
            }
        }
        return walk.splice.apply(to: body)
    }
}

/// One answer being sealed: its text, and the replacements so far.
private struct Walk {
    let json: JSONScanner
    let fault: E2EEError
    var splice = JSONSplice()

    // MARK: DV

    /// DV: `choices[i].message` (or `.delta`) `content`, `reasoning_content` and `reasoning` strings, AAD with the
    /// answer's `model` and `id` and the choice's position; a streamed empty `delta.content` is dropped. DV's own
    /// code seals the first two only, but vLLM 0.32 names its reasoning `reasoning`, which would otherwise leave in
    /// the clear (sealed under `field=reasoning`). With `union` (DV and NEAR v1 cannot be told apart), NEAR's v1
    /// fields too: `audio.data`, list content's `text`.
    mutating func sealDV(
        _ top: [JSONScanner.Member], streamed: Bool, union: Bool,
        _ seal: (String, String, String, Int, String) throws(E2EEError) -> String
    ) throws(E2EEError) {
        let id = try self.dvText(E2EERequestOpener.last(top, "id"))
        let model = try self.dvText(E2EERequestOpener.last(top, "model"))
        let containerName = streamed ? "delta" : "message"
        for choices in E2EERequestOpener.all(top, "choices") {
            for (position, choice) in try self.elements(choices).enumerated() {
                // Every occurrence, as NEAR and ACI do: a parser that keeps the first would read the clear one.
                for container in E2EERequestOpener.all(try self.members(choice), containerName) {
                    let fields = try self.members(container)
                    if streamed { self.dropEmptyContent(fields) }
                    for field in fields {
                        switch field.name {
                        case "content", "reasoning_content", "reasoning":
                            if union, field.name == "content", self.json.kind(field.value) == .array {
                                try self.sealParts(field.value) { text throws(E2EEError) in
                                    try seal(text, model, id, position, "content")
                                }
                                continue
                            }
                            guard self.json.kind(field.value) == .string else { continue }
                            if streamed, field.name == "content", self.json.isString(field.value, "") { continue }
                            let text = try self.string(field.value)
                            self.replace(field.value, hex: try seal(text, model, id, position, field.name))
                        case "audio" where union:
                            for data in E2EERequestOpener.all(try self.members(field.value), "data") {
                                try self.sealString(data) { text throws(E2EEError) in try seal(text, model, id, position, "audio") }
                            }
                        default: continue
                        }
                    }
                }
            }
        }
    }

    /// DV's `str(obj.get(name, ""))` for the answer's `id` and `model` (see the request opener).
    private func dvText(_ value: Range<Int>?) throws(E2EEError) -> String {
        let text: String?
        do { text = try self.json.pythonText(value) } catch { throw self.fault }
        guard let text else { throw self.fault }
        return text
    }

    // MARK: Fields no sealer covers

    /// What a dialect leaves in the clear: `true` where such a field must be vacant for the answer to go out.
    struct Unsealed {
        /// The choice member whose fields are sealed (`message`, streamed `delta`; nil off chat): the other, or one
        /// that is not an object, no sealer reads.
        var container: String?
        /// `message`/`delta` `tool_calls`, `function_call` and `refusal` (NEAR seals them with all-fields).
        var toolCalls: Bool
        /// `choices[].logprobs` (NEAR seals chat logprob tokens with all-fields, where the choice has its message).
        var logprobs: Bool
        /// `message`/`delta` `audio` (DV seals none of it; ACI not in a stream). Its `transcript` nobody seals.
        var audio: Bool
        /// DV seals `content` only as a string (the others a list content's `text` too); `reasoning` and
        /// `reasoning_content` every dialect seals only as strings: another value but null is refused.
        var strictText: Bool
    }

    /// Defence in depth behind E2EEParameterGuard (a server may return these unasked, e.g. with tools configured by
    /// default): an answer where a field the dialect does not seal carries a value (anything but null, false, 0,
    /// "", [] or {}) is `unsealableAnswer`. vLLM's normal answers send them as `null` or `[]`, which pass. The
    /// prompt's tokens (`prompt_logprobs`, `prompt_token_ids`, `prompt_text`) and `token_ids` no dialect seals.
    mutating func refuseUnsealed(_ top: [JSONScanner.Member], _ unsealed: Unsealed) throws(E2EEError) {
        let promptFields: Set<String> = ["prompt_logprobs", "prompt_token_ids", "prompt_text", "token_ids"]
        for member in top where promptFields.contains(member.name) { try self.requireVacant(member.value) }
        for choices in E2EERequestOpener.all(top, "choices") where self.json.kind(choices) == .array {
            for choice in try self.elements(choices) where self.json.kind(choice) == .object {
                let fields = try self.members(choice)
                var containers = 0
                for field in fields where field.name == "message" || field.name == "delta" {
                    guard field.name == unsealed.container, self.json.kind(field.value) == .object else {
                        try self.requireVacant(field.value)
                        continue
                    }
                    containers += 1
                    try self.refuseUnsealedMessage(try self.members(field.value), unsealed)
                }
                for field in fields {
                    if promptFields.contains(field.name) || (field.name == "logprobs" && (unsealed.logprobs || containers == 0)) {
                        try self.requireVacant(field.value)
                    }
                }
            }
        }
    }

    private func refuseUnsealedMessage(_ fields: [JSONScanner.Member], _ unsealed: Unsealed) throws(E2EEError) {
        for field in fields {
            switch field.name {
            case "tool_calls", "function_call", "refusal":
                if unsealed.toolCalls { try self.requireVacant(field.value) }
            case "annotations": try self.requireVacant(field.value)
            case "audio":
                if unsealed.audio || self.json.kind(field.value) != .object {
                    try self.requireVacant(field.value)
                } else {
                    for transcript in E2EERequestOpener.all(try self.members(field.value), "transcript") {
                        try self.requireVacant(transcript)
                    }
                }
            case "content", "reasoning", "reasoning_content":
                // Sealers seal strings (NEAR and the shared v1 also a list content's `text`): another value would
                // pass in the clear.
                let kind = self.json.kind(field.value)
                if kind == .string || self.json.isNull(field.value) { continue }
                if kind == .array, field.name == "content", !unsealed.strictText { continue }
                throw self.fault
            default: continue
            }
        }
    }

    private func requireVacant(_ value: Range<Int>) throws(E2EEError) {
        guard E2EEParameterGuard.isVacant(value, in: self.json, emptyString: true) else { throw self.fault }
    }

    // MARK: NEAR

    /// NEAR: every non-empty string of the named fields is sealed (an empty one stays `""`), other types stay.
    mutating func sealNear(
        _ top: [JSONScanner.Member], endpoint: E2EEEndpoint, streamed: Bool, allFields: Bool,
        _ seal: (String) throws(E2EEError) -> String
    ) throws(E2EEError) {
        switch endpoint {
        case .chatCompletions:
            let containerName = streamed ? "delta" : "message"
            for choices in E2EERequestOpener.all(top, "choices") {
                for choice in try self.elements(choices) {
                    let choiceFields = try self.members(choice)
                    let containers = E2EERequestOpener.all(choiceFields, containerName)
                    for container in containers {
                        try self.sealNearMessage(container, allFields: allFields, seal)
                    }
                    // NEAR seals logprobs only where the choice has its message (or delta).
                    guard allFields, !containers.isEmpty else { continue }
                    for logprobs in E2EERequestOpener.all(choiceFields, "logprobs") {
                        try self.sealLogprobs(logprobs, seal)
                    }
                }
            }
        case .completions:
            for choices in E2EERequestOpener.all(top, "choices") {
                for choice in try self.elements(choices) {
                    for text in E2EERequestOpener.all(try self.members(choice), "text") { try self.sealNonEmpty(text, seal) }
                }
            }
        case .embeddings:
            for data in E2EERequestOpener.all(top, "data") {
                for item in try self.elements(data) {
                    for embedding in E2EERequestOpener.all(try self.members(item), "embedding") {
                        switch self.json.kind(embedding) {
                        // NEAR seals the float list as its compact JSON text.
                        case .array: self.replace(embedding, hex: try seal(String(decoding: self.json.compact(embedding), as: UTF8.self)))
                        // Added here: a base64 embedding (`encoding_format: base64`) is sealed too, as its text;
                        // NEAR's proxy would send it in the clear.
                        case .string: try self.sealNonEmpty(embedding, seal)
                        default: continue
                        }
                    }
                }
            }
        case .rerank:
            for results in E2EERequestOpener.all(top, "results") {
                for result in try self.elements(results) {
                    for document in E2EERequestOpener.all(try self.members(result), "document") {
                        for text in E2EERequestOpener.all(try self.members(document), "text") {
                            try self.sealNonEmpty(text, seal)
                        }
                    }
                }
            }
        case .score:
            // NEAR seals a top-level `score` as its JSON text (vLLM's scores sit in `data[].score`, which NEAR
            // leaves in the clear: they are numbers, not generated text).
            for score in E2EERequestOpener.all(top, "score") where !self.json.isNull(score) {
                self.replace(score, hex: try seal(String(decoding: self.json.compact(score), as: UTF8.self)))
            }
        case .responses, .messages, .other:
            throw .unsupportedEndpoint(.near)
        }
    }

    private mutating func sealNearMessage(
        _ message: Range<Int>, allFields: Bool, _ seal: (String) throws(E2EEError) -> String
    ) throws(E2EEError) {
        for field in try self.members(message) {
            switch field.name {
            case "content":
                if self.json.kind(field.value) == .array {
                    try self.sealParts(field.value, seal)
                } else {
                    try self.sealNonEmpty(field.value, seal)
                }
            case "reasoning_content", "reasoning": try self.sealNonEmpty(field.value, seal)
            case "audio":
                for data in E2EERequestOpener.all(try self.members(field.value), "data") { try self.sealNonEmpty(data, seal) }
            case "refusal" where allFields: try self.sealNonEmpty(field.value, seal)
            case "tool_calls" where allFields:
                for call in try self.elements(field.value) {
                    for function in E2EERequestOpener.all(try self.members(call), "function") {
                        try self.sealFunction(function, seal)
                    }
                }
            case "function_call" where allFields: try self.sealFunction(field.value, seal)
            default: continue
            }
        }
    }

    private mutating func sealFunction(_ function: Range<Int>, _ seal: (String) throws(E2EEError) -> String) throws(E2EEError) {
        for field in try self.members(function) where field.name == "arguments" || field.name == "name" {
            try self.sealNonEmpty(field.value, seal)
        }
    }

    /// NEAR's `encrypt_logprobs_tokens`: `content[]` and `refusal[]` entries' `token` and `bytes` (the byte list as
    /// its compact JSON text), and the same in each entry's `top_logprobs[]`.
    private mutating func sealLogprobs(_ logprobs: Range<Int>, _ seal: (String) throws(E2EEError) -> String) throws(E2EEError) {
        for list in try self.members(logprobs) where list.name == "content" || list.name == "refusal" {
            for entry in try self.elements(list.value) {
                try self.sealToken(entry, seal)
            }
        }
    }

    private mutating func sealToken(_ entry: Range<Int>, _ seal: (String) throws(E2EEError) -> String) throws(E2EEError) {
        for field in try self.members(entry) {
            switch field.name {
            case "token": try self.sealNonEmpty(field.value, seal)
            case "bytes" where self.json.kind(field.value) == .array:
                self.replace(field.value, hex: try seal(String(decoding: self.json.compact(field.value), as: UTF8.self)))
            case "top_logprobs":
                for top in try self.elements(field.value) { try self.sealToken(top, seal) }
            default: continue
            }
        }
    }

    // MARK: ACI v2

    /// ACI v2 (spec §5): chat `choices.{i}.message.{content,reasoning,reasoning_content,audio.data}` (streamed:
    /// `delta.{content,reasoning,reasoning_content}`, an empty `delta.content` dropped), completions
    /// `choices.{i}.text`, embeddings `data.{i}.embedding` as its compact JSON; `{i}` is the entry's `index` when it
    /// has one. A `null` stays; another non-string where a string is sealed is refused (the gateway's rule).
    mutating func sealACI(
        _ top: [JSONScanner.Member], endpoint: E2EEEndpoint, streamed: Bool,
        _ seal: (String, String, String) throws(E2EEError) -> String
    ) throws(E2EEError) {
        var id = ""
        if let value = E2EERequestOpener.last(top, "id"), self.json.kind(value) == .string { id = try self.string(value) }
        switch endpoint {
        case .chatCompletions, .completions:
            let containerName = streamed ? "delta" : "message"
            for choices in E2EERequestOpener.all(top, "choices") {
                for (position, choice) in try self.elements(choices).enumerated() {
                    let fields = try self.members(choice)
                    let prefix = "choices.\(self.index(fields) ?? position)"
                    if endpoint == .completions {
                        for text in E2EERequestOpener.all(fields, "text") {
                            try self.sealACIString(text) { plain throws(E2EEError) in try seal(plain, id, prefix + ".text") }
                        }
                        continue
                    }
                    for container in E2EERequestOpener.all(fields, containerName) where self.json.kind(container) == .object {
                        let members = try self.members(container)
                        if streamed { self.dropEmptyContent(members) }
                        for member in members {
                            switch member.name {
                            case "content", "reasoning", "reasoning_content":
                                if streamed, member.name == "content", self.json.isString(member.value, "") { continue }
                                let path = "\(prefix).\(containerName).\(member.name)"
                                try self.sealACIString(member.value) { plain throws(E2EEError) in try seal(plain, id, path) }
                            case "audio" where !streamed && self.json.kind(member.value) == .object:
                                let path = "\(prefix).message.audio.data"
                                for data in E2EERequestOpener.all(try self.members(member.value), "data")
                                where self.json.kind(data) == .string {
                                    try self.sealString(data) { plain throws(E2EEError) in try seal(plain, id, path) }
                                }
                            default: continue
                            }
                        }
                    }
                }
            }
        case .embeddings:
            for data in E2EERequestOpener.all(top, "data") {
                for (position, item) in try self.elements(data).enumerated() {
                    let fields = try self.members(item)
                    let path = "data.\(self.index(fields) ?? position).embedding"
                    for embedding in E2EERequestOpener.all(fields, "embedding") where !self.json.isNull(embedding) {
                        let text = String(decoding: self.json.compact(embedding), as: UTF8.self)
                        self.replace(embedding, hex: try seal(text, id, path))
                    }
                }
            }
        case .rerank, .score, .responses, .messages, .other:
            throw .unsupportedEndpoint(.aci)
        }
    }

    /// The entry's `index` when it is a non-negative integer (serde's `as_u64`).
    private func index(_ fields: [JSONScanner.Member]) -> Int? {
        guard let value = E2EERequestOpener.last(fields, "index"), self.json.kind(value) == .number else { return nil }
        let digits = self.json.bytes[value]
        guard digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int(String(decoding: digits, as: UTF8.self))
    }

    private mutating func sealACIString(_ value: Range<Int>, _ seal: (String) throws(E2EEError) -> String) throws(E2EEError) {
        switch self.json.kind(value) {
        case .string: try self.sealString(value, seal)
        case .literal where self.json.isNull(value): return
        default: throw self.fault
        }
    }

    // MARK: Shared

    /// A streamed `"content": ""` is removed, as DV and ACI do (only when the delta has one `content`).
    private mutating func dropEmptyContent(_ members: [JSONScanner.Member]) {
        let contents = members.indices.filter { members[$0].name == "content" }
        guard contents.count == 1, let index = contents.first, self.json.isString(members[index].value, "") else { return }
        let member = members[index]
        let range: Range<Int> =
            if index + 1 < members.count {
                member.start..<members[index + 1].start
            } else if index > 0 {
                members[index - 1].value.upperBound..<member.value.upperBound
            } else {
                member.start..<member.value.upperBound
            }
        self.splice.replace(range, with: [])
    }

    /// List content's `text` items (NEAR's `encrypt_content_field`).
    private mutating func sealParts(_ parts: Range<Int>, _ seal: (String) throws(E2EEError) -> String) throws(E2EEError) {
        for part in try self.elements(parts) {
            for text in E2EERequestOpener.all(try self.members(part), "text") { try self.sealNonEmpty(text, seal) }
        }
    }

    private mutating func sealNonEmpty(_ value: Range<Int>, _ seal: (String) throws(E2EEError) -> String) throws(E2EEError) {
        guard self.json.kind(value) == .string, !self.json.isString(value, "") else { return }
        try self.sealString(value, seal)
    }

    private mutating func sealString(_ value: Range<Int>, _ seal: (String) throws(E2EEError) -> String) throws(E2EEError) {
        guard self.json.kind(value) == .string else { return }
        self.replace(value, hex: try seal(try self.string(value)))
    }

    private mutating func replace(_ value: Range<Int>, hex: String) {
        var bytes: [UInt8] = [UInt8(ascii: "\"")]
        bytes.reserveCapacity(hex.utf8.count + 2)
        bytes.append(contentsOf: hex.utf8)
        bytes.append(UInt8(ascii: "\""))
        self.splice.replace(value, with: bytes)
    }

    func members(_ value: Range<Int>) throws(E2EEError) -> [JSONScanner.Member] {
        do { return try self.json.members(value) } catch { throw self.fault }
    }

    func elements(_ value: Range<Int>) throws(E2EEError) -> [Range<Int>] {
        do { return try self.json.elements(value) } catch { throw self.fault }
    }

    func string(_ value: Range<Int>) throws(E2EEError) -> String {
        do { return try self.json.string(value) } catch { throw self.fault }
    }
}
