#!/bin/sh
# Fetches the firmware build under test into a file, for the rig repository's bench jobs
# (ci/github/rig/seedrig-bench.yml, ci/gitlab/rig/seedrig.gitlab-ci.yml; docs/ci.md). The
# firmware's pipeline hands over where its build is; this puts it at OUT, where the bench job
# points SEEDRIG_FIRMWARE_IMAGE (read by `seedrig run` for the reports, and by the rig file's
# hooks, which inherit seedrig's environment, to flash it).
#
#   ci/fetch-firmware.sh LOCATION OUT
#
# LOCATION is
#   - an http:// or https:// URL, fetched with curl (redirects followed, 3 tries). With
#     FIRMWARE_TOKEN set, it is sent as `Authorization: Bearer`; otherwise, in a GitLab job, a URL
#     of this GitLab's API (under $CI_API_V4_URL) gets the job's token as `JOB-TOKEN`. The request
#     asks for `application/octet-stream`, which GitHub's release asset API needs;
#   - a file:// URL or a path: a build on a share the bench machine mounts.
# With FIRMWARE_SHA256 set (64 hex digits), the fetched file must have that sha256.
# With FIRMWARE_SOURCE set, that file is copied instead, whatever LOCATION says: for re-testing a
# build by hand.
#
# Exits 0 with OUT in place, 1 (saying why) with no OUT, 2 on a usage error.
set -eu

if [ $# -ne 2 ] || [ -z "$1" ] || [ -z "$2" ]; then
    echo "usage: ci/fetch-firmware.sh LOCATION OUT (LOCATION: the URL or path the firmware's pipeline handed over)" >&2
    exit 2
fi
location="$1"
out="$2"
part="$out.part"
rm -f "$out" "$part"

fail() {
    rm -f "$part"
    echo "ci/fetch-firmware.sh: $*" >&2
    exit 1
}

if [ -n "${FIRMWARE_SOURCE:-}" ]; then
    echo "ci/fetch-firmware.sh: FIRMWARE_SOURCE is set: copying $FIRMWARE_SOURCE instead of fetching $location"
    cp "$FIRMWARE_SOURCE" "$part" || fail "cannot copy FIRMWARE_SOURCE=$FIRMWARE_SOURCE"
else
    case "$location" in
    http://* | https://*)
        command -v curl >/dev/null || fail "curl is not installed on this bench machine (apt-get install curl)"
        auth=""
        if [ -n "${FIRMWARE_TOKEN:-}" ]; then
            auth="Authorization: Bearer $FIRMWARE_TOKEN"
        elif [ -n "${CI_JOB_TOKEN:-}" ] && [ -n "${CI_API_V4_URL:-}" ]; then
            case "$location" in "$CI_API_V4_URL"/*) auth="JOB-TOKEN: $CI_JOB_TOKEN" ;; esac
        fi
        echo "ci/fetch-firmware.sh: fetching $location"
        # The header goes in through a file descriptor, so the token never shows in `ps`.
        if [ -n "$auth" ]; then
            printf '%s\n' "$auth" | curl -fsSL --retry 3 --retry-connrefused -H 'Accept: application/octet-stream' \
                -H @- -o "$part" "$location" || fail "cannot fetch $location (curl exit $?)"
        else
            curl -fsSL --retry 3 --retry-connrefused -H 'Accept: application/octet-stream' \
                -o "$part" "$location" || fail "cannot fetch $location (curl exit $?)"
        fi
        ;;
    file://*)
        path="${location#file://}"
        [ -f "$path" ] || fail "no build at $location ($path is not a file)"
        cp "$path" "$part" || fail "cannot copy $path"
        ;;
    *://*)
        fail "cannot fetch $location: only http(s):// and file:// URLs and paths are understood (edit ci/fetch-firmware.sh for others)"
        ;;
    *)
        [ -f "$location" ] || fail "no build at $location (not a file on this machine)"
        cp "$location" "$part" || fail "cannot copy $location"
        ;;
    esac
fi

[ -s "$part" ] || fail "the build fetched from $location is empty"
if [ -n "${FIRMWARE_SHA256:-}" ]; then
    actual=$(sha256sum "$part" | cut -d' ' -f1)
    expected=$(printf '%s' "$FIRMWARE_SHA256" | tr 'A-F' 'a-f')
    [ "$actual" = "$expected" ] || fail "the build fetched from $location has sha256 $actual, not $expected as handed over"
fi
mv "$part" "$out"
echo "ci/fetch-firmware.sh: $out: $(wc -c <"$out") bytes, sha256 $(sha256sum "$out" | cut -d' ' -f1)"
