# Overlay driver weave: for projects that run Weave Net (a maintained fork's `weave` script must be
# installed on the host; pcc does not download it).
# Inputs (environment): WEAVE_NICKNAME, WEAVE_PASSWORD (secret; passed by environment, never argv),
# CONTAINER_RANGE, OVERLAY_ADDRESS_CIDR, WEAVE_TARGETS (comma list of peer addresses).

weave_targets_now() { weave status targets 2>/dev/null | sort | paste -sd, -; }

weave_inspect() {
  os_fact
  fact weave "$(command -v weave >/dev/null 2>&1 && echo yes || echo no)"
  fact router "$(docker inspect -f '{{.State.Running}}' weave 2>/dev/null || echo absent)"
  fact exposed "$(ip -4 -o address show dev weave 2>/dev/null | grep -qF " $OVERLAY_ADDRESS_CIDR " && echo yes || echo no)"
  fact targets "$(weave_targets_now)"
  fact peer_name "$(weave status 2>/dev/null | awk '$1 == "Name:" {print $2}')"
  fact underlay "$(underlay_addresses weave)"
}

# Connects to the targets it lacks and forgets the ones that left; the others' connections stay up.
weave_peers() {
  set -euo pipefail
  local now target changed=unchanged
  now=",$(weave_targets_now),"
  for target in ${WEAVE_TARGETS//,/ }; do
    case "$now" in *",$target,"*) ;; *) weave connect "$target"; changed=changed ;; esac
  done
  for target in ${now//,/ }; do
    case ",$WEAVE_TARGETS," in *",$target,"*) ;; *) weave forget "$target"; changed=changed ;; esac
  done
  echo "$changed"
}

weave_apply() {
  set -euo pipefail
  if [ "${DO_LAUNCH:-}" = 1 ]; then
    # shellcheck disable=SC2086 # one argument per peer address
    WEAVE_PASSWORD="$WEAVE_PASSWORD" weave launch --nickname "$WEAVE_NICKNAME" --ipalloc-range "$CONTAINER_RANGE" ${WEAVE_TARGETS//,/ }
  fi
  [ "${DO_EXPOSE:-}" = 1 ] && weave expose "$OVERLAY_ADDRESS_CIDR" >/dev/null
  weave_peers >/dev/null
  weave_verify
}

weave_verify() {
  [ "$(docker inspect -f '{{.State.Running}}' weave 2>/dev/null)" = true ] || fail "the weave router is not running"
  ip -4 -o address show dev weave | grep -qF " $OVERLAY_ADDRESS_CIDR " || fail "weave did not expose $OVERLAY_ADDRESS_CIDR"
}

weave_status() {
  echo '::peers'
  weave status peers
  echo '::connections'
  weave status connections
}
