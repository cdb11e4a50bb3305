# A btrfs filesystem in a loop file, mounted at every boot; used by the docker-storage step
# (/var/lib/docker) and the controller's registry-volume step.
# Inputs (environment): VOLUME_FILE, VOLUME_GB, MOUNT_DIR, ORDER_UNIT (a unit that must start only
# once the volume is mounted, e.g. docker.service; empty for none).

# Left in the empty mount point before mounting, so pcc can tell a directory it made from user data.
MARKER=.pcc-mountpoint

btrfs_volume_dropin_file() { echo "/etc/systemd/system/$ORDER_UNIT.d/pcc-$(systemd-escape -p "$MOUNT_DIR").conf"; }

btrfs_volume_fstab_line() { echo "$VOLUME_FILE $MOUNT_DIR btrfs loop,defaults,nofail 0 0"; }

btrfs_volume_dropin() {
  printf '%s\n' "# Written by pcc: $ORDER_UNIT keeps data on the btrfs volume mounted here." \
    '[Unit]' "RequiresMountsFor=$MOUNT_DIR"
}

# The partition under the volume file's filesystem and how far it could grow into free space after
# it on its disk: a disk its provider made larger (EC2's ModifyVolume), which the partition and its
# filesystem do not follow by themselves until the next boot.
btrfs_volume_root_facts() {
  local dir source fstype name part disk start end other
  dir=$(dirname "$VOLUME_FILE")
  while [ ! -d "$dir" ]; do dir=$(dirname "$dir"); done
  read -r source fstype < <(findmnt -n -o SOURCE,FSTYPE -T "$dir" 2>/dev/null | tail -1) || true
  name=$(basename "$(readlink -f "$source" 2>/dev/null)" 2>/dev/null)
  part=/sys/class/block/$name
  case "$fstype" in ext4 | xfs) ;; *) fact root_growable 0; return ;; esac
  if [ -z "$name" ] || [ ! -r "$part/partition" ]; then fact root_growable 0; return; fi
  disk=$(readlink -f "$part/..")
  start=$(cat "$part/start")
  # Up to the next partition, or to the disk's end less GPT's backup table (34 sectors).
  end=$(( $(cat "$disk/size") - 34 ))
  for other in "$disk"/"$(basename "$disk")"*/start; do
    [ "$(cat "$other")" -gt "$start" ] && [ "$(cat "$other")" -lt "$end" ] && end=$(cat "$other")
  done
  fact root_growable "$(( (end - start - $(cat "$part/size")) * 512 ))"
  fact root_partition "/dev/$name"
  fact root_disk "/dev/$(basename "$disk")"
  fact root_partnum "$(cat "$part/partition")"
  fact root_fstype "$fstype"
  fact root_mount "$(findmnt -n -o TARGET -T "$dir" | tail -1)"
}

btrfs_volume_inspect() {
  os_fact
  fact mkfs "$(have mkfs.btrfs && echo yes || echo no)"
  local source="" fstype=""
  read -r source fstype < <(findmnt -n -o SOURCE,FSTYPE --mountpoint "$MOUNT_DIR" 2>/dev/null | tail -1) || true
  fact mount_fstype "$fstype"
  fact mount_source "$source"
  case "$source" in
    /dev/loop*) fact mount_backing "$(losetup -n -O BACK-FILE "$source" 2>/dev/null | sed 's/ *$//')" ;;
    *) fact mount_backing "" ;;
  esac
  if [ "$fstype" = btrfs ]; then
    fact fs_bytes "$(btrfs filesystem show --raw "$MOUNT_DIR" 2>/dev/null | awk '/devid/ {print $4; exit}')"
  else
    fact fs_bytes ""
  fi
  fact file_bytes "$(stat -c %s "$VOLUME_FILE" 2>/dev/null)"
  if [ -z "$fstype" ]; then
    if [ ! -e "$MOUNT_DIR" ]; then fact dir absent
    elif [ -z "$(ls -A "$MOUNT_DIR")" ]; then fact dir empty
    elif [ "$(ls -A "$MOUNT_DIR")" = "$MARKER" ]; then fact dir pcc
    else fact dir "data:$(ls -A "$MOUNT_DIR" | head -5 | tr '\n' ' ')"
    fi
  else
    fact dir mounted
  fi
  fact free_bytes "$(df -B1 --output=avail "$(dirname "$VOLUME_FILE")" 2>/dev/null | tail -1 | tr -d ' ')"
  btrfs_volume_root_facts
  local ours others
  ours=$(grep -cxF "$(btrfs_volume_fstab_line)" /etc/fstab 2>/dev/null)
  others=$(awk -v dir="$MOUNT_DIR" -v line="$(btrfs_volume_fstab_line)" '$1 !~ /^#/ && $2 == dir && $0 != line' /etc/fstab 2>/dev/null | wc -l)
  fact fstab_ours "${ours:-0}"
  fact fstab_others "$others"
  if [ -z "${ORDER_UNIT:-}" ]; then fact dropin ok
  else fact dropin "$(cmp -s "$(btrfs_volume_dropin_file)" <(btrfs_volume_dropin) && echo ok || echo differs)"
  fi
}

