#!/usr/bin/env bash
# The packed-package test: what a user gets from `npm install interproc` works without a
# compiler. With the `node` and `npm` first in PATH (CI runs it once per Node line):
#
#   1. `npm pack` this checkout into a temporary directory; the tarball must hold the
#      examples and a prebuilt addon for this Node's ABI.
#   2. Make an empty project (test/pack/: package.json, tsconfig, sources) and install
#      the tarball there with --ignore-scripts, with PATH reduced to a directory of links
#      to node, npm, npx and sh, where no cc, gcc, g++, c++ or make is found. The
#      consumer's dev tools (typescript, @types/node, tsx, at this checkout's locked
#      versions) and the NATS clients the bridge's optional peer dependencies name come
#      from the npm registry in the same install.
#   3. In that project, with that PATH and a namespace of its own:
#      a. a two-process Mailbox exchange in plain JavaScript (test/pack/mailbox-exchange.mjs),
#      b. which also runs `npx interproc ls --json` while its mailboxes exist;
#      c. tsc --noEmit on a strict NodeNext TypeScript consumer (Mailbox<T>, `using`,
#         IpcError codes), which then runs; and tsc must report exactly the errors
#         test/pack/type-error.ts marks;
#      d. every example under the installed node_modules/interproc/examples/ (the bridge's
#         against a nats-server of its own, as two machines in two namespaces);
#      e. nothing of the namespace left in /dev/shm, and `interproc ls --json` agrees.
#
# Usage: scripts/pack-test.sh [--with-install-scripts] [--tarball FILE]
#   --tarball FILE          tests FILE (made by `npm pack` of this checkout) instead of packing
#   --with-install-scripts  installs with the package's install script and the full PATH
#                           (the compiler allowed): only for trying the other checks on a
#                           tree that has no prebuilds yet. It is NOT the packed-package
#                           test and says so; CI never passes it.
# Exit status: 0 when every check passed. Temporary directories are removed on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FIXTURES="$ROOT/test/pack"
STEP_TIMEOUT=300 # seconds for an install or a pack, the slowest steps
RUN_TIMEOUT=120  # seconds for each check in the consumer project

WITH_INSTALL_SCRIPTS=0
GIVEN_TARBALL=
while [ "$#" -gt 0 ]; do
  case "$1" in
    --with-install-scripts) WITH_INSTALL_SCRIPTS=1 ;;
    --tarball)
      [ "$#" -ge 2 ] || { echo "usage: $0 [--with-install-scripts] [--tarball FILE]" >&2; exit 2; }
      GIVEN_TARBALL=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
      shift
      ;;
    *) echo "usage: $0 [--with-install-scripts] [--tarball FILE]" >&2; exit 2 ;;
  esac
  shift
done

started=$SECONDS
WORK=$(mktemp -d "${TMPDIR:-/tmp}/interproc-pack-test.XXXXXX")
NAMESPACE="pack-test-$$-$RANDOM"
# The NATS server the bridge example runs against (section 3), if started.
NATS_PID=
stop_nats() { [ -z "$NATS_PID" ] || { kill "$NATS_PID" 2>/dev/null || true; wait "$NATS_PID" 2>/dev/null || true; NATS_PID=; }; }
cleanup() {
  status=$?
  stop_nats
  rm -rf "$WORK"
  rm -f /dev/shm/interproc."$NAMESPACE".* /dev/shm/interproc."$NAMESPACE"-[ab].* # only after a failure can there be any
  exit "$status"
}
trap cleanup EXIT

