# Overlay driver wireguard: the host's WireGuard interface, its peers, its containers' network.
# Inputs (environment): OVERLAY_IF, OVERLAY_ADDRESS_CIDR, OVERLAY_SUBNET, CONTAINER_SUBNET,
# CONTAINER_RANGE, OVERLAY_PORT, OVERLAY_MTU, OVERLAY_BRIDGE, OVERLAY_NETWORK, OVERLAY_PEERS
# ([Peer] sections). The private key is made here and never leaves this host: nothing below
# prints it, and the configuration that holds it is only ever a pipe into `wg syncconf`.

WG_DIR=/etc/pcc/overlay
WG_KEY=$WG_DIR/private.key
WG_SETTINGS=$WG_DIR/overlay.env
WG_PEERS=$WG_DIR/peers.conf
WG_UP=/usr/local/lib/pcc/overlay-up
WG_UNIT=/etc/systemd/system/pcc-overlay.service

wireguard_settings() {
  echo '# Written by pcc: this host on the overlay (read by overlay-up).'
  local key
  for key in OVERLAY_IF OVERLAY_ADDRESS_CIDR OVERLAY_SUBNET CONTAINER_SUBNET CONTAINER_RANGE OVERLAY_PORT OVERLAY_MTU OVERLAY_BRIDGE; do
    printf '%s=%s\n' "$key" "${!key}"
  done
}

# Kernel WireGuard where the kernel has it; wireguard-go (userspace) otherwise, e.g. in containers.
wireguard_kernel() {
  if ip link add pcc-wgprobe type wireguard >/dev/null 2>&1; then ip link del pcc-wgprobe; echo yes; else echo no; fi
}

wireguard_unit() {
  printf '%s\n' '# Written by pcc: the overlay interface, brought back at every boot.' '[Unit]' \
    'Description=pcc overlay network (WireGuard)' 'After=network-online.target docker.service' \
    'Wants=network-online.target' \
    '# Docker puts its masquerade back on top when it restarts: the firewall rules follow it.' 'PartOf=docker.service' '' '[Service]'
  if [ "$1" = yes ]; then
    printf '%s\n' 'Type=oneshot' 'RemainAfterExit=yes' "ExecStart=$WG_UP kernel" "ExecStop=/sbin/ip link del $OVERLAY_IF"
  else
    printf '%s\n' 'Type=simple' 'Environment=WG_PROCESS_FOREGROUND=1' "ExecStart=/usr/bin/wireguard-go -f $OVERLAY_IF" \
      "ExecStartPost=$WG_UP userspace" 'Restart=on-failure'
  fi
  printf '%s\n' '' '[Install]' 'WantedBy=multi-user.target'
}

# The interface's whole configuration, for `wg syncconf` only (it holds the private key).
wireguard_conf() {
  printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n\n' "$(cat "$WG_KEY")" "$OVERLAY_PORT"
  cat "$WG_PEERS"
}

# Traffic between containers of different hosts keeps its addresses: a chain that accepts it
# (no NAT) runs first in POSTROUTING, before Docker's masquerade, which Docker puts at the top
# whenever it makes a network. Docker's forward rules let the overlay reach this host's containers.
wireguard_firewall() {
  command -v iptables >/dev/null 2>&1 || return 0
  local destination
  iptables -w -t nat -N PCC-OVERLAY 2>/dev/null || true
  for destination in "$OVERLAY_SUBNET" "$CONTAINER_RANGE"; do
    iptables -w -t nat -C PCC-OVERLAY -s "$CONTAINER_SUBNET" -d "$destination" -j ACCEPT 2>/dev/null \
      || iptables -w -t nat -A PCC-OVERLAY -s "$CONTAINER_SUBNET" -d "$destination" -j ACCEPT
  done
  if ! wireguard_nat_first; then
    iptables -w -t nat -D POSTROUTING -j PCC-OVERLAY 2>/dev/null || true
    iptables -w -t nat -I POSTROUTING 1 -j PCC-OVERLAY
  fi
  iptables -w -N DOCKER-USER 2>/dev/null || true
  iptables -w -C DOCKER-USER -i "$OVERLAY_IF" -o "$OVERLAY_BRIDGE" -j ACCEPT 2>/dev/null \
    || iptables -w -I DOCKER-USER 1 -i "$OVERLAY_IF" -o "$OVERLAY_BRIDGE" -j ACCEPT
}

# Whether the chain comes before Docker's masquerade of this host's containers (other networks'
# rules, such as Swarm's docker_gwbridge, may come first: they never match the overlay's traffic).
wireguard_nat_first() {
  local rules ours theirs
  rules=$(iptables -w -t nat -S POSTROUTING 2>/dev/null)
  ours=$(grep -nxF -- '-A POSTROUTING -j PCC-OVERLAY' <<<"$rules" | head -1 | cut -d: -f1)
  theirs=$(grep -nF -- "-s $CONTAINER_SUBNET " <<<"$rules" | head -1 | cut -d: -f1)
  [ -n "$ours" ] && { [ -z "$theirs" ] || [ "$ours" -lt "$theirs" ]; }
}

