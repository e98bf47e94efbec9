#!/usr/bin/env bash
# What tests/pytracking/test_html_report.py needs to open the report page (`report --html DIR`) in a real browser:
#   - apt: Debian's `chromium` (run headless: --dump-dom after the page's script ran, --screenshot).
# Idempotent (installs only what is missing) and tolerant: it never fails the caller; without chromium the
# browser test skips, saying so (the page's DOM checks run anyway).
# Usage: .ci/html_test_deps.sh
set -uo pipefail
# shellcheck source=.ci/apt_install.sh
source "$(dirname "$0")/apt_install.sh"

APT_PACKAGES=(chromium)

warn() { echo "html_test_deps: $*; the headless-Chromium report test will skip" >&2; }

if command -v chromium >/dev/null; then echo "html_test_deps: chromium is installed"; else install_apt "${APT_PACKAGES[@]}"; fi
exit 0
