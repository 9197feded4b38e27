#!/usr/bin/env bash
# Installs the Debian 12 packages that building, running and testing authkit need, and
# only those that are missing. Safe to run again; does nothing when all are present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libcrypt-dev libsodium-dev libsqlite3-dev libjansson-dev libmicrohttpd-dev
  libpq-dev postgresql
  python3 python3-bcrypt python3-jwt python3-zxcvbn
  clang libclang-rt-14-dev libtsan2
  nginx chromium nodejs wrk sqlite3 curl
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# npm comes with some Node.js builds and is Debian's own package otherwise.
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
