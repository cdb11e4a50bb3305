# Controller step project-export: the project folder served over NFSv4 by nfs-ganesha (userspace, so
# it works where the kernel has no NFS server), to the project's hosts only. Root on a host is
# squashed to the folder's owner. pcc's state folder and config/ (the AWS keys) are hidden from the
# export by an empty read-only folder mounted over each.
# A folder the provider shares into init through FUSE or 9p (libvirt's virtiofs) is served through a
# bindfs view: NFS names files by handles, and virtiofsd reuses a handle for another file once init's
# kernel forgets the first, or lets it go stale within seconds (a directory made over NFS is gone for
# the next request). bindfs never reuses one while it runs, and answers for forgotten ones.
# Inputs (environment): EXPORT_DIR, PSEUDO, CLIENTS (comma-separated CIDRs; empty: none yet),
# HIDE_DIRS (newline-separated folders, or empty).

GANESHA_CONF=/etc/ganesha/ganesha.conf
EMPTY_DIR=/var/lib/pcc/empty
VIEW_DIR=/srv/pcc/share
VIEW_SCRIPT=/usr/local/lib/pcc/share-view
VIEW_UNIT=/etc/systemd/system/pcc-share-view.service
GANESHA_DROPIN=/etc/systemd/system/nfs-ganesha.service.d/pcc-share-view.conf
VIEW_FILES=("$VIEW_SCRIPT=755=project_view_script" "$VIEW_UNIT=644=project_view_unit" "$GANESHA_DROPIN=644=project_view_dropin")

project_export_needs_view() {
  case "$(findmnt -n -o FSTYPE -T "$EXPORT_DIR" 2>/dev/null)" in
    virtiofs|9p|vboxsf|fuse|fuse.*) return 0 ;;
    *) return 1 ;;
  esac
}

project_export_served_dir() { if project_export_needs_view; then echo "$VIEW_DIR"; else echo "$EXPORT_DIR"; fi; }

# The view starts once the provider has mounted the folder (after boot, over SSH), and hides .pcc and
# config first: hiding mounts made at boot from fstab would end up under the provider's mount.
project_view_script() {
  local dir
  echo '#!/bin/bash'
  echo "# Written by pcc: mounts the view of the project folder that NFS serves (see $VIEW_UNIT)."
  echo 'set -eu'
  echo "until mountpoint -q $(printf %q "$(findmnt -n -o TARGET -T "$EXPORT_DIR")"); do sleep 2; done"
  while IFS= read -r dir; do
    [ -n "$dir" ] || continue
    echo "mkdir -p $(printf %q "$dir") && { mountpoint -q $(printf %q "$dir") || mount --bind -o ro $EMPTY_DIR $(printf %q "$dir"); }"
  done <<< "$HIDE_DIRS"
  echo "mkdir -p $VIEW_DIR"
  # noforget: a handle NFS clients hold stays valid after init's kernel forgets the file; use_ino: the
  # workstation's inode numbers, so a client tells files apart even across restarts of the view.
  echo "exec bindfs -o noforget,use_ino,allow_other $(printf %q "$EXPORT_DIR") $VIEW_DIR"
}

project_view_unit() {
  printf '%s\n' '# Written by pcc: the project folder as the NFS server sees it.' '[Unit]' \
    'Description=pcc project share view (bindfs)' 'Before=nfs-ganesha.service' '' '[Service]' 'Type=forking' \
    "ExecStart=$VIEW_SCRIPT" "ExecStop=/bin/umount $VIEW_DIR" \
    '# It waits for the provider to mount the folder, however long after boot that is.' 'TimeoutStartSec=infinity' \
    '' '[Install]' 'WantedBy=multi-user.target'
}

project_view_dropin() {
  printf '%s\n' '# Written by pcc: the server starts on the view, and stops with it.' '[Unit]' \
    'Requires=pcc-share-view.service' 'After=pcc-share-view.service'
}

project_export_view() {
  if ! project_export_needs_view; then echo none
  elif [ "$(unit_files_state yes "${VIEW_FILES[@]}")" = ok ] && [ "$(unit_state pcc-share-view)" = active/enabled ]; then echo ok
  else echo differs; fi
}

