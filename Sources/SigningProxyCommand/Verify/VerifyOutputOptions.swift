import ArgumentParser

/// Output options shared by the `verify` subcommands.
struct VerifyOutputOptions: ParsableArguments {
    @Flag(help: "Print {\"ok\", \"checks\": [{\"id\", \"status\", \"detail\"}]} as JSON instead of a checklist.")
    var json = false
}
