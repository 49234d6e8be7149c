import NIOCore
import RedisClient

/// `resp`: `RESPParser`, the shared store's reply parser, on whatever a Redis server (or anything
/// answering on its port) could send.
///
/// Checks, beyond not crashing or growing without bound:
/// - The values and the verdict do not depend on how the bytes arrive: whole, at a split the input
///   chooses, or byte by byte.
/// - After an error the parser is never asked again (the connection is closed), so only the prefix
///   before the error is compared.
enum RESPTarget {
    static let target = FuzzTarget(
        name: "resp",
        summary: "RESPParser: the same replies and verdict whole, split and byte by byte"
    ) { run($0) }

    /// Small limits, so that the fuzzer reaches them.
    static let limits = RESPParser.Limits(maxBulkLength: 64, maxArrayLength: 8, maxDepth: 4, maxLineLength: 64)

    enum Outcome: Equatable {
        case values([RESPValue], error: Bool)
    }

    static func run(_ input: UnsafeRawBufferPointer) {
        let bytes = Array(input)
        let whole = parse([bytes])
        let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        let halves = parse([Array(bytes[..<split]), Array(bytes[split...])])
        Invariant.require(halves == whole, "a split at \(split) changed the replies")
        if bytes.count <= 256 {
            let single = parse(bytes.map { [$0] })
            Invariant.require(single == whole, "byte-by-byte delivery changed the replies")
        }
    }

    /// Every value the parts yield, fed in order, until the first error.
    static func parse(_ parts: [[UInt8]]) -> Outcome {
        var parser = RESPParser(limits: limits)
        var values: [RESPValue] = []
        for part in parts {
            parser.append(ByteBuffer(bytes: part))
            while true {
                do {
                    guard let value = try parser.next() else { break }
                    values.append(value)
                    Invariant.require(values.count <= 4096, "more replies than bytes could hold")
                } catch {
                    return .values(values, error: true)
                }
            }
        }
        return .values(values, error: false)
    }
}
