# Setup step registry-access: $REGISTRY_HOST exported for login shells and SSH sessions.
# Inputs (environment): REGISTRY_HOST.

PROFILE=/etc/profile.d/pcc.sh

registry_access_profile() {
  printf '%s\n' '# Written by pcc: the project registry, as in `docker pull $REGISTRY_HOST/name`.' \
    "export REGISTRY_HOST=$REGISTRY_HOST"
}

registry_access_inspect() {
  os_fact
  fact profile "$(cmp -s "$PROFILE" <(registry_access_profile) && echo ok || echo differs)"
  # pam_env reads /etc/environment for every session, including `ssh host command`.
  fact environment "$( [ "$(grep -c '^REGISTRY_HOST=' /etc/environment 2>/dev/null)" = 1 ] \
    && grep -qxF "REGISTRY_HOST=$REGISTRY_HOST" /etc/environment && echo ok || echo differs)"
}

registry_access_apply() {
  set -euo pipefail
  registry_access_profile | write_file "$PROFILE" 644
  { grep -v '^REGISTRY_HOST=' /etc/environment 2>/dev/null || true; echo "REGISTRY_HOST=$REGISTRY_HOST"; } \
    | write_file /etc/environment 644
  registry_access_verify
}

registry_access_verify() {
  local seen
  seen=$(bash -lc 'echo "$REGISTRY_HOST"')
  [ "$seen" = "$REGISTRY_HOST" ] || fail "a login shell sees REGISTRY_HOST='$seen', expected '$REGISTRY_HOST'"
}
