#!/usr/bin/env bash
# Runs libFuzzer targets of signing-proxy-fuzz one after another and prints one line per target:
# iterations, executions per second, coverage (libFuzzer's `cov:` edges and `ft:` features) and the
# corpus size at the end. Exits non-zero if any target crashed, broke an invariant, timed out or
# ran out of memory; its log and the saved input are named then.
#
#   fuzz/run.sh [-r RUNS] [target ...]      (no target: all of them)
#
# Each target starts from its checked-in seeds, fuzz/Corpus/<target>, which are only read, plus a
# working corpus under fuzz/.build/corpus/<target> that keeps what earlier runs found (FUZZ_FRESH=1
# empties it first, for figures that depend on the seeds alone). Logs and crash inputs go to
# fuzz/.build/logs and fuzz/.build/artifacts; fuzz/.build/logs/<target>.coverage lists the edge
# coverage of each project source file the target reached (the largest FUZZ_COVERAGE_LINES, default 4,
# are printed under its line). FUZZ_FLAGS adds libFuzzer flags; FUZZ_NICE (default 10) is the
# niceness, so a campaign yields to builds; FUZZ_BINARY runs another build of the fuzzer (a copy, say,
# so that rebuilding during a long campaign does not change it midway).
#
# The whole script is one function, read before it starts: editing this file during a campaign
# cannot change the campaign.
set -uo pipefail

main() {
    cd "$(dirname "$0")"
    runs=1000000
    while getopts "r:" option; do
        case $option in
        r) runs=$OPTARG ;;
        *) echo "usage: $0 [-r RUNS] [target ...]" >&2; exit 2 ;;
        esac
    done
    shift $((OPTIND - 1))

    binary=${FUZZ_BINARY:-.build/release/signing-proxy-fuzz}
    if [ ! -x "$binary" ]; then
        echo "$binary is missing: build it with 'make fuzz-build'" >&2
        exit 2
    fi
    targets=("$@")
    if [ ${#targets[@]} -eq 0 ]; then
        mapfile -t targets < <("$binary" --list | sed -n 's/^  \([a-z0-9-]*\) .*/\1/p')
    fi

    # Swift's own crash backtracer would run before libFuzzer saves the input; libFuzzer reports instead.
    export SWIFT_BACKTRACE=enable=no
    mkdir -p .build/logs .build/artifacts
    printf '%-20s %10s %8s %8s %7s %7s %14s  %s\n' target iterations seconds exec/s cov ft corpus result
    failed=0
    for target in "${targets[@]}"; do
        seeds=Corpus/$target
        work=.build/corpus/$target
        log=.build/logs/$target.log
        [ "${FUZZ_FRESH:-0}" = 1 ] && rm -rf "$work"
        mkdir -p "$work"
        if [ ! -d "$seeds" ]; then
            echo "$target: no seed corpus at fuzz/$seeds" >&2
            failed=1
            continue
        fi
        started=$(date +%s.%N)
        # shellcheck disable=SC2086
        nice -n "${FUZZ_NICE:-10}" "$binary" "$target" -runs="$runs" -print_final_stats=1 -print_coverage=1 -timeout=30 \
            -artifact_prefix=".build/artifacts/$target-" ${FUZZ_FLAGS:-} "$work" "$seeds" >"$log" 2>&1
        status=$?
        seconds=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
        iterations=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        # libFuzzer's own average rounds the elapsed time down to whole seconds; this one includes start-up.
        speed=$(awk -v n="${iterations:-0}" -v s="$seconds" 'BEGIN { if (s > 0) printf "%d", n / s; else print "?" }')
        last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
        cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
        ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
        corpus=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
        if [ $status -eq 0 ]; then
            result=ok
        else
            result="FAILED (exit $status), log fuzz/$log"
            failed=1
        fi
        printf '%-20s %10s %8s %8s %7s %7s %14s  %s\n' "$target" "${iterations:-?}" "$seconds" "${speed:-?}" "${cov:-?}" "${ft:-?}" "${corpus:-?}" "$result"
        # Edge coverage of each project source file the target reached (from -print_coverage), largest first.
        awk '/^(UN)?COVERED_FUNC: / {
                split($5, edges, "/"); file = $NF; sub(/:[0-9]+$/, "", file)
                if (file !~ /\/fuzz\/Sources\// || file ~ /\/(FuzzTargets|SigningProxyFuzz)\//) next
                sub(/.*\/fuzz\/Sources\//, "", file)
                covered[file] += edges[1]; total[file] += edges[2]
                functions[file] += 1; if ($1 == "COVERED_FUNC:") reached[file] += 1
             }
             END { for (file in covered) if (covered[file] > 0)
                       printf "%7d %5.1f%% of edges, %d of %d functions  %s\n", total[file], 100 * covered[file] / total[file],
                           reached[file], functions[file], file }' \
            "$log" | sort -rn | cut -c9- >".build/logs/$target.coverage"
        head -"${FUZZ_COVERAGE_LINES:-4}" ".build/logs/$target.coverage" | sed 's/^/    /'
        if [ $status -ne 0 ]; then
            grep -E 'invariant broken|Fatal error|ERROR: (AddressSanitizer|libFuzzer)|Test unit written' "$log" | head -5 | sed 's/^/    /'
        fi
    done
    return $failed
}

main "$@"
exit $?
