#!/usr/bin/env bash
# Runs the whole test suite under other Node.js majors (default: 22 and 24), each against
# an addon built for that Node. Users run them; the tree is developed on Node 20.
#
# Nothing in this checkout changes: for each version a copy of the tree (without build/,
# dist/ and .git, with node_modules) is made under the work directory, the addon is built
# there with npm's bundled node-gyp against that Node's headers, and `npm test` runs there
# with that Node first in PATH. Node itself comes from npm (the node-linux-<arch> package:
# bin/node and include/node), installed into the work directory and reused on later runs
# (scripts/install-node.sh).
#
# Usage: scripts/test-node-versions.sh [major ...]
# Environment:
#   INTERPROC_NODE_VERSIONS_DIR  work directory (default: $TMPDIR/interproc-node-versions)
#   REFRESH=1                    reinstall Node (to pick up the newest release of a major)
# Exit status: 0 when every version passed. Logs: <work directory>/node<major>-{build,test}.log
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${INTERPROC_NODE_VERSIONS_DIR:-${TMPDIR:-/tmp}/interproc-node-versions}
if [ "$#" -gt 0 ]; then VERSIONS=("$@"); else VERSIONS=(22 24); fi
ARCH=$(node -p process.arch)
NODE_GYP="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$NODE_GYP" ] || { echo "npm's bundled node-gyp not found at $NODE_GYP" >&2; exit 2; }
mkdir -p "$WORK"

declare -A RESULT SECONDS_TAKEN
started=$SECONDS
for major in "${VERSIONS[@]}"; do
  began=$SECONDS
  nodedir=$("$ROOT/scripts/install-node.sh" "$major" "$ARCH")
  version=$("$nodedir/bin/node" --version)

  copy="$WORK/repo-node$major"
  echo "== Node $major ($version): copying the tree to $copy"
  rm -rf "$copy"
  mkdir -p "$copy"
  tar -C "$ROOT" --exclude=./build --exclude=./dist --exclude=./.git -cf - . | tar -C "$copy" -xf -

  echo "== Node $major ($version): building the addon"
  if ! (cd "$copy" && PATH="$nodedir/bin:$PATH" node "$NODE_GYP" rebuild --nodedir="$nodedir") \
      >"$WORK/node$major-build.log" 2>&1; then
    echo "   build FAILED, see $WORK/node$major-build.log"
    tail -20 "$WORK/node$major-build.log"
    RESULT[$major]="build failed"
    SECONDS_TAKEN[$major]=$((SECONDS - began))
    continue
  fi
  grep -E 'warning:' "$WORK/node$major-build.log" | sed 's/^/   /' || true

  echo "== Node $major ($version): npm test"
  if (cd "$copy" && PATH="$nodedir/bin:$PATH" npm test) >"$WORK/node$major-test.log" 2>&1; then
    RESULT[$major]="passed"
  else
    RESULT[$major]="tests failed"
    # TAP (Node 20, 22) or spec (Node 24) reporter.
    grep -E '^\s*not ok|^\s*✖' "$WORK/node$major-test.log" | grep -v '# TODO' | sort -u | sed 's/^/   /' || true
  fi
  grep -E '^(#|ℹ) (tests|pass|fail|cancelled|todo) ' "$WORK/node$major-test.log" | tr '\n' ' ' | sed 's/^/   /'
  echo
  SECONDS_TAKEN[$major]=$((SECONDS - began))
done

echo "== Summary (total $((SECONDS - started)) s)"
status=0
for major in "${VERSIONS[@]}"; do
  echo "   Node $major: ${RESULT[$major]} (${SECONDS_TAKEN[$major]} s)"
  [ "${RESULT[$major]}" = passed ] || status=1
done
exit $status
