#!/usr/bin/env bash
# The client SDK's browser tests drive a real Chromium: Debian's package, at /usr/bin/chromium.
# Run before `npm test`, so that the README's one test command works on a fresh machine.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests…" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "The browser tests need Chromium at /usr/bin/chromium: sudo apt-get install -y chromium" >&2
  exit 1
fi
