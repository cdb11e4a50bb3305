# Shared settings of the local test fleet (sourced by fleet-up.sh and fleet-down.sh).
FLEET_RUN=${PCC_FLEET_RUN:-/run/pcc-test}
FLEET_DATA=${PCC_FLEET_DATA:-/var/lib/pcc-test-docker}
FLEET_CACHE=${PCC_FLEET_CACHE:-/var/cache/pcc-fleet}
FLEET_SOCK="$FLEET_RUN/docker.sock"
FLEET_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { echo "fleet: $*" >&2; }
die() { echo "fleet: error: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "run as root (or install sudo): '$*' needs it"; fi
}

# The Debian mirror this machine already uses, so images build where only that mirror is reachable.
debian_mirror() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ {print ($2 ~ /^\[/ ? $3 : $2); exit}' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}
