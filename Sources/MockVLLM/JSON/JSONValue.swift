/// A parsed JSON document, with just enough structure to read an OpenAI-style request.
///
/// Numbers without fraction or exponent that fit an `Int` become `.integer`; all others `.double`.
/// Objects keep the last value of a repeated key, as Python's `json` does.
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The member `key` of an object; nil for a missing key or a value that is not an object.
    subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// The string, if this is a string.
    var stringValue: String? {
        guard case .string(let value) = self else { return nil }
        return value
    }

    /// An integer, accepting an integral double the way pydantic's lax mode does (`8.0` → 8).
    var integerValue: Int? {
        switch self {
        case .integer(let value):
            return value
        case .double(let value):
            guard value.isFinite, value.rounded() == value, let exact = Int(exactly: value) else { return nil }
            return exact
        default:
            return nil
        }
    }

    /// A boolean, accepting `0`/`1` as vLLM does (`"stream": 1` streams).
    var booleanValue: Bool? {
        switch self {
        case .bool(let value): return value
        case .integer(0): return false
        case .integer(1): return true
        default: return nil
        }
    }
}
