# Setup step project-share: the controller's NFS export mounted at /project, on demand and at boot.
# Inputs (environment): NFS_SERVER, NFS_EXPORT, NFS_OPTS; DO_INSTALL, DO_KERNEL_MODULE, DO_UNITS, DO_REMOUNT for apply.

MOUNT_UNIT=/etc/systemd/system/project.mount
AUTOMOUNT_UNIT=/etc/systemd/system/project.automount

project_share_mount_unit() {
  printf '%s\n' '# Written by pcc: the project share.' '[Unit]' 'Description=pcc project share' \
    'After=network-online.target' 'Wants=network-online.target' '' '[Mount]' \
    "What=$NFS_SERVER:$NFS_EXPORT" 'Where=/project' 'Type=nfs' "Options=$NFS_OPTS" 'TimeoutSec=30'
}

project_share_automount_unit() {
  printf '%s\n' '# Written by pcc: mounts /project on first access, so boot never waits for the server.' \
    '[Unit]' 'Description=pcc project share (automount)' '' '[Automount]' 'Where=/project' '' \
    '[Install]' 'WantedBy=multi-user.target'
}

# Whether this kernel can mount NFS: built in, or a module it can load.
project_share_kernel_nfs() {
  if grep -qw nfs4 /proc/filesystems 2>/dev/null || grep -qw nfs /proc/filesystems 2>/dev/null; then echo yes
  elif have modprobe && modprobe -n -q nfs 2>/dev/null; then echo module
  else echo no
  fi
}

# A mount whose server lost its file handles (init restarted) answers ESTALE until it is mounted again.
# --cached=never asks the server, not the client's attribute cache.
project_share_mount_state() {
  mounted_at /project nfs,nfs4 || { echo unmounted; return; }
  local error
  error=$(timeout 20 stat --cached=never /project 2>&1 >/dev/null) && { echo ok; return; }
  case "$error" in
    *'Stale file handle'*) echo stale ;;
    *) echo ok ;;
  esac
}

project_share_inspect() {
  os_fact
  fact kernel_nfs "$(project_share_kernel_nfs)"
  fact client "$(have mount.nfs && echo yes || echo no)"
  fact units "$(cmp -s "$MOUNT_UNIT" <(project_share_mount_unit) && cmp -s "$AUTOMOUNT_UNIT" <(project_share_automount_unit) && echo ok || echo differs)"
  fact automount "$(systemctl is-active project.automount 2>/dev/null || echo inactive)"
  fact enabled "$(systemctl is-enabled project.automount 2>/dev/null || echo no)"
  fact mount "$(project_share_mount_state)"
}

project_share_apply() {
  set -euo pipefail
  if [ "${DO_INSTALL:-}" = 1 ]; then apt_install nfs-common; fi
  if [ "${DO_KERNEL_MODULE:-}" = 1 ]; then modprobe nfs || fail "modprobe nfs failed: this kernel cannot mount NFS"; fi
  # First, as a stale /project fails anything that looks at it (mkdir included). Lazily: programs still
  # in the stale /project keep it until they leave, and new ones get the new mount.
  if [ "${DO_REMOUNT:-}" = 1 ] && mounted_at /project nfs,nfs4; then umount -l /project; fi
  mkdir -p /project
  if [ "${DO_UNITS:-}" = 1 ]; then
    project_share_mount_unit | write_file "$MOUNT_UNIT" 644
    project_share_automount_unit | write_file "$AUTOMOUNT_UNIT" 644
    systemctl daemon-reload
  fi
  systemctl enable -q project.automount
  systemctl restart project.automount
  project_share_verify
}

project_share_verify() {
  timeout 20 stat -f /project >/dev/null 2>&1 \
    || fail "cannot mount $NFS_SERVER:$NFS_EXPORT at /project (is the controller up? pcc init): $(journalctl -u project.mount -n 3 --no-pager 2>/dev/null | tail -1)"
  case "$(findmnt -n -o FSTYPE --mountpoint /project | tail -1)" in
    nfs|nfs4) ;;
    *) fail "/project is not an NFS mount after setup" ;;
  esac
}

# The automount and its units; nfs-common stays (other mounts may use it).
project_share_remove() {
  set -euo pipefail
  systemctl disable --now project.automount >/dev/null 2>&1 || true
  systemctl stop project.mount >/dev/null 2>&1 || true
  rm -f "$MOUNT_UNIT" "$AUTOMOUNT_UNIT"
  systemctl daemon-reload
  ! mountpoint -q /project || fail "/project is still mounted"
  rmdir /project 2>/dev/null || true
}
