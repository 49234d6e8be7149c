import CFuzzerDriver
import FuzzTargets

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `signing-proxy-fuzz <target> [libFuzzer flags] [corpus directories]`, or `--list`.
///
/// The first argument picks the harness; everything after it goes to libFuzzer unchanged, so its usual
/// flags (`-runs=N`, `-max_total_time=S`, `-print_final_stats=1`, a crash file to reproduce) work.
/// libFuzzer starts copies of itself without the target name for `-fork`, `-jobs` and `-merge`, so the
/// name is also passed down in the environment (``environmentKey``), which is read when no argument
/// names a target.
@main
enum SigningProxyFuzz {
    static let environmentKey = "SIGNING_PROXY_FUZZ_TARGET"

    /// The harness libFuzzer's callback runs; set once, before libFuzzer starts, never changed after.
    nonisolated(unsafe) static var selected: FuzzTarget?

    static func main() {
        var arguments = CommandLine.arguments
        if arguments.count >= 2, let target = FuzzTarget.named(arguments[1]) {
            selected = target
            arguments.remove(at: 1)
            setenv(environmentKey, target.name, 1)
        } else if let name = getenv(environmentKey).map({ String(cString: $0) }), let target = FuzzTarget.named(name) {
            selected = target
        } else {
            let listing = arguments.count == 2 && arguments[1] == "--list"
            let known = FuzzTarget.all.map { "  \($0.name.padding(toLength: 22, withPad: " ", startingAt: 0))\($0.summary)" }
            let problem = listing ? "" : arguments.count >= 2 ? "unknown target \(arguments[1])\n" : "no target named\n"
            let text = problem + "usage: signing-proxy-fuzz <target> [libFuzzer flags] [corpus dirs]\ntargets:\n"
                + known.joined(separator: "\n") + "\n"
            _ = text.withCString { write(listing ? 1 : 2, $0, strlen($0)) }
            exit(listing ? 0 : 2)
        }

        // libFuzzer keeps pointers into argv for the whole run, so the copies are never freed.
        var cStrings: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var argc = CInt(arguments.count)
        let status = cStrings.withUnsafeMutableBufferPointer { buffer -> CInt in
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
            return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                SigningProxyFuzz.selected?.run(UnsafeRawBufferPointer(start: data, count: size))
                return 0
            }
        }
        exit(status)
    }
}
