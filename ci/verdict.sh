#!/bin/sh
# The verdict on one firmware build over every lab bench, for the rig repository's pipelines
# (docs/ci.md). Each bench job records the exit code of its `seedrig run` in
# DIR/<bench>/exit-code; this reads them and says what they mean, for whom.
#
#   ci/verdict.sh DIR [BENCH...]
#
# The benches are those named, or without any, those in $BENCHES (separated by spaces).
#
# Per bench, `seedrig run`'s exit code:
#   0    every scenario of its partition passed or was skipped;
#   1    at least one scenario FAILed: the firmware did wrong;
#   3    no FAIL, but a scenario still ended in a bench ERROR after its retry (--retry-errors);
#   2    the run could not start: a bad rig file or fixtures, a usage error, or the bench lock
#        still held after --lock-timeout;
#   130, 143: stopped by SIGINT or SIGTERM (the job was cancelled);
#   no exit-code at all: the job stopped before `seedrig run` ended (the build could not be
#        fetched, `seedrig doctor` found the bench not ready, the runner was offline, the job
#        was cancelled): its log says which.
#
# Exits 0 when every bench passed; 1 "firmware failed" when any bench's run exited 1 (the
# firmware team's to fix, whatever else happened); 3 "bench broke" when no bench saw a firmware
# failure but one could not judge the firmware (any other case above). Whenever a bench broke,
# even beside a firmware failure, the lab is paged: SEEDRIG_PAGE_COMMAND, if set (in the
# runner's environment or as a CI variable), is run by sh with the verdict on its standard input.
# The verdict also goes to $GITHUB_STEP_SUMMARY when that is set (GitHub's run summary page).
set -u

if [ $# -lt 1 ]; then
    echo "usage: ci/verdict.sh DIR [BENCH...] (DIR/<bench>/exit-code: each bench's seedrig run exit code; default benches: \$BENCHES)" >&2
    exit 2
fi
dir="$1"
shift
if [ $# -eq 0 ]; then
    # shellcheck disable=SC2086 # the list is split on spaces on purpose
    set -- ${BENCHES:-}
fi
if [ $# -eq 0 ]; then
    echo "ci/verdict.sh: name the benches whose results to read (arguments, or BENCHES)" >&2
    exit 2
fi

report=""
say() {
    echo "$1"
    report="$report$1
"
}

failed=""
broke=""
passed=""
say "seedrig verdict on firmware ${SEEDRIG_FIRMWARE_ID:-(not named)}:"
for bench in "$@"; do
    file="$dir/$bench/exit-code"
    if [ -f "$file" ]; then
        code=$(tr -d ' \n\r' <"$file")
    else
        code=""
    fi
    case "$code" in
    0)
        passed="$passed $bench"
        say "  $bench: passed (exit 0): every scenario of its partition passed or was skipped"
        ;;
    1)
        failed="$failed $bench"
        say "  $bench: FIRMWARE FAILED (exit 1): at least one scenario FAILed; the report names each failing check"
        ;;
    3)
        broke="$broke $bench"
        say "  $bench: BENCH ERROR (exit 3): a scenario ended in ERROR even after its retry; the firmware was not judged on it"
        ;;
    2)
        broke="$broke $bench"
        say "  $bench: COULD NOT RUN (exit 2): bad rig file or fixtures, usage error, or the bench lock still held after --lock-timeout"
        ;;
    130 | 143)
        broke="$broke $bench"
        say "  $bench: STOPPED (exit $code): the run was interrupted (the job was cancelled or timed out)"
        ;;
    "")
        broke="$broke $bench"
        say "  $bench: NO RESULT: its job stopped before seedrig run ended (build not fetched, bench not ready, runner offline or job cancelled): see the job's log"
        ;;
    *)
        broke="$broke $bench"
        say "  $bench: UNEXPECTED EXIT $code from seedrig run: see the job's log"
        ;;
    esac
done

# Pages the lab about the benches in $broke; sets $paged to how that went, for the headline.
page_lab() {
    if [ -z "${SEEDRIG_PAGE_COMMAND:-}" ]; then
        paged="the lab is NOT paged (no SEEDRIG_PAGE_COMMAND is set): tell it"
    elif printf '%sbench broke on %s\n' "$report" "$broke_list" | sh -c "$SEEDRIG_PAGE_COMMAND"; then
        paged="the lab is paged"
    else
        paged="paging the lab FAILED (SEEDRIG_PAGE_COMMAND exited $?): tell it"
    fi
}

# " a b" -> "a, b"
list() { echo "$1" | sed 's/^ //; s/ /, /g'; }
broke_list=$(list "$broke")
if [ -n "$failed" ]; then
    headline="firmware failed on $(list "$failed"): a scenario FAILed; the firmware team fixes the firmware (the merged report and the timelines show what the bench saw)"
    if [ -n "$broke" ]; then
        page_lab
        headline="$headline. Also bench broke on $broke_list: $paged"
    fi
    verdict=1
elif [ -n "$broke" ]; then
    page_lab
    headline="bench broke on $broke_list: $paged. The firmware was not judged there: this is no firmware failure"
    verdict=3
else
    headline="passed: every scenario passed or was skipped on every bench ($(list "$passed"))"
    verdict=0
fi
say "$headline"

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    # shellcheck disable=SC2016 # the backquotes are Markdown's
    printf '```\n%s```\n' "$report" >>"$GITHUB_STEP_SUMMARY"
fi
exit "$verdict"
