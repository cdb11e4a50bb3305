# Controller step project-export: the project folder served over NFSv4 by nfs-ganesha (userspace, so
# it works where the kernel has no NFS server), to the pcc networks only. pcc's own state folder is
# hidden from the export by an empty read-only folder mounted over it.
# Inputs (environment): EXPORT_DIR, PSEUDO, CLIENTS (comma-separated CIDRs), HIDE_DIR (or empty).

GANESHA_CONF=/etc/ganesha/ganesha.conf
EMPTY_DIR=/var/lib/pcc/empty

project_export_conf() {
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
  Squash = No_Root_Squash;
  FSAL { Name = VFS; }
  CLIENT { Clients = $CLIENTS; Access_Type = RW; }
}
CONF
}

project_export_hide_line() { echo "$EMPTY_DIR $HIDE_DIR none bind,ro,nofail 0 0"; }

project_export_inspect() {
  os_fact
  fact installed "$(have ganesha.nfsd && ls /usr/lib/*/ganesha/libfsalvfs.so >/dev/null 2>&1 && echo yes || echo no)"
  fact export_dir "$( [ -d "$EXPORT_DIR" ] && echo yes || echo no)"
  fact conf "$(cmp -s "$GANESHA_CONF" <(project_export_conf) && echo ok || echo differs)"
  fact active "$(systemctl is-active nfs-ganesha 2>/dev/null || echo inactive)"
  if [ -n "$HIDE_DIR" ]; then
    fact hidden "$(findmnt -n --mountpoint "$HIDE_DIR" >/dev/null && grep -qxF "$(project_export_hide_line)" /etc/fstab && echo ok || echo no)"
  else
    fact hidden ok
  fi
}

project_export_apply() {
  set -euo pipefail
  if [ "${DO_INSTALL:-}" = 1 ]; then apt_install nfs-ganesha nfs-ganesha-vfs; fi
  if [ "${DO_HIDE:-}" = 1 ]; then
    mkdir -p "$EMPTY_DIR" "$HIDE_DIR"
    grep -vxF "$(project_export_hide_line)" /etc/fstab > /etc/fstab.pcc || true
    project_export_hide_line >> /etc/fstab.pcc
    chmod 644 /etc/fstab.pcc && mv -f /etc/fstab.pcc /etc/fstab
    findmnt -n --mountpoint "$HIDE_DIR" >/dev/null || mount "$HIDE_DIR"
  fi
  if [ "${DO_CONF:-}" = 1 ]; then project_export_conf | write_file "$GANESHA_CONF" 644; fi
  mkdir -p /var/run/ganesha
  systemctl enable -q nfs-ganesha
  if [ "${DO_CONF:-}" = 1 ] || [ "${DO_HIDE:-}" = 1 ]; then systemctl restart nfs-ganesha; else systemctl start nfs-ganesha; fi
  project_export_verify
}

project_export_verify() {
  local attempt
  for attempt in $(seq 1 50); do
    if ss -ltn 2>/dev/null | grep -q ':2049 '; then return 0; fi
    sleep 0.2
  done
  fail "nfs-ganesha does not listen on port 2049: $(journalctl -u nfs-ganesha -n 3 --no-pager 2>/dev/null | tr '\n' ' ')"
}
