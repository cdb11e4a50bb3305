# Controller step project-export: the project folder served over NFSv4 by nfs-ganesha (userspace, so
# it works where the kernel has no NFS server), to the project's hosts only. Root on a host is
# squashed to the folder's owner. pcc's state folder and config/ (the AWS keys) are hidden from the
# export by an empty read-only folder mounted over each.
# Inputs (environment): EXPORT_DIR, PSEUDO, CLIENTS (comma-separated CIDRs; empty: none yet),
# HIDE_DIRS (newline-separated folders, or empty).

GANESHA_CONF=/etc/ganesha/ganesha.conf
EMPTY_DIR=/var/lib/pcc/empty

project_export_conf() {
  local owner group
  owner=$(stat -c %u "$EXPORT_DIR" 2>/dev/null || echo 65534)
  group=$(stat -c %g "$EXPORT_DIR" 2>/dev/null || echo 65534)
  cat <<CONF
# Written by pcc: the project share.
NFS_CORE_PARAM { Protocols = 4; NFS_Port = 2049; Enable_NLM = false; Enable_RQUOTA = false; }
# No grace period after a restart: clients do not wait 90 s to reclaim what a restarted share never held.
NFSV4 { Graceless = true; }
EXPORT_DEFAULTS { Access_Type = None; }
EXPORT {
  Export_Id = 1;
  Path = "$EXPORT_DIR";
  Pseudo = "$PSEUDO";
  Protocols = 4;
  Transports = TCP;
  SecType = sys;
  # Root on a host writes as the folder's owner, not as root (unless the folder is root's own).
  Squash = Root_Squash;
  Anonymous_Uid = $owner;
  Anonymous_Gid = $group;
  FSAL { Name = VFS; }
CONF
  if [ -n "$CLIENTS" ]; then echo "  CLIENT { Clients = $CLIENTS; Access_Type = RW; }"; fi
  echo "}"
}

# fstab fields escape spaces as \040.
project_export_hide_line() { echo "$EMPTY_DIR ${1// /\\040} none bind,ro,nofail 0 0"; }

project_export_hidden() {
  local dir
  while IFS= read -r dir; do
    [ -n "$dir" ] || continue
    findmnt -n --mountpoint "$dir" >/dev/null && grep -qxF "$(project_export_hide_line "$dir")" /etc/fstab || return 1
  done <<< "$HIDE_DIRS"
}

project_export_inspect() {
  os_fact
  fact installed "$(have ganesha.nfsd && ls /usr/lib/*/ganesha/libfsalvfs.so >/dev/null 2>&1 && echo yes || echo no)"
  fact export_dir "$( [ -d "$EXPORT_DIR" ] && echo yes || echo no)"
  fact conf "$(cmp -s "$GANESHA_CONF" <(project_export_conf) && echo ok || echo differs)"
  fact active "$(systemctl is-active nfs-ganesha 2>/dev/null || echo inactive)"
  fact hidden "$(project_export_hidden && echo ok || echo no)"
}

project_export_apply() {
  set -euo pipefail
  if [ "${DO_INSTALL:-}" = 1 ]; then apt_install nfs-ganesha nfs-ganesha-vfs; fi
  if [ "${DO_HIDE:-}" = 1 ]; then
    local dir
    mkdir -p "$EMPTY_DIR"
    while IFS= read -r dir; do
      [ -n "$dir" ] || continue
      mkdir -p "$dir"
      grep -vxF "$(project_export_hide_line "$dir")" /etc/fstab > /etc/fstab.pcc || true
      project_export_hide_line "$dir" >> /etc/fstab.pcc
      chmod 644 /etc/fstab.pcc && mv -f /etc/fstab.pcc /etc/fstab
      findmnt -n --mountpoint "$dir" >/dev/null || mount --bind -o ro "$EMPTY_DIR" "$dir"
    done <<< "$HIDE_DIRS"
  fi
  if [ "${DO_CONF:-}" = 1 ]; then project_export_conf | write_file "$GANESHA_CONF" 644; fi
  mkdir -p /var/run/ganesha
  systemctl enable -q nfs-ganesha
  if [ "${DO_CONF:-}" = 1 ] || [ "${DO_HIDE:-}" = 1 ]; then systemctl restart nfs-ganesha; else systemctl start nfs-ganesha; fi
  project_export_verify
}

nfs_listens() { ss -ltn 2>/dev/null | grep -q ':2049 '; }

project_export_verify() {
  wait_for 60 nfs_listens && return 0
  fail "nfs-ganesha does not listen on port 2049: $(journalctl -u nfs-ganesha -n 3 --no-pager 2>/dev/null | tr '\n' ' ')"
}
