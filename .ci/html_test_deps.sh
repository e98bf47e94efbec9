#!/usr/bin/env bash
# What tests/pytracking/test_html_report.py needs to open the report page (`report --html DIR`) in a real browser:
#   - apt: Debian's `chromium` (run headless: --dump-dom after the page's script ran, --screenshot).
# Idempotent (installs only what is missing) and tolerant: it never fails the caller; without chromium the
# browser test skips, saying so (the page's DOM checks run anyway).
# Usage: .ci/html_test_deps.sh
set -uo pipefail

APT_PACKAGES=(chromium)

warn() { echo "html_test_deps: $*; the headless-Chromium report test will skip" >&2; }

install_apt() {
  local sudo=()
  if ! command -v apt-get >/dev/null; then
    warn "no apt-get to install ${APT_PACKAGES[*]}"
    return
  fi
  if [ "$(id -u)" != 0 ]; then
    if sudo -n true 2>/dev/null; then sudo=(sudo -n); else warn "not root and no sudo to install ${APT_PACKAGES[*]}"; return; fi
  fi
  echo "html_test_deps: apt-get install ${APT_PACKAGES[*]}"
  "${sudo[@]}" apt-get update -qq >/dev/null \
    && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null \
    || warn "apt-get install ${APT_PACKAGES[*]} failed"
}

if command -v chromium >/dev/null; then echo "html_test_deps: chromium is installed"; else install_apt; fi
exit 0