wireguard_firewall_fact() {
  command -v iptables >/dev/null 2>&1 || { echo ok; return; }
  wireguard_nat_first \
    && iptables -w -t nat -C PCC-OVERLAY -s "$CONTAINER_SUBNET" -d "$OVERLAY_SUBNET" -j ACCEPT 2>/dev/null \
    && iptables -w -C DOCKER-USER -i "$OVERLAY_IF" -o "$OVERLAY_BRIDGE" -j ACCEPT 2>/dev/null && echo ok || echo differs
}

# Configures the interface from the files above. Safe on a running interface: `wg syncconf` changes
# only what differs, so the tunnels to unchanged peers carry on.
wireguard_up() {
  . "$WG_SETTINGS"
  if [ "${1:-}" = kernel ] && ! ip link show "$OVERLAY_IF" >/dev/null 2>&1; then ip link add "$OVERLAY_IF" type wireguard; fi
  local i
  for i in $(seq 100); do ip link show "$OVERLAY_IF" >/dev/null 2>&1 && break; sleep 0.1; done
  wg syncconf "$OVERLAY_IF" <(wireguard_conf)
  ip address replace "$OVERLAY_ADDRESS_CIDR" dev "$OVERLAY_IF"
  ip link set "$OVERLAY_IF" mtu "$OVERLAY_MTU" up
  ip route replace "$CONTAINER_RANGE" dev "$OVERLAY_IF"
  wireguard_firewall
}

wireguard_up_script() {
  printf '%s\n' '#!/bin/bash' '# Written by pcc: brings up the overlay interface (run by pcc-overlay.service).' 'set -euo pipefail'
  declare -p WG_KEY WG_SETTINGS WG_PEERS | sed 's/^declare -- //'
  declare -f wireguard_conf wireguard_nat_first wireguard_firewall wireguard_up
  echo 'wireguard_up "$@"'
}

wireguard_network() {
  local found
  found=$(docker network inspect "$OVERLAY_NETWORK" \
    -f '{{range .IPAM.Config}}{{.Subnet}}{{end}} {{index .Options "com.docker.network.bridge.name"}} {{index .Options "com.docker.network.driver.mtu"}}' \
    2>/dev/null) && echo "$found" || echo absent
}

wireguard_expected_network() { echo "$CONTAINER_SUBNET $OVERLAY_BRIDGE $OVERLAY_MTU"; }

wireguard_inspect() {
  os_fact
  fact tools "$(command -v wg >/dev/null 2>&1 && echo yes || echo no)"
  fact wireguard_go "$(command -v wireguard-go >/dev/null 2>&1 && echo yes || echo no)"
  local kernel; kernel=$(wireguard_kernel)
  fact kernel "$kernel"
  if [ -s "$WG_KEY" ] && command -v wg >/dev/null 2>&1; then fact public_key "$(wg pubkey < "$WG_KEY")"; else fact public_key absent; fi
  fact settings "$(cmp -s "$WG_SETTINGS" <(wireguard_settings) && echo ok || echo differs)"
  fact peers "$(cmp -s "$WG_PEERS" <(printf '%s' "$OVERLAY_PEERS") && echo ok || echo differs)"
  fact up_script "$(cmp -s "$WG_UP" <(wireguard_up_script) && echo ok || echo differs)"
  fact unit "$(cmp -s "$WG_UNIT" <(wireguard_unit "$kernel") && echo ok || echo differs)"
  fact unit_enabled "$(systemctl is-enabled pcc-overlay.service 2>/dev/null || echo no)"
  fact unit_active "$(systemctl is-active pcc-overlay.service 2>/dev/null || echo no)"
  fact live_address "$(ip -o -4 address show dev "$OVERLAY_IF" 2>/dev/null | awk '{print $4}' | paste -sd, -)"
  fact live_port "$(wg show "$OVERLAY_IF" listen-port 2>/dev/null || echo none)"
  fact live_peers "$(wg show "$OVERLAY_IF" peers 2>/dev/null | sort | paste -sd, -)"
  fact network "$(wireguard_network)"
  fact firewall "$(wireguard_firewall_fact)"
  fact underlay "$(underlay_addresses "$OVERLAY_IF" "$OVERLAY_BRIDGE")"
}

