/// Stops the process when a harness finds a broken invariant.
///
/// A Swift trap is a SIGILL, which libFuzzer catches: it prints the message below, then saves the input
/// as a `crash-…` artifact that reproduces the failure when passed back to the same target.
package enum Invariant {
    /// Traps with `message` unless `condition` holds.
    @inline(__always)
    package static func require(
        _ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line
    ) {
        if !condition { fail(message(), file: file, line: line) }
    }

    /// Traps with `message`.
    package static func fail(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
        fatalError("invariant broken: \(message)", file: file, line: line)
    }
}
