# Setup step spot-watch: a spot host watches the instance metadata for EC2's two-minute interruption
# notice; on it, it records the interruption where pcc reads it and stops its containers with SIGTERM.
# Inputs (environment): SPOT (empty: not a spot host, remove the watch), METADATA (the metadata service).

SPOT_WATCHER=/usr/local/lib/pcc/spot-watch
SPOT_SETTINGS=/etc/pcc/spot-watch.env
SPOT_SERVICE=/etc/systemd/system/pcc-spot-watch.service
SPOT_FILES=("$SPOT_WATCHER=755=spot_watch_watcher" "$SPOT_SETTINGS=644=spot_watch_settings" "$SPOT_SERVICE=644=spot_watch_service")

# Asks every 5 s (AWS's advice) with an IMDSv2 token; the notice's path answers 404 until there is one.
spot_watch_watcher() {
  cat <<'WATCHER'
#!/bin/bash
# Written by pcc: waits for EC2's spot interruption notice, then stops this host's work cleanly.
set -uo pipefail
. /etc/pcc/spot-watch.env
while true; do
  token=$(curl -sf -m 2 -X PUT "$METADATA/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 300') \
    && notice=$(curl -sf -m 2 -H "X-aws-ec2-metadata-token: $token" "$METADATA/latest/meta-data/spot/instance-action") \
    && [ -n "$notice" ] && break
  sleep 5
done
at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
mkdir -p /var/lib/pcc
echo "pcc-stop: spot interruption at $at" > /var/lib/pcc/last-stop
echo "pcc-stop: spot interruption at $at" > /dev/console 2>/dev/null || true
echo "spot interruption notice: $notice"
# SIGTERM (each container's stop signal) now, SIGKILL after 90 s: within the two minutes EC2 gives.
containers=$(docker ps --filter status=running --format '{{.Names}}' 2>/dev/null | grep -Ev '^(pcc-|weave)' || true)
if [ -n "$containers" ]; then docker stop -t 90 $containers; fi
WATCHER
}

spot_watch_settings() {
  printf '%s\n' '# Written by pcc: where the spot watch asks for the interruption notice.' "METADATA=$METADATA"
}

# Runs once per boot: after a notice it has done its work, and the host is about to stop.
spot_watch_service() {
  printf '%s\n' '# Written by pcc: the spot interruption watch.' '[Unit]' 'Description=pcc spot interruption watch' \
    'After=network-online.target docker.service' '[Service]' 'Type=simple' "ExecStart=$SPOT_WATCHER" \
    'Restart=on-failure' '[Install]' 'WantedBy=multi-user.target'
}

spot_watch_inspect() {
  os_fact
  fact files "$(unit_files_state "$SPOT" "${SPOT_FILES[@]}")"
  fact service "$(unit_state pcc-spot-watch.service)"
}

spot_watch_apply() {
  set -euo pipefail
  if [ -z "$SPOT" ]; then spot_watch_remove; return; fi
  unit_install pcc-spot-watch.service "${SPOT_FILES[@]}"
  spot_watch_verify
}

spot_watch_verify() {
  systemctl is-active -q pcc-spot-watch.service || fail "pcc-spot-watch.service is not active"
  bash -n "$SPOT_WATCHER" || fail "$SPOT_WATCHER is not valid bash"
}

spot_watch_remove() {
  set -euo pipefail
  unit_remove pcc-spot-watch.service "${SPOT_FILES[@]}"
}
