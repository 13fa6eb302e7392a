#!/usr/bin/env bash
# Makes sure npm is on the PATH: the build of crates/web-assets installs the browser code
# Rosetta embeds (Swagger UI, ReDoc, RapiDoc; pinned by its package-lock.json) with `npm ci`.
# Installs Node.js and npm with apt-get when the machine has none.
set -euo pipefail
if command -v npm >/dev/null; then
    exit 0
fi
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
echo "ensure-npm: installing Node.js and npm with apt-get"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
npm --version >/dev/null
