# shellcheck shell=sh
# apt-install.sh - sourced (not run) by the scripts that install the Debian
# packages they find missing: install-deps.sh, deploy-test.sh and
# browser-tests.sh. Each decides what is missing its own way; this is the
# one way they install it: as root, or through sudo, with one quiet
# `apt-get update` a run and no recommended packages.

apt_updated=""

# apt_install WHO PACKAGE...: installs the packages with apt-get. WHO (the
# script's name) begins the error when there is neither root nor sudo;
# then, or when apt-get fails, the script stops (set -e).
apt_install() {
    apt_who=$1
    shift
    if [ "$(id -u)" -eq 0 ]; then
        apt_sudo=""
    elif command -v sudo >/dev/null 2>&1; then
        apt_sudo=sudo
    else
        echo "$apt_who: need root (or sudo) to install: $*" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "$apt_updated" ]; then
        $apt_sudo apt-get update -qq
        apt_updated=1
    fi
    $apt_sudo apt-get install -y -qq --no-install-recommends "$@"
}
