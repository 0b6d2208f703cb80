#!/bin/sh
# install-deps.sh - makes sure the Debian packages Dala builds and tests with
# are present, and installs only the missing ones with apt-get. Run by
# `make deps` (and so by `make`, `make test`, `make demo`); on a machine
# that has them all it installs nothing and says so.
set -eu

# zbar-tools: the QR test reads the enrolment codes' QR codes back with zbarimg.
# libxml2-utils: the chart test checks the report notes' SVG with xmllint.
# openssl: the sign-off test verifies Dala's ECDSA signatures with openssl too.
# faketime: the torture battery runs a tablet's `dala` days ahead of or behind the server.
# libcurl4-openssl-dev: libdala's built-in transport (http:// and https:// with a CA file).
# (Chromium, node and npm for the browser tests: scripts/browser-tests.sh.)
packages="build-essential pkg-config libcivetweb-dev libsqlite3-dev zlib1g-dev libmbedtls-dev clang libclang-rt-14-dev zbar-tools libxml2-utils openssl faketime libcurl4-openssl-dev"

missing=""
for package in $packages; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    case "$status" in
        *" installed") ;;
        *) missing="$missing $package" ;;
    esac
done

if [ -z "$missing" ]; then
    exit 0
fi

echo "install-deps: installing missing Debian packages:$missing"
# shellcheck source=scripts/apt-install.sh
. "$(dirname "$0")/apt-install.sh"
# shellcheck disable=SC2086
apt_install install-deps $missing
