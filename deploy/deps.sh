#!/bin/sh
# deploy/deps.sh -- install the Debian 12 packages that build, test and benchmark dns01d.
# Run as root (sudo). Needs nothing but apt-get, so it works before make is installed.
set -eu
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2046
apt-get install -y --no-install-recommends $(grep -v '^#' debian-packages.txt)
