#!/usr/bin/env bash
# Installs every Debian package postcore needs (idempotent, non-interactive) and
# configures the build directories. Usage: scripts/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential g++ meson ninja-build pkg-config clang-format
  liburing-dev libjemalloc-dev libssl-dev libsqlite3-dev libcrypt-dev libmnl-dev
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libfmt-dev libc-ares-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  dpdk-dev libdpdk-dev
  libfuse3-dev fuse3
  python3 swaks postfix iproute2 fetchmail
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  # Postfix is only a test peer and a load generator (smtp-source, smtp-sink):
  # keep the package from configuring or starting a system mail server.
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

[ "${1:-}" = "--no-build" ] && exit 0

if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release
fi
ninja -C build