check() { echo "-- $*"; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
# Runs a command in the consumer project with the reduced PATH, the test's namespace and a
# hard timeout (timeout and env themselves are looked up in the full PATH).
in_consumer() {
  (cd "$CONSUMER" && timeout "$RUN_TIMEOUT" env PATH="$SAFE_PATH" INTERPROC_NAMESPACE="$NAMESPACE" "$@")
}
# As in_consumer, printing the output indented; on failure, the output and then FAIL.
in_consumer_shown() {
  local what=$1
  shift
  if ! in_consumer "$@" >"$WORK/out" 2>&1; then
    cat "$WORK/out" >&2
    fail "$what"
  fi
  sed 's/^/   /' "$WORK/out"
}

NODE_VERSION=$(node --version)
ABI=$(node -p process.versions.modules)
PLATFORM=$(node -p '`${process.platform}-${process.arch}`')
echo "== interproc packed-package test: Node $NODE_VERSION (ABI $ABI, $PLATFORM), npm $(npm --version), node at $(command -v node)"

# -- 1. The tarball -------------------------------------------------------------------
if [ -n "$GIVEN_TARBALL" ]; then
  # One tarball for several runs (CI packs once and tests it on every Node line).
  check "the tarball given: $GIVEN_TARBALL"
  [ -f "$GIVEN_TARBALL" ] || fail "$GIVEN_TARBALL does not exist"
  TARBALL=$GIVEN_TARBALL
else
  check "npm pack (runs the package's prepare: tsc builds dist/)"
  mkdir -p "$WORK/pack"
  if ! (cd "$ROOT" && timeout "$STEP_TIMEOUT" npm pack --json --pack-destination "$WORK/pack" >"$WORK/pack.json" 2>"$WORK/pack.log"); then
    cat "$WORK/pack.log" >&2
    fail "npm pack failed"
  fi
  TARBALL="$WORK/pack/$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[0].filename)' "$WORK/pack.json")"
  [ -f "$TARBALL" ] || fail "npm pack reported $TARBALL, which does not exist"
  node -e 'const [p] = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(`   ${p.filename}: ${p.entryCount} files, ${p.size} bytes packed, ${p.unpackedSize} unpacked`)' "$WORK/pack.json"
fi
tar -tzf "$TARBALL" | sed 's#^package/##' | sort >"$WORK/contents"
for needed in package.json dist/index.js dist/index.d.ts dist/cli/main.js; do
  grep -qx "$needed" "$WORK/contents" || fail "the tarball has no $needed"
done
grep -q '^examples/.*\.ts$' "$WORK/contents" || fail "the tarball has no examples/*.ts"
PREBUILD="prebuilds/$PLATFORM/node.abi$ABI.glibc.node"
check "the tarball holds $PREBUILD"
if ! grep -qx "$PREBUILD" "$WORK/contents"; then
  found=$(grep '^prebuilds/' "$WORK/contents" | tr '\n' ' ' || true)
  if [ "$WITH_INSTALL_SCRIPTS" = 1 ]; then
    echo "   no prebuild for ABI $ABI in the tarball (prebuilds there: ${found:-none}); going on with --with-install-scripts"
  else
    fail "no prebuild for ABI $ABI in the tarball (looked for $PREBUILD; prebuilds there: ${found:-none})"
  fi
fi

# -- 2. An empty project, and a PATH without a compiler -------------------------------
SAFE_BIN="$WORK/bin"
mkdir -p "$SAFE_BIN"
for tool in node npm npx sh; do
  found=$(command -v "$tool") || fail "$tool is not in PATH"
  ln -s "$found" "$SAFE_BIN/$tool"
done
SAFE_PATH="$SAFE_BIN"
check "no compiler in the consumer's PATH ($(ls "$SAFE_BIN" | tr '\n' ' '| sed 's/ $//')): command -v cc gcc g++ c++ make finds nothing"
compilers=$(PATH="$SAFE_PATH"; command -v cc gcc g++ c++ make || true)
[ -z "$compilers" ] || fail "the reduced PATH still finds: $compilers"

CONSUMER="$WORK/consumer"
mkdir -p "$CONSUMER"
cp "$FIXTURES"/package.json "$FIXTURES"/tsconfig.json "$FIXTURES"/tsconfig.type-error.json \
  "$FIXTURES"/mailbox-exchange.mjs "$FIXTURES"/typed-consumer.ts "$FIXTURES"/type-error.ts "$CONSUMER/"
# The consumer's dev tools at the versions this checkout's lock file holds.
locked() { node -e 'console.log(require(process.argv[1]).packages["node_modules/" + process.argv[2]].version)' "$ROOT/package-lock.json" "$1"; }
DEV_TOOLS=("typescript@$(locked typescript)" "@types/node@$(locked @types/node)" "tsx@$(locked tsx)")
# The NATS clients, optional peer dependencies, as a user who bridges installs them (for
# examples/bridge-two-machines.ts, below).
DEV_TOOLS+=("@nats-io/transport-node@$(locked @nats-io/transport-node)" "@nats-io/jetstream@$(locked @nats-io/jetstream)")

if [ "$WITH_INSTALL_SCRIPTS" = 1 ]; then
  check "npm install the tarball WITH its install script and the full PATH (--with-install-scripts: not the packed-package test), plus ${DEV_TOOLS[*]}"
  install_path="$PATH"
  install_flags=(--foreground-scripts)
else
  check "npm install --ignore-scripts the tarball, plus ${DEV_TOOLS[*]}, with the reduced PATH"
  install_path="$SAFE_PATH"
  install_flags=(--ignore-scripts)
fi
if ! (cd "$CONSUMER" && timeout "$STEP_TIMEOUT" env PATH="$install_path" \
  npm install --no-audit --no-fund --save-dev "${install_flags[@]}" "$TARBALL" "${DEV_TOOLS[@]}") >"$WORK/install.log" 2>&1; then
  cat "$WORK/install.log" >&2
  fail "npm install in the empty project failed"
fi
[ -f "$CONSUMER/node_modules/interproc/package.json" ] || fail "interproc is not in the consumer's node_modules"
if [ "$WITH_INSTALL_SCRIPTS" = 0 ] && [ -e "$CONSUMER/node_modules/interproc/build" ]; then
  fail "node_modules/interproc/build exists although no install script ran"
fi

# -- 3. In the consumer project -------------------------------------------------------
check "a. two-process Mailbox exchange in plain JavaScript (b. npx interproc ls --json runs inside it)"
in_consumer_shown "the mailbox exchange failed" node mailbox-exchange.mjs

check "c. tsc --noEmit: typed-consumer.ts (strict, NodeNext, Mailbox<T>, using, IpcError codes)"
if ! in_consumer npx --no-install tsc -p tsconfig.json >"$WORK/tsc.log" 2>&1; then
  cat "$WORK/tsc.log" >&2
  fail "the TypeScript consumer does not type-check"
fi
check "c. the TypeScript consumer runs (tsx)"
in_consumer_shown "the TypeScript consumer failed" node --import tsx typed-consumer.ts

check "c. tsc reports exactly the errors type-error.ts marks"
expected=$(grep -nE 'pack-test expects TS[0-9]+' "$CONSUMER/type-error.ts" | sed -E 's/^([0-9]+):.*pack-test expects (TS[0-9]+).*/\1 \2/' | sort)
[ -n "$expected" ] || fail "type-error.ts marks no expected error"
if in_consumer npx --no-install tsc -p tsconfig.type-error.json >"$WORK/tsc-error.log" 2>&1; then
  fail "tsc accepted type-error.ts"
fi
reported=$(sed -nE 's/^type-error\.ts\(([0-9]+),[0-9]+\): error (TS[0-9]+):.*/\1 \2/p' "$WORK/tsc-error.log" | sort)
if [ "$reported" != "$expected" ]; then
  cat "$WORK/tsc-error.log" >&2
  fail "tsc reported other errors than type-error.ts marks (expected: $(echo $expected); reported: $(echo $reported))"
fi
echo "   tsc exit non-zero, reported (line code): $(echo "$expected" | paste -sd, -)"

# The bridge example needs a NATS server with JetStream: Debian's nats-server, started here on
# a free loopback port with its store under $WORK (required when INTERPROC_REQUIRE_NATS=1, as
# in CI; skipped with a reason otherwise). Its two roles run as two machines would, in two
# namespaces; the receiver must print the sender's three orders.
run_bridge_example() {
  local server
  server=$(command -v nats-server || { [ -x /usr/sbin/nats-server ] && echo /usr/sbin/nats-server; } || true)
  if [ -z "$server" ]; then
    [ "${INTERPROC_REQUIRE_NATS:-}" != 1 ] || fail "nats-server is not installed, and INTERPROC_REQUIRE_NATS=1 requires it"
    echo "   skipped: nats-server is not installed (apt-get install nats-server)"
    return
  fi
  local port
  port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
  mkdir -p "$WORK/nats"
  "$server" -js -sd "$WORK/nats" -a 127.0.0.1 -p "$port" >"$WORK/nats.log" 2>&1 &
  NATS_PID=$!
  local url="nats://127.0.0.1:$port" tries=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    tries=$((tries + 1))
    [ "$tries" -lt 100 ] || { cat "$WORK/nats.log" >&2; fail "nats-server did not listen on $port in 10 s"; }
    sleep 0.1
  done
  (cd "$CONSUMER" && timeout "$RUN_TIMEOUT" env PATH="$SAFE_PATH" INTERPROC_NAMESPACE="$NAMESPACE-b" \
    node --import tsx node_modules/interproc/examples/bridge-two-machines.ts receive "$url") >"$WORK/receive.out" 2>&1 &
  local receiver=$!
  (cd "$CONSUMER" && timeout "$RUN_TIMEOUT" env PATH="$SAFE_PATH" INTERPROC_NAMESPACE="$NAMESPACE-a" \
    node --import tsx node_modules/interproc/examples/bridge-two-machines.ts send "$url") >"$WORK/send.out" 2>&1 ||
    { cat "$WORK/send.out" >&2; stop_nats; fail "examples/bridge-two-machines.ts send failed"; }
  wait "$receiver" || { cat "$WORK/receive.out" >&2; stop_nats; fail "examples/bridge-two-machines.ts receive failed"; }
  stop_nats
  sed 's/^/   send: /' "$WORK/send.out"
  sed 's/^/   receive: /' "$WORK/receive.out"
  [ "$(grep -c ' from ' "$WORK/receive.out")" = 3 ] || fail "examples/bridge-two-machines.ts: the receiver did not print three orders"
  [ "$(tail -n 1 "$WORK/send.out")" = "sent 3 orders; JetStream has them all" ] || fail "examples/bridge-two-machines.ts send did not confirm its orders"
}

# What each example must print last (its last line); an example without an entry fails, so
# a new one cannot go unchecked (the bridge example is checked by run_bridge_example).
declare -A EXAMPLE_ARGS=([pipe-to-child.ts]='hello from the packed package')
declare -A EXAMPLE_LAST_LINE=(
  [mailbox-two-processes.ts]='child exited with code 0'
  [pipe-to-child.ts]='hello from the packed package'
  [pipe-to-worker.ts]='the worker read 16777216 bytes'
)
examples=$(cd "$CONSUMER/node_modules/interproc/examples" && ls -- *.ts)
for example in $examples; do
  check "d. example $example from the installed package (node --import tsx node_modules/interproc/examples/$example)"
  if [ "$example" = bridge-two-machines.ts ]; then
    run_bridge_example
    continue
  fi
  [ -n "${EXAMPLE_LAST_LINE[$example]:-}" ] || fail "no expected output known for examples/$example: add it to ${BASH_SOURCE[0]}"
  args=()
  [ -z "${EXAMPLE_ARGS[$example]:-}" ] || args=("${EXAMPLE_ARGS[$example]}")
  in_consumer_shown "examples/$example failed" node --import tsx "node_modules/interproc/examples/$example" "${args[@]}"
  last=$(tail -n 1 "$WORK/out")
  [ "$last" = "${EXAMPLE_LAST_LINE[$example]}" ] || fail "examples/$example ended with \"$last\", not \"${EXAMPLE_LAST_LINE[$example]}\""
done

check "e. nothing left in /dev/shm (namespace $NAMESPACE)"
left=$(ls /dev/shm | grep -E "^interproc\.$NAMESPACE(-[ab])?\." || true)
[ -z "$left" ] || fail "left in /dev/shm: $left"
listing=$(in_consumer npx --no-install interproc ls --json) || fail "npx interproc ls --json failed"
count=$(node -e 'const l = JSON.parse(process.argv[1]); if (!Array.isArray(l)) throw new Error("not an array"); console.log(l.length)' "$listing") ||
  fail "npx interproc ls --json printed no JSON array: $listing"
[ "$count" = 0 ] || fail "npx interproc ls --json still lists $count objects: $listing"
echo "   /dev/shm holds nothing of it, and npx interproc ls --json lists nothing"

if [ "$WITH_INSTALL_SCRIPTS" = 1 ]; then
  echo "== the checks passed, but with --with-install-scripts: NOT the packed-package test (the addon was compiled at install) ($((SECONDS - started)) s)"
else
  echo "== packed-package test passed on Node $NODE_VERSION: installed with --ignore-scripts and no compiler in PATH ($((SECONDS - started)) s)"
fi
