#!/bin/sh
# Installs the Debian packages seedrig needs, on a fresh machine (run as root, or with sudo
# available). Used by .ci/run and by the README's commands. Safe to run again.
set -eu

# System packages the build and the tests use. Keep this list the only place they are named.
# pcscd + vsmartcard-vpcd: the virtual bench's card readers; libpcsclite-dev and pkg-config:
# building the pcsc crate; pcsc-tools: scriptor, the independent PC/SC client the tests use;
# libusb-1.0-0-dev: building rusb (SIMtrace2 boards); util-linux: unshare, for pcscd's
# private mount namespace; umockdev: umockdev-run, which replays a SIMtrace2 board to the USB
# transport in tests/usb_umockdev.rs; chromium: the headless browser tests/timeline_html.rs
# opens the `--timelines` pages in (from disk, no network) to check and screenshot them;
# python3: runs examples/failover-dut, the independent firmware tests/independent_dut.rs puts
# on the bench; procps: pgrep, with which that test looks for a DUT's leftover processes;
# tshark: decodes the card traces (`<scenario>.pcapng`, GSMTAP SIM) in tests/card_trace_pcap.rs.
PACKAGES="pcscd vsmartcard-vpcd libpcsclite-dev pcsc-tools libusb-1.0-0-dev pkg-config util-linux umockdev chromium python3 procps curl shellcheck dpkg-dev tshark"

if [ -z "$PACKAGES" ]; then
    exit 0
fi
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# wireshark-common (tshark's) asks whether non-root users may capture: no, and never ask. sudo
# may drop DEBIAN_FRONTEND from the environment, so it is passed through env.
if command -v debconf-set-selections >/dev/null 2>&1; then
    echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
fi
$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
