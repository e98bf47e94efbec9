# Sourced by the .ci/*_test_deps.sh scripts: install_apt PACKAGE... installs Debian packages with apt-get, as root
# or through passwordless sudo, and on any failure only calls the caller's `warn` (a test then skips, saying why).
install_apt() {
  local sudo=()
  if ! command -v apt-get >/dev/null; then
    warn "no apt-get to install $*"
    return
  fi
  if [ "$(id -u)" != 0 ]; then
    if sudo -n true 2>/dev/null; then sudo=(sudo -n); else warn "not root and no sudo to install $*"; return; fi
  fi
  echo "$(basename "$0" .sh): apt-get install $*"
  "${sudo[@]}" apt-get update -qq >/dev/null \
    && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || warn "apt-get install $* failed"
}
