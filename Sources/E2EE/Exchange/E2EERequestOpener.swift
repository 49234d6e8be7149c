/// Decrypts the encrypted fields of one request body in place, per dialect and endpoint (docs/E2EE.md, "Which
/// fields"); every other byte is kept. Rules ported from each dialect's reference: DV's `e2ee.py`
/// (`decrypt_request_json`), NEAR's `encryption.rs` (`decrypt_request_fields`), ACI's `spec/e2ee-v2.md` §5.
struct E2EERequestOpener {
    /// Where a DV-style field sits: `messages[m].content` (`c` nil) or its list item `c`; `extra` for NEAR's v1
    /// fields opened when DV and NEAR v1 cannot be told apart.
    private enum DVSite {
        case content(message: Int, part: Int?)
        case extra
    }

    private let json: JSONScanner
    private var splice = JSONSplice()
    /// The error a structural fault is answered with.
    private let fault: E2EEError

    private init(_ body: [UInt8], fault: E2EEError) {
        self.json = JSONScanner(body)
        self.fault = fault
    }

    /// The most encrypted fields one request may carry: each costs an ECDH (tens of µs) on the event loop, and
    /// 2 048 is OpenAI's own cap on an embeddings `input` list.
    static let maxEncryptedFields = 2048

    /// Counts the fields a walk would open, instead of opening them (the first pass of `open`).
    private final class FieldCounter {
        private(set) var count = 0
        let family: E2EEError.Family

        init(family: E2EEError.Family) { self.family = family }

        /// One more field; throws once past the cap (a lenient site swallows it, so `count` is checked again after).
        func add() throws(E2EEError) {
            self.count += 1
            if self.count > E2EERequestOpener.maxEncryptedFields { throw .tooManyFields(self.family) }
        }
    }

    /// A field's plaintext from `decrypt`, or, in the counting pass, the field counted and `""` in its place (so
    /// nothing is decrypted and nothing large is copied).
    private static func field(
        _ counter: FieldCounter?, _ decrypt: () throws(E2EEError) -> String
    ) throws(E2EEError) -> String {
        guard let counter else { return try decrypt() }
        try counter.add()
        return ""
    }

    /// The body to forward, and the request's `model` as ACI binds it (nil for the other dialects).
    ///
    /// First the clear parameters are checked (E2EEParameterGuard), then the fields are counted without opening any
    /// (at most `maxEncryptedFields`), then opened: a refused request costs no ECDH.
    static func open(
        _ body: [UInt8], context: inout E2EERequestContext, endpoint: E2EEEndpoint
    ) throws(E2EEError) -> (body: [UInt8], aciModel: String?) {
        let family = context.family
        try E2EEParameterGuard.check(body, context: context, endpoint: endpoint, family: family)
        let counter = FieldCounter(family: family)
        var scratch = context
        do {
            _ = try Self.walk(body, context: &scratch, endpoint: endpoint, counter: counter)
        } catch where error == .tooManyFields(family) {
            throw error
        } catch {
            // Any other fault is the real pass's to report, in its order: it opens at most the fields counted
            // before that fault.
        }
        if counter.count > Self.maxEncryptedFields { throw .tooManyFields(family) }
        let opened = try Self.walk(body, context: &context, endpoint: endpoint, counter: nil)
        return (opened.splice.apply(to: body), opened.aciModel)
    }

