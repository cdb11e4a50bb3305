# Controller step registry-service: the registry on init, with TLS and a password, listening on
# localhost and init's overlay address only, data on the registry volume.
# Inputs (environment): REGISTRY_IMAGE, DATA_DIR, OVERLAY_ADDRESS, SPEC (a digest of the container's
# settings), CA_CERT_B64, SERVER_CERT_B64, SERVER_KEY_B64, HTPASSWD_B64; DO_FILES, DO_UNIT, DO_CREATE.

REGISTRY_CONTAINER=pcc-registry
REGISTRY_CONF=/etc/pcc/registry
REGISTRY_UNIT=/etc/systemd/system/pcc-registry.service

# systemd, not Docker's restart policy, starts the registry: Docker would try at boot before the
# overlay address exists, fail to publish on it, and not try again.
registry_service_unit() {
  printf '%s\n' '# Written by pcc: the project registry, started once the overlay address it listens on exists.' \
    '[Unit]' 'Description=pcc project registry' 'Requires=docker.service' 'After=docker.service pcc-overlay.service' \
    'StartLimitIntervalSec=0' \
    '[Service]' "ExecStart=$(command -v docker) start -a $REGISTRY_CONTAINER" "ExecStop=$(command -v docker) stop $REGISTRY_CONTAINER" \
    'Restart=always' 'RestartSec=2' \
    '[Install]' 'WantedBy=multi-user.target'
}

registry_service_files_digest() {
  cat "$REGISTRY_CONF/server.crt" "$REGISTRY_CONF/server.key" "$REGISTRY_CONF/htpasswd" 2>/dev/null | sha256sum | cut -c1-16
}

registry_service_wanted_digest() {
  { echo "$SERVER_CERT_B64" | base64 -d; echo "$SERVER_KEY_B64" | base64 -d; echo "$HTPASSWD_B64" | base64 -d; } | sha256sum | cut -c1-16
}

registry_service_inspect() {
  os_fact
  fact image "$(docker image inspect "$REGISTRY_IMAGE" >/dev/null 2>&1 && echo present || echo missing)"
  fact spec "$(docker inspect -f '{{index .Config.Labels "pcc.spec"}}' "$REGISTRY_CONTAINER" 2>/dev/null || echo absent)"
  fact files "$( [ "$(registry_service_files_digest)" = "$(registry_service_wanted_digest)" ] && echo ok || echo differs)"
  fact unit "$(cmp -s "$REGISTRY_UNIT" <(registry_service_unit) && systemctl is-enabled -q pcc-registry.service 2>/dev/null && echo ok || echo differs)"
  fact running "$(systemctl is-active -q pcc-registry.service && docker inspect -f '{{.State.Running}}' "$REGISTRY_CONTAINER" 2>/dev/null || echo false)"
}

registry_service_apply() {
  set -euo pipefail
  if [ "${DO_FILES:-}" = 1 ]; then
    install -d -m 700 "$REGISTRY_CONF"
    echo "$SERVER_CERT_B64" | base64 -d | write_file "$REGISTRY_CONF/server.crt" 644
    echo "$SERVER_KEY_B64" | base64 -d | write_file "$REGISTRY_CONF/server.key" 600
    echo "$HTPASSWD_B64" | base64 -d | write_file "$REGISTRY_CONF/htpasswd" 600
  fi
  if [ "${DO_UNIT:-}" = 1 ]; then
    registry_service_unit | write_file "$REGISTRY_UNIT" 644
    systemctl daemon-reload
    systemctl enable -q pcc-registry.service
  fi
  if [ "${DO_CREATE:-}" = 1 ]; then
    systemctl stop pcc-registry.service 2>/dev/null || true
    docker rm -f "$REGISTRY_CONTAINER" >/dev/null 2>&1 || true
    # Settings by environment: registry:2 and registry:3 read their config files from different paths.
    docker create --name "$REGISTRY_CONTAINER" --restart no \
      -p 127.0.0.1:5000:5000 -p "$OVERLAY_ADDRESS:5000:5000" \
      -v "$DATA_DIR:/var/lib/registry" -v "$REGISTRY_CONF:$REGISTRY_CONF:ro" \
      -e REGISTRY_STORAGE_DELETE_ENABLED=true -e REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/var/lib/registry \
      -e REGISTRY_HTTP_TLS_CERTIFICATE="$REGISTRY_CONF/server.crt" -e REGISTRY_HTTP_TLS_KEY="$REGISTRY_CONF/server.key" \
      -e REGISTRY_AUTH=htpasswd -e REGISTRY_AUTH_HTPASSWD_REALM=pcc -e REGISTRY_AUTH_HTPASSWD_PATH="$REGISTRY_CONF/htpasswd" \
      --label "pcc.spec=$SPEC" "$REGISTRY_IMAGE" >/dev/null
  fi
  # New certificates or a new password are read when the registry starts.
  systemctl restart pcc-registry.service
  registry_service_verify
}

registry_code() {
  local code
  code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 --cacert <(echo "$CA_CERT_B64" | base64 -d) "https://$1:5000/v2/" 2>/dev/null) || code=000
  echo "$code"
}
registry_answers() { [ "$(registry_code "$1")" != 000 ]; }

# TLS with the project's CA and a password: without one the registry answers 401, on each address.
registry_service_verify() {
  local address code
  for address in 127.0.0.1 "$OVERLAY_ADDRESS"; do
    wait_for 60 registry_answers "$address" || true
    code=$(registry_code "$address")
    [ "$code" = 401 ] || fail "the registry on $address:5000 answers HTTPS with $code, expected 401 (a password is required): $(docker logs --tail 3 "$REGISTRY_CONTAINER" 2>&1 | tr '\n' ' ')"
  done
}
