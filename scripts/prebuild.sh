#!/usr/bin/env bash
# Builds the prebuilt addons the package ships, so that installing it needs no compiler:
# prebuilds/linux-<arch>/node.abi<ABI>.glibc.node for each Node.js major, each compiled
# against that major's own headers (ABI = its NODE_MODULE_VERSION: 115 for 20, 127 for 22,
# 137 for 24, 147 for 26). src/native/addon.ts loads them when build/Release has no addon
# for the running Node.js; scripts/install.js skips compiling when one fits.
#
# Each build runs in a directory of its own under the work directory (a copy of
# binding.gyp and native/), with npm's bundled node-gyp and --nodedir pointing at the
# node-linux-<arch> package from npm (scripts/install-node.sh installs it once). The
# checkout's build/ is not touched. Another architecture is cross-compiled with Debian's
# <triple>-g++ (arm64: g++-aarch64-linux-gnu) and skipped, saying so, when that compiler
# is missing. Each file is checked: `file` must name its architecture, and one built for
# this machine must load in its Node.js.
#
# Usage: scripts/prebuild.sh [--arch x64|arm64|all] [major ...]   (npm run prebuilds -- ...)
#   default: --arch all (x64 and arm64) and majors 20 22 24 26
# The npm script is "prebuilds", not "prebuild": npm runs a script named pre<name> before
# every `npm run <name>`, so "prebuild" would run all of this before each `npm run build`.
# Environment: INTERPROC_NODE_VERSIONS_DIR (see scripts/install-node.sh)
# Exit status: 0 when every requested build was made (an architecture skipped for want
# of its compiler counts as made only when it was not asked for by --arch).
# Logs: <work directory>/prebuild-linux-<arch>-node<major>.log
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${INTERPROC_NODE_VERSIONS_DIR:-${TMPDIR:-/tmp}/interproc-node-versions}
HOST_ARCH=$(node -p process.arch)

usage() { echo "usage: $0 [--arch x64|arm64|all] [major ...]" >&2; exit 2; }
arch_choice=all
MAJORS=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --arch) [ "$#" -ge 2 ] || usage; arch_choice=$2; shift 2 ;;
    --arch=*) arch_choice=${1#--arch=}; shift ;;
    -h | --help) usage ;;
    *) [[ "$1" =~ ^[0-9]+$ ]] || usage; MAJORS+=("$1"); shift ;;
  esac
done
case "$arch_choice" in
  all) ARCHES=(x64 arm64) ;;
  x64 | arm64) ARCHES=("$arch_choice") ;;
  *) usage ;;
esac
[ "${#MAJORS[@]}" -gt 0 ] || MAJORS=(20 22 24 26)

# Under `npm run prebuilds`, npm exports its own settings as npm_config_* — a nodedir set in
# ~/.npmrc among them — and node-gyp takes npm_config_nodedir over --nodedir: every addon
# would be built against that one Node's headers. Each build below names its own.
unset npm_config_nodedir
NODE_GYP="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$NODE_GYP" ] || { echo "npm's bundled node-gyp not found at $NODE_GYP" >&2; exit 2; }
mkdir -p "$WORK"

# GNU triple of each architecture, for its cross compiler and for `file`'s wording.
declare -A TRIPLE=([x64]=x86_64-linux-gnu [arm64]=aarch64-linux-gnu)
declare -A FILE_SAYS=([x64]='x86-64' [arm64]='aarch64')

status=0
summary=()
started=$SECONDS
for arch in "${ARCHES[@]}"; do
  compiler_env=()
  if [ "$arch" != "$HOST_ARCH" ]; then
    cross="${TRIPLE[$arch]}-g++"
    if ! command -v "$cross" >/dev/null; then
      echo "== linux-$arch: SKIPPED, no cross compiler $cross on PATH (Debian: apt-get install g++-${TRIPLE[$arch]//_/-})"
      summary+=("linux-$arch: skipped (no $cross)")
      [ "$arch_choice" = all ] || status=1
      continue
    fi
    compiler_env=(CC="${TRIPLE[$arch]}-gcc" CXX="$cross" LINK="$cross")
  fi
  out_dir="$ROOT/prebuilds/linux-$arch"
  mkdir -p "$out_dir"
  for major in "${MAJORS[@]}"; do
    began=$SECONDS
    nodedir=$("$ROOT/scripts/install-node.sh" "$major" "$arch")
    abi=$(sed -n 's/^#define NODE_MODULE_VERSION \([0-9][0-9]*\)$/\1/p' "$nodedir/include/node/node_version.h")
    [ -n "$abi" ] || { echo "no NODE_MODULE_VERSION in $nodedir/include/node/node_version.h" >&2; exit 1; }
    version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$nodedir/package.json")
    target="$out_dir/node.abi$abi.glibc.node"
    dir="$WORK/prebuild-linux-$arch-node$major"
    log="$WORK/prebuild-linux-$arch-node$major.log"
    echo "== linux-$arch, Node $version (ABI $abi): building in $dir"
    rm -rf "$dir"
    mkdir -p "$dir"
    cp -R "$ROOT/binding.gyp" "$ROOT/native" "$dir/"
    if ! (cd "$dir" && env "${compiler_env[@]}" node "$NODE_GYP" rebuild --arch="$arch" --nodedir="$nodedir") >"$log" 2>&1; then
      echo "   build FAILED, see $log"
      tail -20 "$log" | sed 's/^/   /'
      summary+=("linux-$arch Node $major: build failed")
      status=1
      continue
    fi
    grep -E 'warning:' "$log" | sed 's/^/   /' || true
    built="$dir/build/Release/interproc.node"
    described=$(file -b "$built")
    if [[ "$described" != *"${FILE_SAYS[$arch]}"* ]]; then
      echo "   WRONG ARCHITECTURE: $described"
      summary+=("linux-$arch Node $major: wrong architecture")
      status=1
      continue
    fi
    cp "$built" "$target"
    if [ "$arch" = "$HOST_ARCH" ] &&
        ! "$nodedir/bin/node" -e 'process.dlopen({ exports: {} }, process.argv[1])' "$target"; then
      echo "   $target does not load in Node $version"
      summary+=("linux-$arch Node $major: does not load")
      status=1
      continue
    fi
    size=$(stat -c %s "$target")
    summary+=("linux-$arch Node $version ABI $abi: ${target#"$ROOT/"}, $size bytes, $((SECONDS - began)) s")
    echo "   $(cut -d, -f1,2 <<<"$described"), $size bytes, $((SECONDS - began)) s"
  done
done

echo "== Summary (total $((SECONDS - started)) s)"
printf '   %s\n' "${summary[@]}"
exit $status
