#!/usr/bin/env bash
# Brings up pcc's local test fleet and prints, as KEY=value lines, the settings that point pcc at it.
# Idempotent: installs missing Debian packages, reuses a running Docker engine (or starts one), and
# builds the host and registry images only when their recipe's content hash changed.
# Progress goes to stderr; stdout carries only the settings, so `eval "$(npm run -s fleet:up)"` works.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$FLEET_DIR/libvirt-box.sh"

PACKAGES=(docker.io vagrant btrfs-progs debootstrap openssh-client wireguard-tools wireguard-go
  nfs-ganesha nfs-ganesha-vfs libnfs-utils tmux iproute2 iptables rsync ca-certificates "${LIBVIRT_BOX_PACKAGES[@]}")

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then log "Debian packages present"; return; fi
  log "installing ${missing[*]}"
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

docker_works() { DOCKER_HOST="$1" docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

ensure_docker() {
  if [ -n "${DOCKER_HOST:-}" ] && docker_works "$DOCKER_HOST"; then log "using Docker engine at $DOCKER_HOST"; return; fi
  if docker_works "unix://$FLEET_SOCK"; then DOCKER_HOST="unix://$FLEET_SOCK"; log "using fleet Docker engine"; return; fi
  if [ -S /var/run/docker.sock ] && docker_works unix:///var/run/docker.sock; then
    DOCKER_HOST=unix:///var/run/docker.sock; log "using the system Docker engine"; return; fi
  log "starting a Docker engine at $FLEET_SOCK"
  as_root mkdir -p "$FLEET_RUN" "$FLEET_DATA"
  as_root rm -f "$FLEET_RUN/docker.pid"
  # setsid: the engine must outlive this script and the npm process that runs it.
  as_root setsid dockerd --host "unix://$FLEET_SOCK" --data-root "$FLEET_DATA" --exec-root "$FLEET_RUN/exec" \
    --pidfile "$FLEET_RUN/docker.pid" --group "$(id -gn)" >"$FLEET_RUN/dockerd.log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    if docker_works "unix://$FLEET_SOCK"; then DOCKER_HOST="unix://$FLEET_SOCK"; log "Docker engine ready"; return; fi
    sleep 0.5
  done
  tail -20 "$FLEET_RUN/dockerd.log" >&2 || true
  die "the Docker engine did not start; its log is $FLEET_RUN/dockerd.log"
}

# Content hash of a recipe folder (plus extra strings), so a changed recipe gets a new image tag.
recipe_hash() {
  local dir=$1; shift
  { (cd "$dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); printf '%s\n' "$@"; } |
    sha256sum | cut -c1-12
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

build_base() {
  local mirror; mirror=$(debian_mirror)
  local tag="pcc-fleet-base:$(printf 'bookworm minbase %s\n' "$mirror" | sha256sum | cut -c1-12)"
  if image_exists "$tag"; then log "base image $tag cached"; echo "$tag"; return; fi
  local root="$FLEET_CACHE/rootfs-$$"
  log "debootstrap bookworm from $mirror (about a minute)"
  as_root mkdir -p "$FLEET_CACHE"
  as_root debootstrap --variant=minbase bookworm "$root" "$mirror" >"$FLEET_CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$FLEET_CACHE/debootstrap.log" >&2; die "debootstrap failed; its log is $FLEET_CACHE/debootstrap.log"; }
  echo "deb $mirror bookworm main" | as_root tee "$root/etc/apt/sources.list" >/dev/null
  as_root tar -C "$root" -c . | docker import - "$tag" >&2
  as_root rm -rf "$root"
  echo "$tag"
}

# build_image NAME DIR BASE [--build-arg K=V ...]: the extra build arguments are part of the hash too.
build_image() {
  local name=$1 dir=$2 base=$3 tag
  shift 3
  tag="$name:$(recipe_hash "$dir" "$base" "$@")"
  if image_exists "$tag"; then log "$tag cached"; echo "$tag"; return; fi
  log "building $tag"
  local args=(--build-arg "BASE=$base" -t "$tag" "$@")
  if [ -f "$dir/packages.txt" ]; then args+=(--build-arg "PACKAGES=$(grep -v '^#' "$dir/packages.txt" | xargs)"); fi
  DOCKER_BUILDKIT=0 docker build -q "${args[@]}" "$dir" >&2
  echo "$tag"
}

# libvirt's daemons, started here where no init system runs them (containers, CI); what this script
# starts is recorded so fleet-down.sh stops exactly that.
ensure_libvirt() {
  if virsh -c qemu:///system version >/dev/null 2>&1; then log "using the running libvirtd"; return; fi
  if [ -d /run/systemd/system ]; then
    as_root systemctl start virtlogd.service libvirtd.service
  else
    as_root mkdir -p "$FLEET_RUN"
    pgrep -x virtlogd >/dev/null || { as_root virtlogd -d; echo virtlogd | as_root tee -a "$FLEET_RUN/libvirt-started" >/dev/null; }
    as_root libvirtd -d
    echo libvirtd | as_root tee -a "$FLEET_RUN/libvirt-started" >/dev/null
  fi
  for _ in $(seq 1 40); do
    if virsh -c qemu:///system version >/dev/null 2>&1; then log "libvirtd ready"; return; fi
    sleep 0.5
  done
  die "libvirtd did not start (virsh -c qemu:///system version fails)"
}

# pcc decides KVM or TCG by booting this machine's kernel under KVM. A machine with /dev/kvm but no
# kernel in /boot (a container, some cloud VMs) gets Debian's cloud kernel for that probe; without one,
# pcc could only check qemu's firmware, which can pass where nested KVM hangs a kernel's early boot.
ensure_probe_kernel() {
  [ -e /dev/kvm ] || return 0
  ls /boot/vmlinuz-* >/dev/null 2>&1 && return 0
  log "installing a kernel in /boot for pcc's KVM probe"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-image-cloud-amd64 >&2
}

# The key Vagrant logs in with at a box's first boot, from the installed Vagrant.
vagrant_public_key() {
  local key
  key=$(ls /usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub /opt/vagrant/embedded/gems/gems/vagrant-*/keys/vagrant.pub 2>/dev/null | head -1)
  [ -n "$key" ] || die "Vagrant's insecure public key (keys/vagrant.pub) was not found; is vagrant installed?"
  cat "$key"
}

install_packages
ensure_docker
ensure_libvirt
ensure_probe_kernel
export DOCKER_HOST
base=$(build_base)
host_image=$(build_image pcc-fleet-host "$FLEET_DIR/host" "$base")
registry_image=$(build_image pcc-fleet-registry "$FLEET_DIR/registry" "$base")
# The example image and tests build FROM busybox:stable, which init copies from this engine offline.
docker tag "$(build_image pcc-fleet-busybox "$FLEET_DIR/busybox" "$base")" busybox:stable
vm_image=$(build_image pcc-fleet-vm "$FLEET_DIR/libvirt-box" "$host_image" --build-arg "VAGRANT_PUBLIC_KEY=$(vagrant_public_key)")
libvirt_box=$(build_libvirt_box "$vm_image")
log "ready"
cat <<SETTINGS
DOCKER_HOST=$DOCKER_HOST
VAGRANT_PROVIDER=docker
VAGRANT_DOCKER_IMAGE=$host_image
REGISTRY_IMAGE=$registry_image
LIBVIRT_BOX=$libvirt_box
SETTINGS
