#!/usr/bin/env bash
# Sets up a real VS Code for the end-to-end test: code-server 4.100.3 (VS Code 1.100.3)
# from the npm registry, shown in Debian's Chromium (see shared/VSCODE-E2E.md).
# Idempotent: a marker file records a finished install, and a rerun is a no-op.
#
#   scripts/e2e-setup.sh            # install what is missing
#   E2E_FORCE=1 scripts/e2e-setup.sh  # reinstall code-server from scratch
#
# Needs Node 20 at /usr/bin/node with its headers (Debian's nodejs + libnode-dev, or
# NodeSource's), build tools (make, g++, python3), and root or sudo for apt-get.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/.e2e/code-server"
MARKER="$DEST/.installed-$CODE_SERVER_VERSION"
START=$(date +%s)

log() { printf '[e2e-setup +%ss] %s\n' "$(( $(date +%s) - START ))" "$*"; }

# ---- Debian packages -------------------------------------------------------------
# bubblewrap: the sandbox for running candidate code (docs/sandbox.md); the rest: code-server and Chromium.
PKGS=(libkrb5-dev libsecret-1-dev libxkbfile-dev pkg-config ripgrep chromium python3 make g++ bubblewrap)
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ -f "$MARKER" ] && [ -z "${E2E_FORCE:-}" ]; then
  log "code-server $CODE_SERVER_VERSION already installed in $DEST"
  exit 0
fi

# ---- node and node-gyp -------------------------------------------------------------
NODE="$(command -v node)"
NODE_MAJOR="$("$NODE" -p 'process.versions.node.split(".")[0]')"
if [ "$NODE_MAJOR" != 20 ]; then
  echo "code-server $CODE_SERVER_VERSION needs Node 20; found $("$NODE" -v) at $NODE" >&2
  exit 1
fi
# Headers of the running node: --nodedir=<prefix> where <prefix>/include/node/node.h exists.
NODEDIR="$(cd "$(dirname "$NODE")/.." && pwd)"
if [ ! -f "$NODEDIR/include/node/node.h" ]; then
  echo "Node headers not found under $NODEDIR/include/node (install libnode-dev or a Node with headers)" >&2
  exit 1
fi
NODE_GYP="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
if [ ! -f "$NODE_GYP" ]; then
  echo "node-gyp not found at $NODE_GYP" >&2
  exit 1
fi
gyp() { "$NODE" "$NODE_GYP" rebuild --nodedir="$NODEDIR" --loglevel=error "$@" >/dev/null; }

# ---- code-server ------------------------------------------------------------------
log "installing code-server@$CODE_SERVER_VERSION into $DEST"
rm -rf "$DEST"
mkdir -p "$DEST"
cd "$DEST"
printf '{ "name": "winnow-e2e-code-server", "private": true }\n' > package.json
# Its postinstall wants npm_config_unsafe_perm as root and downloads ripgrep from GitHub:
# do its steps by hand instead.
npm install --no-audit --no-fund --ignore-scripts --loglevel=error "code-server@$CODE_SERVER_VERSION"
CS="$DEST/node_modules/code-server"

# argon2 (password hashing; loaded at start even with --auth none)
ARGON2="$(cd "$CS" && "$NODE" -p 'require("path").dirname(require.resolve("argon2/package.json"))')"
log "building argon2 in $ARGON2"
(cd "$ARGON2" && gyp --module_name=argon2 --module_path=lib/binding/napi-v3 --napi_build_version=3 \
  && mkdir -p lib/binding/napi-v3 && cp build/Release/argon2.node lib/binding/napi-v3/)

# VS Code's own server dependencies
VS="$CS/lib/vscode"
log "installing lib/vscode dependencies"
(cd "$VS" && npm install --no-audit --no-fund --omit=dev --ignore-scripts --loglevel=error)
mkdir -p "$VS/node_modules/@vscode/ripgrep/bin"
cp "$(command -v rg)" "$VS/node_modules/@vscode/ripgrep/bin/rg"

log "building VS Code's native modules"
pids=()
for m in kerberos @parcel/watcher @vscode/deviceid @vscode/spdlog native-watchdog node-pty; do
  (cd "$VS/node_modules/$m" && gyp && echo "  built $m") &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

ln -sfn node_modules "$VS/node_modules.asar"
ln -sfn code-linux.sh "$VS/bin/remote-cli/code-server"
ln -sfn browser-linux.sh "$VS/bin/helpers/browser.sh"

log "installing lib/vscode/extensions dependencies"
(cd "$VS/extensions" && npm install --no-audit --no-fund --omit=dev --ignore-scripts --loglevel=error)

# Smoke check: the entry point answers --version (--config keeps it out of ~/.config).
"$NODE" "$CS/out/node/entry.js" --config "$DEST/config.yaml" --version

date -u +%FT%TZ > "$MARKER"
log "done"
