#!/usr/bin/env bash
# The floor for bench/setup: pcc's setup steps (Docker storage on btrfs, Docker engine with pcc's
# daemon.json, REGISTRY_HOST with the registry's CA and login, GPU detection) as one plain idempotent
# script, run as root over one ssh call. Inputs: VOLUME_FILE, VOLUME_GB, REGISTRY_HOST, DAEMON_JSON (the
# file's final text), CA_CERT and LOGIN_JSON.
set -euo pipefail

if ! findmnt -n --mountpoint /var/lib/docker >/dev/null; then
  if [ ! -f "$VOLUME_FILE" ]; then
    truncate -s "${VOLUME_GB}G" "$VOLUME_FILE.new" && mkfs.btrfs -q "$VOLUME_FILE.new" && mv "$VOLUME_FILE.new" "$VOLUME_FILE"
  fi
  line="$VOLUME_FILE /var/lib/docker btrfs loop,defaults,nofail 0 0"
  grep -qxF "$line" /etc/fstab || echo "$line" >> /etc/fstab
  mkdir -p /var/lib/docker && mount /var/lib/docker
fi
dropin=/etc/systemd/system/docker.service.d/pcc-storage.conf
if [ ! -f "$dropin" ]; then
  mkdir -p "$(dirname "$dropin")" && printf '[Unit]\nRequiresMountsFor=/var/lib/docker\n' > "$dropin" && systemctl daemon-reload
fi
if ! printf '%s' "$DAEMON_JSON" | cmp -s - /etc/docker/daemon.json; then
  mkdir -p /etc/docker && printf '%s' "$DAEMON_JSON" > /etc/docker/daemon.json
  systemctl enable -q docker && systemctl restart docker
fi
systemctl is-active -q docker || { systemctl enable -q docker && systemctl start docker; }
[ "$(docker info --format '{{.Driver}}')" = btrfs ]
grep -qxF "export REGISTRY_HOST=$REGISTRY_HOST" /etc/profile.d/pcc.sh 2>/dev/null || echo "export REGISTRY_HOST=$REGISTRY_HOST" > /etc/profile.d/pcc.sh
grep -qxF "REGISTRY_HOST=$REGISTRY_HOST" /etc/environment || echo "REGISTRY_HOST=$REGISTRY_HOST" >> /etc/environment
ca=/etc/docker/certs.d/$REGISTRY_HOST/ca.crt
printf '%s' "$CA_CERT" | cmp -s - "$ca" || { mkdir -p "$(dirname "$ca")" && printf '%s' "$CA_CERT" > "$ca"; }
printf '%s' "$LOGIN_JSON" | cmp -s - /etc/pcc/registry-login.json || { mkdir -p /etc/pcc && (umask 077 && printf '%s' "$LOGIN_JSON" > /etc/pcc/registry-login.json); }
grep -l 0x10de /sys/bus/pci/devices/*/vendor >/dev/null 2>&1 || true
