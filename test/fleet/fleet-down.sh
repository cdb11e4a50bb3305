#!/usr/bin/env bash
# Stops what fleet-up.sh started: containers made from the fleet's images, and the fleet's own Docker
# engine if fleet-up started one. Images stay cached for the next run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The engine fleet-up used, looked for in its order: DOCKER_HOST's, the fleet's own, the system's.
engine=""
for candidate in "${DOCKER_HOST:-}" "unix://$FLEET_SOCK" unix:///var/run/docker.sock; do
  if [ -n "$candidate" ] && DOCKER_HOST="$candidate" docker version >/dev/null 2>&1; then engine=$candidate; break; fi
done
if [ -n "$engine" ]; then
  export DOCKER_HOST="$engine"
  ids=$(docker ps -aq --filter label=pcc.fleet=1; for a in pcc-fleet-host pcc-fleet-registry; do
    docker ps -aq --filter "ancestor=$a"; done)
  ids=$(echo "$ids" | sort -u | xargs)
  if [ -n "$ids" ]; then log "removing containers $ids"; docker rm -f $ids >/dev/null; fi
fi
if [ -f "$FLEET_RUN/docker.pid" ]; then
  pid=$(cat "$FLEET_RUN/docker.pid")
  log "stopping the fleet Docker engine (pid $pid)"
  as_root kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
fi
if [ -f "$FLEET_RUN/libvirt-started" ]; then
  for daemon in $(tac "$FLEET_RUN/libvirt-started"); do
    log "stopping $daemon"
    as_root pkill -x "$daemon" || true
  done
  as_root rm -f "$FLEET_RUN/libvirt-started"
fi
log "down"
