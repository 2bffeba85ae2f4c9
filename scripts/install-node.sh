#!/usr/bin/env bash
# Installs one Node.js major from npm (the node-linux-<arch> package: bin/node and
# include/node) into the shared work directory, once, and prints its directory. The scripts
# that build or test against other Node.js versions (test-node-versions.sh, prebuild.sh)
# all get Node from here, so each major is downloaded once and reused.
#
# Usage: scripts/install-node.sh <major> [x64|arm64]   (arch: default this machine's)
# Prints: the package's directory (bin/node, include/node), on standard output only.
# Layout: <work directory>/node<major> for this machine's architecture (the place
# test-node-versions.sh always used), <work directory>/node<major>-<arch> for another one
# (npm would prune one package when installing the other into the same prefix).
# Environment:
#   INTERPROC_NODE_VERSIONS_DIR  work directory (default: $TMPDIR/interproc-node-versions)
#   REFRESH=1                    reinstall (to pick up the newest release of a major)
set -euo pipefail

if [ "$#" -lt 1 ] || [ "$#" -gt 2 ] || ! [[ "$1" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 <major> [x64|arm64]" >&2
  exit 2
fi
major=$1
host_arch=$(node -p process.arch)
arch=${2:-$host_arch}
case "$arch" in
  x64 | arm64) ;;
  *) echo "$0: unsupported architecture '$arch' (x64 or arm64)" >&2; exit 2 ;;
esac

WORK=${INTERPROC_NODE_VERSIONS_DIR:-${TMPDIR:-/tmp}/interproc-node-versions}
if [ "$arch" = "$host_arch" ]; then prefix="$WORK/node$major"; else prefix="$WORK/node$major-$arch"; fi
nodedir="$prefix/node_modules/node-linux-$arch"

if [ "${REFRESH:-}" = 1 ] || [ ! -f "$nodedir/include/node/node_version.h" ] || [ ! -f "$nodedir/bin/node" ]; then
  echo "== installing node-linux-$arch@$major into $prefix" >&2
  rm -rf "$prefix"
  mkdir -p "$WORK"
  # The package declares its cpu, and npm refuses (EBADPLATFORM) another architecture's
  # unless forced; nothing else of --force applies to a lone package without dependencies.
  force=()
  [ "$arch" = "$host_arch" ] || force=(--force)
  npm install --prefix "$prefix" --no-save --no-audit --no-fund "${force[@]}" "node-linux-$arch@$major" >&2
fi
echo "$nodedir"