    /// One walk over the body, giving the splice that opens its fields: with a `counter`, each field is counted
    /// instead (see `field`), and the splice is thrown away.
    private static func walk(
        _ body: [UInt8], context: inout E2EERequestContext, endpoint: E2EEEndpoint, counter: FieldCounter?
    ) throws(E2EEError) -> (splice: JSONSplice, aciModel: String?) {
        switch context {
        case .dv(let dv):
            var opener = Self(body, fault: .invalidBody(.dv))
            try opener.openDVStyle(extras: false) { hex, model, site throws(E2EEError) in
                guard case .content(let message, let part) = site else { return hex }
                return try Self.field(counter) { () throws(E2EEError) in
                    try dv.decryptRequestField(hex, model: model, messageIndex: message, contentIndex: part)
                }
            }
            return (opener.splice, nil)
        case .near(let near):
            var opener = Self(body, fault: .invalidBody(.near))
            try opener.openNear(endpoint: endpoint, allFields: near.encryptAllFields) { hex throws(E2EEError) in
                try Self.field(counter) { () throws(E2EEError) in try near.decryptField(hex) }
            }
            return (opener.splice, nil)
        case .legacyV1(var legacy):
            var opener = Self(body, fault: .invalidBody(.dv))
            if endpoint == .chatCompletions {
                try opener.openDVStyle(extras: true) { hex, _, _ throws(E2EEError) in
                    try Self.field(counter) { () throws(E2EEError) in try legacy.decryptField(hex) }
                }
            } else {
                try opener.openNear(endpoint: endpoint, allFields: false) { hex throws(E2EEError) in
                    try Self.field(counter) { () throws(E2EEError) in try legacy.decryptField(hex) }
                }
            }
            context = .legacyV1(legacy)
            return (opener.splice, nil)
        case .aci(let aci):
            var opener = Self(body, fault: .decryptionFailed(.aci))
            let model = try opener.openACI(aci, endpoint: endpoint, counter: counter)
            return (opener.splice, model)
        }
    }

    // MARK: DV (chat only), and the v1 that DV and NEAR share

    /// DV: `messages[m].content` strings (hex required; AAD `m`, `c=-`) and list items of type `text` (AAD `m`,
    /// `c`); `null` and other types pass. With `extras`, NEAR's v1 message fields (`reasoning_content`,
    /// `reasoning`, `audio.data`) are opened too, leniently: a DV client sends those in the clear.
    private mutating func openDVStyle(
        extras: Bool, _ open: (String, String, DVSite) throws(E2EEError) -> String
    ) throws(E2EEError) {
        let top = try self.members(try self.rootObject())
        let model = try self.dvText(Self.last(top, "model"))
        for messages in Self.all(top, "messages") {
            for (messageIndex, message) in try self.elements(messages).enumerated() {
                let fields = try self.members(message)
                for content in Self.all(fields, "content") {
                    switch self.json.kind(content) {
                    case .string:
                        let hex = try self.string(content)
                        // The shared v1 keeps an empty content, as NEAR does; DV refuses it as not hex.
                        if extras, hex.isEmpty { continue }
                        guard Self.isDVHex(hex) else { throw .malformedField(.dv) }
                        let plaintext = try open(hex, model, .content(message: messageIndex, part: nil))
                        self.replaceContent(content, with: plaintext)
                    case .array:
                        for (partIndex, item) in try self.elements(content).enumerated() {
                            let part = try self.members(item)
                            guard let type = Self.last(part, "type"), self.json.isString(type, "text") else { continue }
                            for text in Self.all(part, "text") where self.json.kind(text) == .string {
                                let hex = try self.string(text)
                                guard Self.isDVHex(hex) else { throw .malformedField(.dv) }
                                let plaintext = try open(hex, model, .content(message: messageIndex, part: partIndex))
                                self.splice.replace(text, with: JSONScanner.encodeString(plaintext))
                            }
                        }
                    default: continue
                    }
                }
                guard extras else { continue }
                var values = Self.all(fields, "reasoning_content") + Self.all(fields, "reasoning")
                for audio in Self.all(fields, "audio") { values += Self.all(try self.members(audio), "data") }
                for value in values.sorted(by: { $0.lowerBound < $1.lowerBound }) {
                    try self.openLeniently(value) { hex throws(E2EEError) in try open(hex, model, .extra) }
                }
            }
        }
    }

    /// DV's `_is_hex`: non-empty, even length, hex digits.
    private static func isDVHex(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count % 2 == 0 && text.utf8.allSatisfy { $0.isASCIIHexDigit }
    }

