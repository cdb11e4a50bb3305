#!/usr/bin/env bash
# pcc's main job on this machine, from a fresh clone: installs what pcc needs, builds it, puts `pcc` on
# the PATH and runs it on the bundled example project (this repository: config/ and docker/): the
# controller init comes up with its registry, and the example image is built, pushed and listed;
# in a terminal, the terminal UI then opens on it.
# Where VirtualBox is absent, local machines use Vagrant's docker backend on the local fleet.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

require_node
# Only what is missing: a Vagrant installed from HashiCorp's packages stays the one on the PATH.
command -v vagrant >/dev/null || apt_install vagrant
command -v ssh >/dev/null || apt_install openssh-client
command -v rsync >/dev/null || apt_install rsync
install_node_modules
build
if command -v VBoxManage >/dev/null && [ -z "${VAGRANT_PROVIDER:-}" ]; then
  # VirtualBox machines get init's project folder over NFS from this machine (docs/share.md).
  [ -x /usr/sbin/exportfs ] || apt_install nfs-kernel-server
elif [ -z "${VAGRANT_PROVIDER:-}" ]; then
  say "VirtualBox not found: local machines use Vagrant's docker backend on the local fleet"
  fleet_up
fi
say "linking the pcc command (npm link)"
npm link --no-audit --no-fund --loglevel=error >&2
# The choice of local backend holds in every new shell: pcc remembers it for this project.
# LIBVIRT_BOX only names the fleet's box for the real-kernel tests: it is no setting of pcc's.
remembered=()
for setting in "${FLEET_SETTINGS[@]}"; do
  case $setting in LIBVIRT_BOX=*) ;; *) remembered+=("$setting") ;; esac
done
for key in VAGRANT_PROVIDER VAGRANT_DOCKER_IMAGE REGISTRY_IMAGE DOCKER_HOST; do
  if [ ${#FLEET_SETTINGS[@]} -eq 0 ] && [ -n "${!key:-}" ]; then remembered+=("$key=${!key}"); fi
done
if [ ${#remembered[@]} -gt 0 ]; then
  say "remembering this machine's settings for the project: ${remembered[*]} (pcc settings lists them)"
  pcc settings set "${remembered[@]}" >/dev/null
fi
say "pcc doctor"
pcc doctor
say "pcc init: the controller with its registry and /project share; builds docker/999-mybusybox"
pcc init
say "pcc registry"
pcc registry
if [ -t 0 ] && [ -t 1 ]; then
  say "opening the terminal UI (q quits, ? lists the keys)"
  exec pcc
fi
cat >&2 <<'NEXT'
==> Done. Next: pcc (the terminal UI), or pcc up vagrant, pcc setup vagrant1, pcc status — see README.md.
NEXT
