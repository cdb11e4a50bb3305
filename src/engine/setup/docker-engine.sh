# Setup step docker-engine: Docker installed, daemon.json merged by pcc, the daemon on btrfs.
# Inputs (environment): STORAGE_DRIVER (btrfs; empty: the machine's own, kept); for apply
# DAEMON_JSON_B64 (the merged file), DO_INSTALL, DO_RESTART.

DAEMON_JSON=/etc/docker/daemon.json
# Left when pcc installed Docker, or enabled one that was off, so that `pcc remove` undoes only that.
DOCKER_INSTALLED_MARK=/etc/pcc/docker-installed
DOCKER_ENABLED_MARK=/etc/pcc/docker-enabled

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
  if [ "${DO_INSTALL:-}" = 1 ]; then
    apt_install docker.io
    install -d -m 755 /etc/pcc && touch "$DOCKER_INSTALLED_MARK"
  fi
  if [ -n "${DAEMON_JSON_B64:-}" ]; then
    echo "$DAEMON_JSON_B64" | base64 -d | write_file "$DAEMON_JSON" 644
  fi
  if ! systemctl is-enabled -q docker.service && [ ! -f "$DOCKER_INSTALLED_MARK" ]; then
    install -d -m 755 /etc/pcc && touch "$DOCKER_ENABLED_MARK"
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
  [ -z "${STORAGE_DRIVER:-}" ] || [ "$driver" = "$STORAGE_DRIVER" ] || fail "Docker uses the $driver storage driver, expected $STORAGE_DRIVER"
}

# daemon.json without pcc's keys (DAEMON_JSON_B64; `delete` when nothing else was in it; empty:
# unchanged); Docker itself where pcc installed it, or its start at boot where pcc turned that on.
# Docker starts again on its own storage, if it starts at boot, once the volume is gone (docker-storage).
docker_engine_remove() {
  set -euo pipefail
  case "${DAEMON_JSON_B64:-}" in
    '') ;;
    delete) rm -f "$DAEMON_JSON" ;;
    *) echo "$DAEMON_JSON_B64" | base64 -d | write_file "$DAEMON_JSON" 644 ;;
  esac
  if [ -f "$DOCKER_ENABLED_MARK" ]; then
    systemctl disable -q docker.service docker.socket 2>/dev/null || true
    rm -f "$DOCKER_ENABLED_MARK"
  fi
  if [ -f "$DOCKER_INSTALLED_MARK" ]; then
    systemctl stop docker.service docker.socket 2>/dev/null || true
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q docker.io >/dev/null || fail "apt-get purge docker.io failed"
    rm -f "$DOCKER_INSTALLED_MARK"
  fi
}