    /// DV binds `str(payload.get("model", ""))`: a string as it is, `""` when absent, Python's spelling of the
    /// literals, a number as written; an object or array is refused (its `str` is Python's repr).
    private func dvText(_ value: Range<Int>?) throws(E2EEError) -> String {
        let text: String?
        do { text = try self.json.pythonText(value) } catch { throw self.fault }
        guard let text else { throw .malformedField(.dv) }
        return text
    }

    // MARK: NEAR

    /// NEAR's `decrypt_request_fields`: a non-empty string is opened (an empty one stays), other types pass.
    /// Fields marked lenient are NEAR's `try_decrypt_field` (all-fields only): a value that does not open stays.
    private mutating func openNear(
        endpoint: E2EEEndpoint, allFields: Bool, _ open: (String) throws(E2EEError) -> String
    ) throws(E2EEError) {
        let top = try self.members(try self.rootObject())
        switch endpoint {
        case .chatCompletions:
            // Members are visited in document order so that the splice stays ordered.
            for member in top {
                switch member.name {
                case "messages":
                    for message in try self.elements(member.value) {
                        try self.openNearMessage(message, allFields: allFields, open)
                    }
                case "tools" where allFields:
                    for tool in try self.elements(member.value) {
                        for function in Self.all(try self.members(tool), "function") {
                            for field in try self.members(function) {
                                switch field.name {
                                case "name", "description": try self.openLeniently(field.value, open)
                                case "parameters": try self.openLeniently(field.value, restoring: .anyJSON, open)
                                default: continue
                                }
                            }
                        }
                    }
                case "tool_choice" where allFields:
                    for function in Self.all(try self.members(member.value), "function") {
                        for name in Self.all(try self.members(function), "name") { try self.openLeniently(name, open) }
                    }
                case "function_call" where allFields:
                    for name in Self.all(try self.members(member.value), "name") { try self.openLeniently(name, open) }
                default: continue
                }
            }
        case .completions: try self.openStringOrStrings(Self.all(top, "prompt"), open)
        case .embeddings: try self.openStringOrStrings(Self.all(top, "input"), open)
        case .rerank:
            for member in top {
                switch member.name {
                case "query": try self.openString(member.value, open)
                case "documents":
                    for document in try self.elements(member.value) {
                        switch self.json.kind(document) {
                        case .string: try self.openString(document, open)
                        case .object:
                            for text in Self.all(try self.members(document), "text") { try self.openString(text, open) }
                        default: continue
                        }
                    }
                default: continue
                }
            }
        case .score:
            for member in top where member.name == "text_1" || member.name == "text_2" {
                try self.openString(member.value, open)
            }
        case .responses, .messages, .other:
            throw .unsupportedEndpoint(.near)
        }
    }

    private mutating func openNearMessage(
        _ message: Range<Int>, allFields: Bool, _ open: (String) throws(E2EEError) -> String
    ) throws(E2EEError) {
        for field in try self.members(message) {
            switch field.name {
            case "content":
                // A list content was not encrypted (NEAR's clients encrypt the serialised list as one string).
                guard self.json.kind(field.value) == .string else { continue }
                let hex = try self.string(field.value)
                if hex.isEmpty { continue }
                self.replaceContent(field.value, with: try open(hex))
            case "reasoning_content", "reasoning": try self.openString(field.value, open)
            case "audio":
                for data in Self.all(try self.members(field.value), "data") { try self.openString(data, open) }
            case "refusal" where allFields, "name" where allFields: try self.openLeniently(field.value, open)
            case "tool_calls" where allFields:
                for call in try self.elements(field.value) {
                    for function in Self.all(try self.members(call), "function") {
                        try self.openFunctionCall(function, open)
                    }
                }
            case "function_call" where allFields: try self.openFunctionCall(field.value, open)
            default: continue
            }
        }
    }

    /// `arguments` and `name` of a tool call's function, leniently.
    private mutating func openFunctionCall(
        _ function: Range<Int>, _ open: (String) throws(E2EEError) -> String
    ) throws(E2EEError) {
        for field in try self.members(function) where field.name == "arguments" || field.name == "name" {
            try self.openLeniently(field.value, open)
        }
    }

