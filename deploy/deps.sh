#!/bin/sh
# deploy/deps.sh -- install the Debian 12 packages that build and run dns01d; with
# --test, also those the tests and benchmarks need. Run as root (sudo). Needs nothing
# but apt-get, so it works before make is installed.
set -eu
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
lists=debian-packages.txt
case "${1:-}" in
--test) lists="$lists debian-test-packages.txt" ;;
"") ;;
*) echo "usage: deps.sh [--test]" >&2; exit 2 ;;
esac
apt-get update
# shellcheck disable=SC2046
apt-get install -y --no-install-recommends $(cat $lists | grep -v '^#')