project_export_conf() {
  local owner group view=no
  project_export_needs_view && view=yes
  owner=$(stat -c %u "$EXPORT_DIR" 2>/dev/null || echo 65534)
  group=$(stat -c %g "$EXPORT_DIR" 2>/dev/null || echo 65534)
  cat <<CONF
# Written by pcc: the project share.
NFS_CORE_PARAM { Protocols = 4; NFS_Port = 2049; Enable_NLM = false; Enable_RQUOTA = false; }
# No grace period after a restart: clients do not wait 90 s to reclaim what a restarted share never held.
NFSV4 { Graceless = true; }
CONF
  # The view changes behind the server (the user edits the folder on the workstation): listings are
  # checked against the directory's attributes, and no attributes are kept. Not without the view,
  # where the hiding mounts are other filesystems inside the export, whose attributes the server
  # cannot read afresh (listing the share would fail).
  if [ "$view" = yes ]; then echo 'MDCACHE { Use_Getattr_Directory_Invalidation = true; }'; fi
  cat <<CONF
EXPORT_DEFAULTS { Access_Type = None; }
EXPORT {
  Export_Id = 1;
  Path = "$(project_export_served_dir)";
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
  if [ "$view" = yes ]; then echo '  Attr_Expiration_Time = 0;'; fi
  if [ -n "$CLIENTS" ]; then echo "  CLIENT { Clients = $CLIENTS; Access_Type = RW; }"; fi
  echo "}"
}

# fstab fields escape spaces as \040.
project_export_hide_line() { echo "$EMPTY_DIR ${1// /\\040} none bind,ro,nofail 0 0"; }

project_export_hidden() {
  local dir
  while IFS= read -r dir; do
    [ -n "$dir" ] || continue
    findmnt -n --mountpoint "$dir" >/dev/null || return 1
    if project_export_needs_view; then
      ! grep -qxF "$(project_export_hide_line "$dir")" /etc/fstab || return 1
    else
      grep -qxF "$(project_export_hide_line "$dir")" /etc/fstab || return 1
    fi
  done <<< "$HIDE_DIRS"
}

project_export_inspect() {
  os_fact
  fact installed "$(have ganesha.nfsd && ls /usr/lib/*/ganesha/libfsalvfs.so >/dev/null 2>&1 && echo yes || echo no)"
  fact export_dir "$( [ -d "$EXPORT_DIR" ] && echo yes || echo no)"
  fact conf "$(cmp -s "$GANESHA_CONF" <(project_export_conf) && echo ok || echo differs)"
  fact active "$(systemctl is-active nfs-ganesha 2>/dev/null || echo inactive)"
  fact hidden "$(project_export_hidden && echo ok || echo no)"
  fact view "$(project_export_view)"
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
      project_export_needs_view || project_export_hide_line "$dir" >> /etc/fstab.pcc
      chmod 644 /etc/fstab.pcc && mv -f /etc/fstab.pcc /etc/fstab
      findmnt -n --mountpoint "$dir" >/dev/null || mount --bind -o ro "$EMPTY_DIR" "$dir"
    done <<< "$HIDE_DIRS"
  fi
  if [ "${DO_VIEW:-}" = 1 ]; then
    have bindfs || apt_install bindfs
    unit_install pcc-share-view.service "${VIEW_FILES[@]}"
  fi
  if [ "${DO_CONF:-}" = 1 ]; then project_export_conf | write_file "$GANESHA_CONF" 644; fi
  mkdir -p /var/run/ganesha
  systemctl enable -q nfs-ganesha
  if [ "${DO_CONF:-}" = 1 ] || [ "${DO_HIDE:-}" = 1 ] || [ "${DO_VIEW:-}" = 1 ]; then systemctl restart nfs-ganesha; else systemctl start nfs-ganesha; fi
  project_export_verify
}

nfs_listens() { ss -ltn 2>/dev/null | grep -q ':2049 '; }

project_export_verify() {
  wait_for 60 nfs_listens && return 0
  fail "nfs-ganesha does not listen on port 2049: $(journalctl -u nfs-ganesha -n 3 --no-pager 2>/dev/null | tr '\n' ' ')"
}