    /// A string (non-empty: opened) or an array whose non-empty strings are opened (token ids pass).
    private mutating func openStringOrStrings(
        _ values: [Range<Int>], _ open: (String) throws(E2EEError) -> String
    ) throws(E2EEError) {
        for value in values {
            switch self.json.kind(value) {
            case .string: try self.openString(value, open)
            case .array: for element in try self.elements(value) { try self.openString(element, open) }
            default: continue
            }
        }
    }

    /// NEAR's `decrypt_field`: a non-empty string is opened; an empty one and other types stay.
    private mutating func openString(_ value: Range<Int>, _ open: (String) throws(E2EEError) -> String) throws(E2EEError) {
        guard self.json.kind(value) == .string else { return }
        let hex = try self.string(value)
        if hex.isEmpty { return }
        self.splice.replace(value, with: JSONScanner.encodeString(try open(hex)))
    }

    private enum Restore {
        case string
        /// NEAR's tool `parameters`: any JSON value the plaintext parses as, else the string.
        case anyJSON
    }

    /// NEAR's `try_decrypt_field`: a non-empty string that opens is replaced; one that does not stays as sent.
    private mutating func openLeniently(
        _ value: Range<Int>, restoring: Restore = .string, _ open: (String) throws(E2EEError) -> String
    ) throws(E2EEError) {
        guard self.json.kind(value) == .string else { return }
        let hex = try self.string(value)
        guard !hex.isEmpty, let plaintext = try? open(hex) else { return }
        if restoring == .anyJSON, let bytes = Self.jsonValue(plaintext, arrayOnly: false) {
            self.splice.replace(value, with: bytes)
        } else {
            self.splice.replace(value, with: JSONScanner.encodeString(plaintext))
        }
    }

    // MARK: ACI v2

    /// ACI v2 (spec §5): the body's `model` must be a string (it is bound into every AAD); chat opens
    /// `messages.{m}.content` strings and the `text`, `image_url.url`, `input_audio.data` of its parts; completions
    /// `prompt` / `prompt.{i}`; embeddings `input` / `input.{i}`. Every string at those places must open, and at
    /// least one field must be encrypted.
    private mutating func openACI(_ aci: ACIContext, endpoint: E2EEEndpoint, counter: FieldCounter?) throws(E2EEError) -> String {
        let root: Range<Int>
        do { root = try self.json.root() } catch { throw .decryptionFailed(.aci) }
        guard self.json.kind(root) == .object else { throw .invalidPayloadModel(.aci) }
        let top = try self.members(root)
        guard let modelValue = Self.last(top, "model"), self.json.kind(modelValue) == .string else {
            throw .invalidPayloadModel(.aci)
        }
        let model = try self.string(modelValue)
        var opened = 0
        func open(_ value: Range<Int>, _ field: String, splice: inout JSONSplice, json: JSONScanner, content: Bool)
            throws(E2EEError)
        {
            if let counter {
                try counter.add()
                opened += 1
                return
            }
            let hex: String
            do { hex = try json.string(value) } catch { throw .decryptionFailed(.aci) }
            let plaintext = try aci.decryptRequestField(hex, model: model, field: field)
            if content, let restored = Self.jsonValue(plaintext, arrayOnly: true) {
                splice.replace(value, with: restored)
            } else {
                splice.replace(value, with: JSONScanner.encodeString(plaintext))
            }
            opened += 1
        }
        switch endpoint {
        case .chatCompletions:
            guard let messages = Self.last(top, "messages"), self.json.kind(messages) == .array else {
                throw .decryptionFailed(.aci)
            }
            for (messageIndex, message) in try self.elements(messages).enumerated() {
                guard let content = Self.last(try self.members(message), "content") else { continue }
                switch self.json.kind(content) {
                case .string:
                    try open(content, "messages.\(messageIndex).content", splice: &self.splice, json: self.json, content: true)
                case .array:
                    for (partIndex, item) in try self.elements(content).enumerated() {
                        let part = try self.members(item)
                        guard let type = Self.last(part, "type") else { continue }
                        let prefix = "messages.\(messageIndex).content.\(partIndex)"
                        if self.json.isString(type, "text") {
                            if let text = Self.last(part, "text"), self.json.kind(text) == .string {
                                try open(text, prefix + ".text", splice: &self.splice, json: self.json, content: false)
                            }
                        } else if self.json.isString(type, "image_url") {
                            if let wrapper = Self.last(part, "image_url"),
                                let url = Self.last(try self.members(wrapper), "url"), self.json.kind(url) == .string
                            {
                                try open(url, prefix + ".image_url.url", splice: &self.splice, json: self.json, content: false)
                            }
                        } else if self.json.isString(type, "input_audio") {
                            if let wrapper = Self.last(part, "input_audio"),
                                let data = Self.last(try self.members(wrapper), "data"), self.json.kind(data) == .string
                            {
                                try open(
                                    data, prefix + ".input_audio.data", splice: &self.splice, json: self.json, content: false)
                            }
                        }
                    }
                default: continue
                }
            }
        case .completions, .embeddings:
            let name = endpoint == .completions ? "prompt" : "input"
            guard let value = Self.last(top, name) else { throw .decryptionFailed(.aci) }
            switch self.json.kind(value) {
            case .string: try open(value, name, splice: &self.splice, json: self.json, content: false)
            case .array:
                for (index, element) in try self.elements(value).enumerated() where self.json.kind(element) == .string {
                    try open(element, "\(name).\(index)", splice: &self.splice, json: self.json, content: false)
                }
            default: break
            }
        case .rerank, .score, .responses, .messages, .other:
            throw .unsupportedEndpoint(.aci)
        }
        guard opened > 0 else { throw .decryptionFailed(.aci) }
        return model
    }