wireguard_apply() {
  set -euo pipefail
  # The docker-engine step runs first; a dry run plans this step before Docker is there.
  docker info >/dev/null 2>&1 || fail "Docker is not running, so the containers' network cannot be made (see the docker-engine step)"
  if [ "${DO_INSTALL:-}" = 1 ]; then
    apt_install wireguard-tools
    [ "$(wireguard_kernel)" = yes ] || apt_install wireguard-go
  fi
  local kernel; kernel=$(wireguard_kernel)
  [ "$kernel" = yes ] || command -v wireguard-go >/dev/null 2>&1 || fail "this kernel has no WireGuard and wireguard-go is not installable"
  mkdir -p "$WG_DIR" "$(dirname "$WG_UP")"
  chmod 700 "$WG_DIR"
  [ -s "$WG_KEY" ] || (umask 077; wg genkey > "$WG_KEY.new" && mv "$WG_KEY.new" "$WG_KEY")
  wireguard_settings | write_file "$WG_SETTINGS" 644
  printf '%s' "$OVERLAY_PEERS" | write_file "$WG_PEERS" 600
  wireguard_up_script | write_file "$WG_UP" 755
  wireguard_unit "$kernel" | write_file "$WG_UNIT" 644
  systemctl daemon-reload
  systemctl enable pcc-overlay.service >/dev/null 2>&1
  if [ "${DO_RESTART:-}" = 1 ]; then
    systemctl restart pcc-overlay.service || { journalctl -u pcc-overlay.service -n 20 --no-pager >&2 || true; fail "pcc-overlay.service did not start"; }
  else
    "$WG_UP"
  fi
  if [ "${DO_NETWORK:-}" = 1 ]; then
    if [ "$(wireguard_network)" != absent ]; then
      local attached; attached=$(docker network inspect "$OVERLAY_NETWORK" -f '{{len .Containers}}')
      [ "$attached" = 0 ] || fail "the Docker network $OVERLAY_NETWORK has $attached container(s) on another subnet; remove them, then run setup again"
      docker network rm "$OVERLAY_NETWORK" >/dev/null
    fi
    docker network create --driver bridge --subnet "$CONTAINER_SUBNET" \
      -o "com.docker.network.bridge.name=$OVERLAY_BRIDGE" -o "com.docker.network.driver.mtu=$OVERLAY_MTU" \
      "$OVERLAY_NETWORK" >/dev/null
    wireguard_firewall
  fi
  wireguard_verify
}

wireguard_verify() {
  systemctl is-active -q pcc-overlay.service || fail "pcc-overlay.service is not running"
  ip -o -4 address show dev "$OVERLAY_IF" | grep -qF " $OVERLAY_ADDRESS_CIDR " || fail "$OVERLAY_IF lacks the address $OVERLAY_ADDRESS_CIDR"
  [ "$(wg show "$OVERLAY_IF" listen-port)" = "$OVERLAY_PORT" ] || fail "$OVERLAY_IF does not listen on UDP $OVERLAY_PORT"
  local want have
  want=$(printf '%s' "$OVERLAY_PEERS" | grep -c '^PublicKey' || true)
  have=$(wg show "$OVERLAY_IF" peers | grep -c . || true)
  [ "$want" = "$have" ] || fail "$OVERLAY_IF has $have peer(s), expected $want"
  [ "$(wireguard_network)" = "$(wireguard_expected_network)" ] || fail "the Docker network $OVERLAY_NETWORK is not on $CONTAINER_SUBNET"
}

# The interface, its unit and files, the containers' network and the firewall rules; a network that
# still has containers on it is the user's work: it is refused, never cut.
wireguard_remove() {
  set -euo pipefail
  if command -v docker >/dev/null 2>&1 && docker network inspect "$OVERLAY_NETWORK" >/dev/null 2>&1; then
    local attached; attached=$(docker network inspect "$OVERLAY_NETWORK" -f '{{range .Containers}}{{.Name}} {{end}}')
    [ -z "$attached" ] || fail "containers are still on the overlay network $OVERLAY_NETWORK: ${attached% }; stop them, then run this again"
    docker network rm "$OVERLAY_NETWORK" >/dev/null
  fi
  systemctl disable --now pcc-overlay.service >/dev/null 2>&1 || true
  ip link del "$OVERLAY_IF" 2>/dev/null || true
  if command -v iptables >/dev/null 2>&1; then
    while iptables -w -t nat -D POSTROUTING -j PCC-OVERLAY 2>/dev/null; do :; done
    iptables -w -t nat -F PCC-OVERLAY 2>/dev/null || true
    iptables -w -t nat -X PCC-OVERLAY 2>/dev/null || true
    while iptables -w -D DOCKER-USER -i "$OVERLAY_IF" -o "$OVERLAY_BRIDGE" -j ACCEPT 2>/dev/null; do :; done
  fi
  rm -rf "$WG_DIR"
  rm -f "$WG_UP" "$WG_UNIT"
  systemctl daemon-reload
  ! ip link show "$OVERLAY_IF" >/dev/null 2>&1 || fail "$OVERLAY_IF is still there"
}

# A member's peers changed (a host joined or left): rewrite them and apply the difference live.
wireguard_peers() {
  set -euo pipefail
  if cmp -s "$WG_PEERS" <(printf '%s' "$OVERLAY_PEERS"); then echo unchanged; return; fi
  printf '%s' "$OVERLAY_PEERS" | write_file "$WG_PEERS" 600
  if ip link show "$OVERLAY_IF" >/dev/null 2>&1; then
    . "$WG_SETTINGS"
    wg syncconf "$OVERLAY_IF" <(wireguard_conf)
  fi
  echo changed
}

# Peer status: the host's clock and `wg show dump` without its first line (which holds the private key).
wireguard_status() {
  fact now "$(date +%s)"
  if ! ip link show "$OVERLAY_IF" >/dev/null 2>&1; then fact interface absent; return; fi
  fact interface up
  echo '::dump'
  wg show "$OVERLAY_IF" dump | tail -n +2
}
