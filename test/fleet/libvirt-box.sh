# A Vagrant box for the libvirt provider, built here from Debian packages (Vagrant Cloud is out of
# reach): a bootable qcow2 disk made of the fleet's VM image, with nothing mounted on the way.
# Sourced by fleet-up.sh (needs lib.sh and a Docker engine in DOCKER_HOST).
#
# Disk layout: an MBR with syslinux's boot code, a FAT partition holding syslinux, the kernel and its
# initrd (syslinux and mtools write FAT images without mounting them), then the root filesystem,
# written by `mkfs.ext4 -d` straight from the image's exported files.

LIBVIRT_BOX_PACKAGES=(qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients
  vagrant-libvirt dnsmasq-base syslinux syslinux-common mtools dosfstools fdisk)
LIBVIRT_BOX_DISK_GB=12
LIBVIRT_BOX_BOOT_MB=256

# The box's name carries the content hash of what it is made of, so a changed recipe is a new box.
libvirt_box_name() {
  local image_id=$1
  echo "pcc-fleet/bookworm-$({ echo "$image_id"; sha256sum < "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-12)"
}

libvirt_box_present() { vagrant box list --machine-readable 2>/dev/null | grep -q ",box-name,$1\$"; }

build_libvirt_box() {
  local image=$1 name work root kernel initrd
  name=$(libvirt_box_name "$(docker image inspect --format '{{.Id}}' "$image")")
  if libvirt_box_present "$name"; then log "libvirt box $name cached"; echo "$name"; return; fi
  work="$FLEET_CACHE/box-${name##*-}"
  root="$work/root"
  log "building libvirt box $name from $image"
  as_root rm -rf "$work"
  as_root mkdir -p "$root"
  local container; container=$(docker create "$image")
  docker export "$container" | as_root tar -C "$root" -x
  docker rm "$container" >/dev/null
  # Docker supplied these to the container; a VM needs its own.
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' | as_root tee "$root/etc/hosts" >/dev/null
  as_root ln -sf ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
  as_root rm -f "$root/.dockerenv"
  # Each machine makes its own machine-id at first boot: a shared one is a shared DHCP client id, and
  # libvirt's DHCP server then hands every machine the same address.
  as_root truncate -s 0 "$root/etc/machine-id"
  as_root rm -f "$root/var/lib/dbus/machine-id"
  kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -1)
  initrd=$(ls "$root"/boot/initrd.img-* | sort -V | tail -1)

  local boot="$work/boot.fat" rootfs="$work/root.ext4" disk="$work/disk.raw"
  as_root truncate -s "${LIBVIRT_BOX_BOOT_MB}M" "$boot"
  as_root mkfs.vfat -F 32 -n PCCBOOT "$boot" >/dev/null
  as_root syslinux --install "$boot" >&2
  printf 'DEFAULT linux\nPROMPT 0\nTIMEOUT 0\nLABEL linux\n  KERNEL /vmlinuz\n  APPEND initrd=/initrd.img root=LABEL=pcc-root rw console=tty0 console=ttyS0\n' |
    as_root tee "$work/syslinux.cfg" >/dev/null
  as_root mcopy -i "$boot" "$kernel" ::vmlinuz
  as_root mcopy -i "$boot" "$initrd" ::initrd.img
  as_root mcopy -i "$boot" "$work/syslinux.cfg" ::syslinux.cfg

  local root_mb=$((LIBVIRT_BOX_DISK_GB * 1024 - LIBVIRT_BOX_BOOT_MB - 1))
  as_root mkfs.ext4 -q -F -L pcc-root -d "$root" "$rootfs" "${root_mb}M" >&2
  as_root truncate -s "${LIBVIRT_BOX_DISK_GB}G" "$disk"
  printf 'label: dos\nstart=1MiB, size=%sMiB, type=c, bootable\nstart=%sMiB, type=83\n' \
    "$LIBVIRT_BOX_BOOT_MB" "$((LIBVIRT_BOX_BOOT_MB + 1))" | as_root sfdisk -q "$disk"
  as_root dd if="$boot" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
  as_root dd if="$rootfs" of="$disk" bs=1M seek=$((LIBVIRT_BOX_BOOT_MB + 1)) conv=notrunc,sparse status=none
  as_root dd if=/usr/lib/syslinux/mbr/mbr.bin of="$disk" bs=440 count=1 conv=notrunc status=none

  as_root qemu-img convert -O qcow2 "$disk" "$work/box.img" >&2
  printf '{"provider":"libvirt","format":"qcow2","virtual_size":%s}\n' "$LIBVIRT_BOX_DISK_GB" | as_root tee "$work/metadata.json" >/dev/null
  as_root tar -C "$work" -cf "$work/box.box" metadata.json box.img
  vagrant box add --force --name "$name" "$work/box.box" >&2
  as_root rm -rf "$work"
  prune_libvirt_boxes "$name"
  echo "$name"
}

# Earlier fleet boxes, and the copies vagrant-libvirt uploaded of them into libvirt's storage pool
# (volumes named after the box, with / spelt VAGRANTSLASH). A volume still backing a machine stays.
prune_libvirt_boxes() {
  local keep=$1 box volume
  for box in $(vagrant box list --machine-readable 2>/dev/null | awk -F, '$3 == "box-name" && $4 ~ /^pcc-fleet\/bookworm-/ {print $4}'); do
    [ "$box" = "$keep" ] && continue
    log "removing the old libvirt box $box"
    vagrant box remove --force --all "$box" >/dev/null 2>&1 || true
    for volume in $(virsh -c qemu:///system vol-list default 2>/dev/null | awk -v prefix="${box/\//-VAGRANTSLASH-}_" 'index($1, prefix) == 1 {print $1}'); do
      virsh -c qemu:///system vol-delete --pool default "$volume" >/dev/null 2>&1 || log "kept $volume (a machine still uses it)"
    done
  done
}
