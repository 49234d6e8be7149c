#!/usr/bin/env bash
# Line coverage of what each target's corpus reaches: builds the fuzzer once more with clang's
# source-based coverage instead of AddressSanitizer (debug, in fuzz/.build-coverage), replays the seeds
# and the working corpus of each target once (libFuzzer -runs=0), and prints llvm-cov's line and
# function coverage of every project source file the target executed. Nothing is fuzzed here.
#
#   fuzz/coverage.sh [target ...]      (no target: all of them)
#
# The per-target reports are kept in fuzz/.build-coverage/reports/<target>.txt. FUZZ_CORPUS_ROOT
# replays working corpora kept elsewhere (default fuzz/.build/corpus).
set -uo pipefail

main() {
    cd "$(dirname "$0")"
    local scratch=.build-coverage
    FUZZ_COVERAGE=1 swift build -c debug --scratch-path "$scratch" --product signing-proxy-fuzz || return 2
    local binary=$scratch/debug/signing-proxy-fuzz
    # The toolchain's own LLVM tools: the profile format must match the compiler that wrote it.
    local tools
    tools=$(dirname "$(command -v swift)")
    local targets=("$@")
    if [ ${#targets[@]} -eq 0 ]; then
        mapfile -t targets < <("$binary" --list | sed -n 's/^  \([a-z0-9-]*\) .*/\1/p')
    fi
    mkdir -p "$scratch/profiles" "$scratch/reports"
    export SWIFT_BACKTRACE=enable=no
    local target
    for target in "${targets[@]}"; do
        local profile=$scratch/profiles/$target
        rm -f "$profile".*
        local corpus=${FUZZ_CORPUS_ROOT:-.build/corpus}/$target
        mkdir -p "$corpus"
        LLVM_PROFILE_FILE="$profile.profraw" "$binary" "$target" -runs=0 "$corpus" "Corpus/$target" \
            >"$scratch/reports/$target.log" 2>&1 || { echo "$target: replay failed, see fuzz/$scratch/reports/$target.log"; continue; }
        "$tools/llvm-profdata" merge -sparse "$profile.profraw" -o "$profile.profdata" || return 2
        # Project sources only: the symbolic links to the main package, not the harnesses or libraries.
        "$tools/llvm-cov" report "$binary" -instr-profile="$profile.profdata" Sources/{SigningCore,SigningCrypto,TDX,TEE,SigningProxyVerifier,SigningProxyServer} \
            >"$scratch/reports/$target.txt" 2>/dev/null
        echo "$target ($(ls "$corpus" | wc -l) corpus inputs + seeds): line and function coverage of the files it ran"
        awk '$1 ~ /\.swift$/ && $10 != "0.00%" && $10 != "-" { printf "    lines %7s  functions %7s  %s\n", $10, $7, $1 }' \
            "$scratch/reports/$target.txt"
    done
}

main "$@"
exit $?
