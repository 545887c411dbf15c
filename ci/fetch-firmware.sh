#!/bin/sh
# Fetches the firmware build under test for a tag into a file, for the pipelines in ci/github
# and ci/gitlab. Replace the body with how your builds are published; the rig file's start hook
# reads the file from $FIRMWARE_IMAGE. With FIRMWARE_SOURCE set, it copies that file instead
# (what the pipeline test does).
set -eu
tag="$1"
out="$2"
if [ -n "${FIRMWARE_SOURCE:-}" ]; then
    cp "$FIRMWARE_SOURCE" "$out"
    exit 0
fi
echo "ci/fetch-firmware.sh: say where the build of $tag comes from (edit this script), or set FIRMWARE_SOURCE" >&2
exit 1
