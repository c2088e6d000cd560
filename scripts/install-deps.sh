#!/usr/bin/env bash
# Installs the real servers and clients the test suite runs against (Debian packages), when missing.
# Called by `npm test`. Needs root for apt-get; without root it only reports what is missing.
set -euo pipefail

# binary -> Debian package
declare -A want=(
  [memcached]=memcached
  [memccapable]=libmemcached-tools
  [memcaslap]=libmemcached-tools
  [redis-server]=redis-server
  [redis-sentinel]=redis-sentinel
  [redis-cli]=redis-tools
  [redis-benchmark]=redis-tools
  [nutcracker]=nutcracker
  [keepalived]=keepalived
  [haproxy]=haproxy
  [ip]=iproute2
  [arping]=iputils-arping
  [mariadbd]=mariadb-server
  [openssl]=openssl
  [chromium]=chromium # the dashboard's browser test (driven by playwright-core, no download)
  [systemd-analyze]=systemd # deploy/systemd units: systemd-analyze verify
  [prometheus]=prometheus # the monitoring test scrapes keepcache with it
  [promtool]=prometheus   # checks /metrics output and the shipped alert rules
)
# Extra packages named by KEEPCACHE_EXTRA_PACKAGES are installed too.

missing=()
for bin in "${!want[@]}"; do
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ] && [ ! -x "/usr/bin/$bin" ]; then
    missing+=("${want[$bin]}")
  fi
done
for pkg in ${KEEPCACHE_EXTRA_PACKAGES:-}; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "install-deps: missing packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: not root; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the packaged daemons on install; the tests start their own on other ports.
for svc in memcached redis-server redis-sentinel nutcracker keepalived haproxy mariadb prometheus; do
  if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
  if command -v service >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
done
echo "install-deps: installed ${missing[*]}"
