/// One fuzz target: the name used on the command line and for its corpus folder, and the function
/// libFuzzer calls with each input.
///
/// A harness checks invariants, not only that nothing crashes; a broken invariant stops the process
/// through ``Invariant/require(_:_:)``, which libFuzzer reports as a crash and saves the input.
package struct FuzzTarget: Sendable {
    /// Command-line name, also the folder under `Corpus/`.
    package var name: String
    /// What the target feeds and checks, for `--list`.
    package var summary: String
    /// Runs one input.
    package var run: @Sendable (UnsafeRawBufferPointer) -> Void

    package init(name: String, summary: String, run: @escaping @Sendable (UnsafeRawBufferPointer) -> Void) {
        self.name = name
        self.summary = summary
        self.run = run
    }

    /// Every target, in the order `make fuzz` runs them.
    package static let all: [FuzzTarget] = [
        JSONTarget.target,
        SSETarget.target,
        TDXQuoteTarget.target,
        EventLogTarget.target,
        AttestationBlobTarget.target,
        DstackAgentTarget.target,
        CollateralDocumentTarget.target,
        RevocationListTarget.target,
        PCKChainTarget.target,
        FastPathTarget.target,
        RESPTarget.target,
        E2EETarget.target,
    ]

    /// The target called `name`, if any.
    package static func named(_ name: String) -> FuzzTarget? {
        all.first { $0.name == name }
    }
}
