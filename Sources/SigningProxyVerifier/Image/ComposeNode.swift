/// A value in a compose file, as far as an image pin needs to read it.
enum ComposeNode: Sendable, Equatable {
    /// A single-line plain or quoted scalar (`null` and `~` included, as written).
    case scalar(String)
    /// A block mapping, keys in document order (no duplicates).
    case mapping([(key: String, value: ComposeNode)])
    /// A value present but not read: a sequence, block scalar, flow collection, multi-line scalar, or one that
    /// uses an anchor, alias or tag. `what` names it for messages.
    case unread(what: String)
    /// A key with no value.
    case empty

    /// The value of `key` when this is a mapping.
    func value(_ key: String) -> ComposeNode? {
        guard case .mapping(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// The keys when this is a mapping.
    var keys: [String] {
        guard case .mapping(let entries) = self else { return [] }
        return entries.map(\.key)
    }

    /// A short description for messages.
    var kind: String {
        switch self {
        case .scalar: "a scalar"
        case .mapping: "a mapping"
        case .unread(let what): what
        case .empty: "empty"
        }
    }

    static func == (lhs: ComposeNode, rhs: ComposeNode) -> Bool {
        switch (lhs, rhs) {
        case (.scalar(let a), .scalar(let b)): a == b
        case (.mapping(let a), .mapping(let b)): a.map(\.key) == b.map(\.key) && a.map(\.value) == b.map(\.value)
        case (.unread(let a), .unread(let b)): a == b
        case (.empty, .empty): true
        default: false
        }
    }
}
