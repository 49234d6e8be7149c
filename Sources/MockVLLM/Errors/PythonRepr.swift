/// Python's `repr()` of a string, which vLLM's validation messages embed (`{'error': 'Expecting value'}`).
enum PythonRepr {
    /// `repr(string)`: single quotes unless the text holds a `'` and no `"`; `\\`, the quote and
    /// non-printable ASCII escaped.
    static func string(_ string: String) -> String {
        let quote: Character = string.contains("'") && !string.contains("\"") ? "\"" : "'"
        var output = String(quote)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where Character(scalar) == quote: output += "\\\(quote)"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                output += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            default: output.unicodeScalars.append(scalar)
            }
        }
        output.append(quote)
        return output
    }
}