    // MARK: Shared

    /// A decrypted whole `content`: a JSON array is restored as structured content, anything else is a string.
    private mutating func replaceContent(_ value: Range<Int>, with plaintext: String) {
        if let restored = Self.jsonValue(plaintext, arrayOnly: true) {
            self.splice.replace(value, with: restored)
        } else {
            self.splice.replace(value, with: JSONScanner.encodeString(plaintext))
        }
    }

    /// The plaintext's bytes when it is one JSON value (an array, with `arrayOnly`), spliced in as it is.
    private static func jsonValue(_ plaintext: String, arrayOnly: Bool) -> [UInt8]? {
        let first = plaintext.utf8.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        if arrayOnly, first != UInt8(ascii: "[") { return nil }
        guard first != nil else { return nil }
        let bytes = Array(plaintext.utf8)
        let scanner = JSONScanner(bytes)
        guard let root = try? scanner.root() else { return nil }
        // Restored values are whole JSON texts, whitespace around them included: drop that.
        return Array(bytes[root])
    }

    private func rootObject() throws(E2EEError) -> Range<Int> {
        let root: Range<Int>
        do { root = try self.json.root() } catch { throw self.fault }
        guard self.json.kind(root) == .object else { throw self.fault }
        return root
    }

    private func members(_ value: Range<Int>) throws(E2EEError) -> [JSONScanner.Member] {
        do { return try self.json.members(value) } catch { throw self.fault }
    }

    private func elements(_ value: Range<Int>) throws(E2EEError) -> [Range<Int>] {
        do { return try self.json.elements(value) } catch { throw self.fault }
    }

    private func string(_ value: Range<Int>) throws(E2EEError) -> String {
        do { return try self.json.string(value) } catch { throw self.fault }
    }

    /// The last member of that name (what Python's and serde's parsers keep).
    static func last(_ members: [JSONScanner.Member], _ name: String) -> Range<Int>? {
        members.last { $0.name == name }?.value
    }

    /// Every member of that name, in order.
    static func all(_ members: [JSONScanner.Member], _ name: String) -> [Range<Int>] {
        members.compactMap { $0.name == name ? $0.value : nil }
    }
}

extension UInt8 {
    var isASCIIHexDigit: Bool {
        switch self {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
            UInt8(ascii: "A")...UInt8(ascii: "F"):
            true
        default: false
        }
    }
}
