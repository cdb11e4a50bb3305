# Controller step registry-service: the registry container on init, data on the registry volume.
# Inputs (environment): REGISTRY_IMAGE, DATA_DIR, SPEC (a digest of the container's settings).

REGISTRY_CONTAINER=pcc-registry

registry_service_inspect() {
  os_fact
  fact image "$(docker image inspect "$REGISTRY_IMAGE" >/dev/null 2>&1 && echo present || echo missing)"
  fact spec "$(docker inspect -f '{{index .Config.Labels "pcc.spec"}}' "$REGISTRY_CONTAINER" 2>/dev/null || echo absent)"
  fact running "$(docker inspect -f '{{.State.Running}}' "$REGISTRY_CONTAINER" 2>/dev/null || echo false)"
}

registry_service_apply() {
  set -euo pipefail
  if [ "${DO_CREATE:-}" = 1 ]; then
    docker rm -f "$REGISTRY_CONTAINER" >/dev/null 2>&1 || true
    # Settings by environment: registry:2 and registry:3 read their config files from different paths.
    docker run -d --name "$REGISTRY_CONTAINER" --restart always -p 5000:5000 \
      -v "$DATA_DIR:/var/lib/registry" -e REGISTRY_STORAGE_DELETE_ENABLED=true \
      -e REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/var/lib/registry \
      --label "pcc.spec=$SPEC" "$REGISTRY_IMAGE" >/dev/null
  else
    docker start "$REGISTRY_CONTAINER" >/dev/null
  fi
  registry_service_verify
}

registry_service_verify() {
  local attempt
  for attempt in $(seq 1 50); do
    if curl -fsS -o /dev/null http://127.0.0.1:5000/v2/; then return 0; fi
    sleep 0.2
  done
  fail "the registry does not answer on port 5000: $(docker logs --tail 3 "$REGISTRY_CONTAINER" 2>&1 | tr '\n' ' ')"
}
