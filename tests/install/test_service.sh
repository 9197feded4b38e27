#!/usr/bin/env bash
# packaging/authkit.service is a valid unit (systemd-analyze verify), pointed at the built
# binary, and keeps the sandboxing the deployment relies on.
set -euo pipefail
cli=$1
source_dir=$2
unit=$source_dir/packaging/authkit.service
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
check() { if eval "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $1" >&2; fi; }

for directive in DynamicUser=yes ProtectSystem=strict StateDirectory=authkit NoNewPrivileges=yes \
  ProtectHome=yes PrivateTmp=yes CapabilityBoundingSet= KillSignal=SIGTERM; do
  check "$directive" "grep -qx '$directive' '$unit'"
done
if command -v systemd-analyze >/dev/null; then
  # The manual page is not installed here; everything else must verify cleanly.
  sed "s|/usr/local/bin/authkit|$cli|; /^Documentation=/d" "$unit" >"$tmp/authkit.service"
  check "systemd-analyze verify" "systemd-analyze verify '$tmp/authkit.service' >'$tmp/log' 2>&1 && ! grep -q . '$tmp/log'"
  [ -s "$tmp/log" ] && cat "$tmp/log" >&2
else
  echo "systemd-analyze not found: only the directives were checked" >&2
fi
# The unit's command line is one the binary accepts.
check "serve --help" "'$cli' serve --help >/dev/null"
echo "service: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
