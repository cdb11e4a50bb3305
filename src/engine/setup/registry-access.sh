# Setup step registry-access: $REGISTRY_HOST exported for login shells and SSH sessions, Docker
# trusting the project's CA for it, and Docker logged in to it with a login only root can read.
# Inputs (environment): REGISTRY_HOST, REGISTRIES (the names Docker uses for the registry here,
# space-separated), CA_CERT_B64, LOGIN_JSON_B64 (the login as Docker's credential helpers answer it);
# for apply DO_TRUST, DO_LOGIN, ROOT_CONFIG_B64 and USER_CONFIG_B64 (merged ~/.docker/config.json of
# root and of the login user).

PROFILE=/etc/profile.d/pcc.sh
REGISTRY_LOGIN=/etc/pcc/registry-login.json
CREDENTIAL_HELPER=/usr/local/bin/docker-credential-pcc

registry_access_profile() {
  printf '%s\n' '# Written by pcc: the project registry, as in `docker pull $REGISTRY_HOST/name`.' \
    "export REGISTRY_HOST=$REGISTRY_HOST"
}

# Docker's CLI asks this helper for the registry's login (credHelpers in ~/.docker/config.json).
# The login file is root's alone; other users with sudo rights get it through sudo.
registry_access_helper() {
  printf '%s\n' '#!/bin/sh' \
    "# Written by pcc: Docker's credential helper for the project registry; the login in $REGISTRY_LOGIN is root's." \
    'case "$1" in' \
    '  get) cat >/dev/null' \
    "    if [ \"\$(id -u)\" = 0 ]; then exec cat $REGISTRY_LOGIN; fi" \
    "    exec sudo -n cat $REGISTRY_LOGIN ;;" \
    "  list) echo '{}' ;;" \
    '  *) cat >/dev/null ;;' \
    'esac'
}

# The user pcc logs in as (sudo runs this script); empty when that is root.
registry_access_user() {
  if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then echo "$SUDO_USER"; fi
}

registry_access_user_config() {
  echo "$(getent passwd "$1" | cut -d: -f6)/.docker/config.json"
}

registry_access_inspect() {
  os_fact
  fact profile "$(cmp -s "$PROFILE" <(registry_access_profile) && echo ok || echo differs)"
  # pam_env reads /etc/environment for every session, including `ssh host command`.
  fact environment "$( [ "$(grep -c '^REGISTRY_HOST=' /etc/environment 2>/dev/null)" = 1 ] \
    && grep -qxF "REGISTRY_HOST=$REGISTRY_HOST" /etc/environment && echo ok || echo differs)"
  local registry trust=ok
  for registry in $REGISTRIES; do
    cmp -s "/etc/docker/certs.d/$registry/ca.crt" <(echo "$CA_CERT_B64" | base64 -d) || trust=differs
  done
  fact trust "$trust"
  fact login "$(cmp -s "$REGISTRY_LOGIN" <(echo "$LOGIN_JSON_B64" | base64 -d) && [ "$(stat -c %a:%U "$REGISTRY_LOGIN")" = 600:root ] \
    && cmp -s "$CREDENTIAL_HELPER" <(registry_access_helper) && echo ok || echo differs)"
  fact root_config "$(file_b64 /root/.docker/config.json)"
  local user
  user=$(registry_access_user)
  fact user "$user"
  fact user_config "$(if [ -n "$user" ]; then file_b64 "$(registry_access_user_config "$user")"; else echo absent; fi)"
}

registry_access_apply() {
  set -euo pipefail
  registry_access_profile | write_file "$PROFILE" 644
  { grep -v '^REGISTRY_HOST=' /etc/environment 2>/dev/null || true; echo "REGISTRY_HOST=$REGISTRY_HOST"; } \
    | write_file /etc/environment 644
  if [ "${DO_TRUST:-}" = 1 ]; then
    local registry
    for registry in $REGISTRIES; do
      echo "$CA_CERT_B64" | base64 -d | write_file "/etc/docker/certs.d/$registry/ca.crt" 644
    done
  fi
  if [ "${DO_LOGIN:-}" = 1 ]; then
    install -d -m 755 /etc/pcc
    echo "$LOGIN_JSON_B64" | base64 -d | write_file "$REGISTRY_LOGIN" 600
    registry_access_helper | write_file "$CREDENTIAL_HELPER" 755
  fi
  registry_access_write_configs
  registry_access_verify
}

# Root's and the login user's ~/.docker/config.json as pcc merged them (ROOT_CONFIG_B64, USER_CONFIG_B64;
# empty: unchanged; `delete`: pcc's entries were all there was, so the file goes).
registry_access_write_configs() {
  case "${ROOT_CONFIG_B64:-}" in
    '') ;;
    delete) rm -f /root/.docker/config.json; rmdir --ignore-fail-on-non-empty /root/.docker 2>/dev/null || true ;;
    *)
      [ -d /root/.docker ] || install -d -m 700 /root/.docker
      echo "$ROOT_CONFIG_B64" | base64 -d | write_file /root/.docker/config.json 600 ;;
  esac
  if [ -n "${USER_CONFIG_B64:-}" ]; then
    local user config
    user=$(registry_access_user)
    config=$(registry_access_user_config "$user")
    if [ "$USER_CONFIG_B64" = delete ]; then
      rm -f "$config"
      rmdir --ignore-fail-on-non-empty "$(dirname "$config")" 2>/dev/null || true
      return
    fi
    [ -d "$(dirname "$config")" ] || install -d -m 700 -o "$user" -g "$(id -g "$user")" "$(dirname "$config")"
    echo "$USER_CONFIG_B64" | base64 -d | write_file "$config" 600
    chown "$user:$(id -g "$user")" "$config"
  fi
}

# Everything registry-access wrote; the Docker configs are written back without pcc's credHelpers entries.
registry_access_remove() {
  set -euo pipefail
  rm -f "$PROFILE" "$REGISTRY_LOGIN" "$CREDENTIAL_HELPER"
  if grep -q '^REGISTRY_HOST=' /etc/environment 2>/dev/null; then
    { grep -v '^REGISTRY_HOST=' /etc/environment || true; } | write_file /etc/environment 644
  fi
  local registry
  for registry in $REGISTRIES; do rm -rf "/etc/docker/certs.d/$registry"; done
  [ ! -d /etc/docker/certs.d ] || rmdir --ignore-fail-on-non-empty /etc/docker/certs.d
  registry_access_write_configs
  ! grep -q '^REGISTRY_HOST=' /etc/environment 2>/dev/null || fail "/etc/environment still sets REGISTRY_HOST"
}

registry_access_verify() {
  local seen
  seen=$(bash -lc 'echo "$REGISTRY_HOST"')
  [ "$seen" = "$REGISTRY_HOST" ] || fail "a login shell sees REGISTRY_HOST='$seen', expected '$REGISTRY_HOST'"
  [ "$(stat -c %a:%U "$REGISTRY_LOGIN")" = 600:root ] || fail "$REGISTRY_LOGIN is not root's alone"
  echo "$REGISTRY_HOST" | "$CREDENTIAL_HELPER" get | grep -q '"Secret"' || fail "$CREDENTIAL_HELPER gives no login"
}
