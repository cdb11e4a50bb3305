# Setup step docker-engine: Docker installed, daemon.json merged by pcc, the daemon on btrfs.
# Inputs (environment): DAEMON_JSON_B64 (the merged file), DO_INSTALL, DO_RESTART for apply.

DAEMON_JSON=/etc/docker/daemon.json

# The storage driver the running engine uses. Asked of its API with curl where there is one: the docker
# CLI costs a tenth of a second of CPU, on every host at every setup.
docker_engine_driver() {
  local info
  if have curl && info=$(curl -fsS --max-time 5 --unix-socket /var/run/docker.sock http://docker/info 2>/dev/null); then
    [[ $info =~ \"Driver\":\"([^\"]*)\" ]] && echo "${BASH_REMATCH[1]}"
  else
    docker info --format '{{.Driver}}' 2>/dev/null
  fi
}

docker_engine_inspect() {
  os_fact
  fact installed "$(have dockerd && echo yes || echo no)"
  fact daemon_json "$(file_b64 "$DAEMON_JSON")"
  local active
  active=$(systemctl is-active docker.service 2>/dev/null) || active=${active:-no}
  fact enabled "$(systemctl is-enabled docker.service 2>/dev/null || echo no)"
  fact active "$active"
  if [ "$active" = active ]; then
    fact driver "$(docker_engine_driver)"
  else
    fact driver ""
  fi
}

docker_engine_apply() {
  set -euo pipefail
  if [ "${DO_INSTALL:-}" = 1 ]; then apt_install docker.io; fi
  if [ -n "${DAEMON_JSON_B64:-}" ]; then
    echo "$DAEMON_JSON_B64" | base64 -d | write_file "$DAEMON_JSON" 644
  fi
  systemctl enable -q docker.service
  if [ "${DO_RESTART:-}" = 1 ] && systemctl is-active -q docker.service; then
    systemctl restart docker.service
  else
    systemctl start docker.service
  fi
  docker_engine_verify
}

docker_engine_verify() {
  local driver
  driver=$(docker info --format '{{.Driver}}' 2>/dev/null) \
    || fail "Docker does not answer after setup: $(journalctl -u docker -n 5 --no-pager 2>/dev/null | tail -5 | tr '\n' ' ')"
  [ "$driver" = btrfs ] || fail "Docker uses the $driver storage driver, expected btrfs"
}