# Flags from pcc's plan (1 = do it): DO_INSTALL, DO_GROW_ROOT (with ROOT_DISK, ROOT_PARTNUM,
# ROOT_PARTITION, ROOT_FSTYPE, ROOT_MOUNT from the facts), DO_CREATE, DO_MOUNT, DO_GROW, DO_FSTAB, DO_DROPIN.
btrfs_volume_apply() {
  set -euo pipefail
  if [ "${DO_INSTALL:-}" = 1 ]; then apt_install btrfs-progs; fi
  if [ "${DO_GROW_ROOT:-}" = 1 ]; then
    have growpart || apt_install cloud-guest-utils
    local grown
    # NOCHANGE: something else grew it since the inspect; the filesystem is grown all the same.
    grown=$(growpart "$ROOT_DISK" "$ROOT_PARTNUM" 2>&1) || case "$grown" in NOCHANGE*) ;; *) fail "growpart $ROOT_DISK $ROOT_PARTNUM: $grown" ;; esac
    case "$ROOT_FSTYPE" in
      ext4) grown=$(resize2fs "$ROOT_PARTITION" 2>&1) || fail "resize2fs $ROOT_PARTITION: $(echo "$grown" | tr '\n' ' ')" ;;
      xfs) grown=$(xfs_growfs "$ROOT_MOUNT" 2>&1) || fail "xfs_growfs $ROOT_MOUNT: $(echo "$grown" | tr '\n' ' ')" ;;
    esac
  fi
  if [ "${DO_CREATE:-}" = 1 ]; then
    # Made beside its final name and renamed when whole: an interrupted setup leaves no half volume.
    local new="$VOLUME_FILE.pcc-new"
    mkdir -p "$(dirname "$VOLUME_FILE")"
    rm -f "$new"
    truncate -s "${VOLUME_GB}G" "$new"
    chmod 600 "$new"
    mkfs.btrfs -q "$new"
    mv -f "$new" "$VOLUME_FILE"
  fi
  if [ "${DO_FSTAB:-}" = 1 ]; then
    # Drop every copy of pcc's line, then append one: never a duplicate.
    grep -vxF "$(btrfs_volume_fstab_line)" /etc/fstab > /etc/fstab.pcc || true
    btrfs_volume_fstab_line >> /etc/fstab.pcc
    chmod 644 /etc/fstab.pcc && mv -f /etc/fstab.pcc /etc/fstab
  fi
  if [ "${DO_MOUNT:-}" = 1 ]; then
    mkdir -p "$MOUNT_DIR"
    touch "$MOUNT_DIR/$MARKER"
    mount "$MOUNT_DIR"
  fi
  if [ "${DO_GROW:-}" = 1 ]; then
    truncate -s "${VOLUME_GB}G" "$VOLUME_FILE"
    losetup -c "$(findmnt -n -o SOURCE --mountpoint "$MOUNT_DIR" | tail -1)"
    btrfs filesystem resize max "$MOUNT_DIR" >/dev/null
  fi
  if [ "${DO_DROPIN:-}" = 1 ]; then
    btrfs_volume_dropin | write_file "$(btrfs_volume_dropin_file)" 644
    systemctl daemon-reload
  fi
  btrfs_volume_verify
}

btrfs_volume_verify() {
  local fstype size want
  fstype=$(findmnt -n -o FSTYPE --mountpoint "$MOUNT_DIR" | tail -1)
  [ "$fstype" = btrfs ] || fail "$MOUNT_DIR is not a btrfs mount after setup (found '${fstype:-nothing}')"
  size=$(btrfs filesystem show --raw "$MOUNT_DIR" | awk '/devid/ {print $4; exit}')
  want=$((VOLUME_GB * 1024 * 1024 * 1024))
  [ "$size" = "$want" ] || fail "btrfs volume is $size bytes, expected $want (VARLIBDOCKER_GB=$VOLUME_GB)"
  [ "$(grep -cxF "$(btrfs_volume_fstab_line)" /etc/fstab)" = 1 ] || fail "/etc/fstab does not hold pcc's line exactly once"
}

# The volume with everything in it, its fstab line and drop-in. ORDER_UNIT (Docker) is stopped while
# it goes and started again, on the machine's own storage, where it still starts at boot.
btrfs_volume_remove() {
  set -euo pipefail
  local volume=""
  if [ -e "$VOLUME_FILE" ] || [ "$(findmnt -n -o FSTYPE --mountpoint "$MOUNT_DIR" 2>/dev/null | tail -1)" = btrfs ]; then volume=1; fi
  # Without pcc's volume (the machine's own storage was kept), Docker is left alone.
  if [ -n "$volume" ] && [ -n "${ORDER_UNIT:-}" ]; then
    systemctl stop "$ORDER_UNIT" "${ORDER_UNIT%.service}.socket" 2>/dev/null || true
  fi
  if [ -n "$volume" ] && mountpoint -q "$MOUNT_DIR"; then umount "$MOUNT_DIR" || fail "cannot unmount $MOUNT_DIR: something still uses it"; fi
  if grep -qxF "$(btrfs_volume_fstab_line)" /etc/fstab; then
    grep -vxF "$(btrfs_volume_fstab_line)" /etc/fstab > /etc/fstab.pcc || true
    chmod 644 /etc/fstab.pcc && mv -f /etc/fstab.pcc /etc/fstab
  fi
  rm -f "$VOLUME_FILE" "$MOUNT_DIR/$MARKER"
  if [ -n "${ORDER_UNIT:-}" ]; then
    rm -f "$(btrfs_volume_dropin_file)"
    rmdir --ignore-fail-on-non-empty "$(dirname "$(btrfs_volume_dropin_file)")" 2>/dev/null || true
  fi
  systemctl daemon-reload
  if [ -n "$volume" ] && [ -n "${ORDER_UNIT:-}" ] && systemctl is-enabled -q "$ORDER_UNIT" 2>/dev/null; then systemctl start "$ORDER_UNIT"; fi
  [ ! -e "$VOLUME_FILE" ] || fail "$VOLUME_FILE is still there"
}
