#!/usr/bin/env bash
# Makes sure Debian's Chromium and ChromeDriver are installed (/usr/bin/chromium,
# /usr/bin/chromedriver): the browser tests (crates/server/tests/browser) drive the dashboard
# and the API docs in headless Chromium over WebDriver. Installs both with apt-get when either
# is missing; prints nothing when they are there.
set -euo pipefail
if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    exit 0
fi
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
echo "ensure-chromium: installing chromium and chromium-driver with apt-get"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver >/dev/null
/usr/bin/chromedriver --version >/dev/null
