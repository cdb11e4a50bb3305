# Setup step swarm: Docker Swarm mode follows the fleet. init is the manager, compute hosts are workers;
# every node listens, advertises and carries its containers' traffic on its overlay address, and a
# firewall chain keeps Swarm's ports to the overlay interface. GPU hosts advertise their GPUs.
# Inputs (environment): SWARM_ROLE (manager or worker), SWARM_ADDRESS (this host's overlay address),
# SWARM_MANAGER (the manager's overlay address), SWARM_NETWORK, SWARM_MTU, OVERLAY_IF; for apply
# SWARM_TOKEN (workers), DAEMON_JSON_B64, DO_FIREWALL, DO_LEAVE, DO_JOIN, DO_NETWORK, DO_GPU_RUNTIME.

SWARM_FIREWALL=/usr/local/lib/pcc/swarm-firewall
SWARM_UNIT=/etc/systemd/system/pcc-swarm-firewall.service
SWARM_FILES=("$SWARM_FIREWALL=755=swarm_firewall_script" "$SWARM_UNIT=644=swarm_firewall_unit")
NVIDIA_RUNTIME_CONFIG=/etc/nvidia-container-runtime/config.toml
# Docker hands a task its GPUs as DOCKER_RESOURCE_<KIND>; the NVIDIA runtime reads that variable.
SWARM_GPU_RESOURCE='swarm-resource = "DOCKER_RESOURCE_NVIDIA-GPU"'

# Swarm's ports (2377 and 7946 TCP, 7946 and 4789 UDP) answer on the overlay interface and loopback
# only. Docker binds 2377 and 7946 to the overlay address already; VXLAN's 4789 listens everywhere.
swarm_firewall_script() {
  cat <<SCRIPT
#!/bin/sh
# Written by pcc: Docker Swarm's ports are reachable over the overlay only (run by pcc-swarm-firewall.service).
set -e
iptables -w -N PCC-SWARM 2>/dev/null || iptables -w -F PCC-SWARM
iptables -w -A PCC-SWARM -i $OVERLAY_IF -j RETURN
iptables -w -A PCC-SWARM -i lo -j RETURN
iptables -w -A PCC-SWARM -p tcp --dport 2377 -j DROP
iptables -w -A PCC-SWARM -p tcp --dport 7946 -j DROP
iptables -w -A PCC-SWARM -p udp --dport 7946 -j DROP
iptables -w -A PCC-SWARM -p udp --dport 4789 -j DROP
iptables -w -C INPUT -j PCC-SWARM 2>/dev/null || iptables -w -I INPUT 1 -j PCC-SWARM
SCRIPT
}

swarm_firewall_unit() {
  printf '%s\n' '# Written by pcc: Swarm ports on the overlay only, from boot.' '[Unit]' \
    'Description=pcc Docker Swarm firewall' 'Before=docker.service' 'After=network-pre.target' '' \
    '[Service]' 'Type=oneshot' 'RemainAfterExit=yes' "ExecStart=$SWARM_FIREWALL" \
    'ExecStop=/bin/sh -c "iptables -w -D INPUT -j PCC-SWARM; iptables -w -F PCC-SWARM; iptables -w -X PCC-SWARM"' '' \
    '[Install]' 'WantedBy=multi-user.target'
}

swarm_firewall_fact() {
  local files
  files=$(unit_files_state yes "${SWARM_FILES[@]}")
  if [ "$files" = ok ] && [ "$(unit_state pcc-swarm-firewall.service)" = active/enabled ] \
    && iptables -w -C INPUT -j PCC-SWARM 2>/dev/null && iptables -w -C PCC-SWARM -p udp --dport 4789 -j DROP 2>/dev/null; then
    echo ok
  else
    echo "$files"
  fi
}

swarm_inspect() {
  os_fact
  have docker || { fact docker missing; return 0; }
  fact docker ok
  local info
  info=$(docker info --format '{{.Swarm.LocalNodeState}}|{{.Swarm.NodeID}}|{{.Swarm.NodeAddr}}|{{.Swarm.ControlAvailable}}|{{range .Swarm.RemoteManagers}}{{.Addr}},{{end}}' 2>/dev/null || echo 'unreadable||||')
  IFS='|' read -r state node addr control managers <<<"$info"
  fact swarm_state "$state"
  fact node_id "$node"
  fact node_addr "$addr"
  fact control "$control"
  fact remote_managers "${managers%,}"
  if [ "$control" = true ]; then
    fact cluster_id "$(docker info --format '{{.Swarm.Cluster.ID}}' 2>/dev/null)"
    fact worker_token "$(docker swarm join-token -q worker 2>/dev/null)"
    fact network "$(docker network inspect "$SWARM_NETWORK" --format '{{.Driver}} {{index .Options "com.docker.network.driver.mtu"}} {{.Attachable}}' 2>/dev/null || echo absent)"
  fi
  fact firewall "$(swarm_firewall_fact)"
  fact mountpoint "$({ [ -d /project ] || mounted_at /project; } && echo ok || echo missing)"
  fact gpu_uuids "$(have nvidia-smi && nvidia-smi --query-gpu=uuid --format=csv,noheader 2>/dev/null | tr -d ' ' | tr '\n' ' ' | sed 's/ $//')"
  fact nvidia_runtime "$(have nvidia-container-runtime && echo ok || echo missing)"
  fact gpu_resource "$(grep -qxF "$SWARM_GPU_RESOURCE" "$NVIDIA_RUNTIME_CONFIG" 2>/dev/null && echo ok || echo missing)"
  fact daemon_json "$(file_b64 /etc/docker/daemon.json)"
}

swarm_apply() {
  set -euo pipefail
  if [ "${DO_FIREWALL:-}" = 1 ]; then unit_install pcc-swarm-firewall.service "${SWARM_FILES[@]}"; fi
  # Runs bind-mount /project, and Swarm rejects a task whose bind source is missing.
  if [ "${DO_MOUNTPOINT:-}" = 1 ]; then mkdir -p /project; fi
  if [ "${DO_GPU_RUNTIME:-}" = 1 ]; then
    mkdir -p "$(dirname "$NVIDIA_RUNTIME_CONFIG")"
    if grep -q '^#\? *swarm-resource' "$NVIDIA_RUNTIME_CONFIG" 2>/dev/null; then
      sed -i "s|^#\? *swarm-resource.*|$SWARM_GPU_RESOURCE|" "$NVIDIA_RUNTIME_CONFIG"
    else
      # A top-level TOML key goes before the first table.
      { echo "$SWARM_GPU_RESOURCE"; cat "$NVIDIA_RUNTIME_CONFIG" 2>/dev/null || true; } | write_file "$NVIDIA_RUNTIME_CONFIG" 644
    fi
  fi
  if [ -n "${DAEMON_JSON_B64:-}" ]; then
    echo "$DAEMON_JSON_B64" | base64 -d | write_file /etc/docker/daemon.json 644
    systemctl restart docker.service
    swarm_wait_for_docker
    # A member reconnects by itself (the overlay restarts with Docker).
    if [ "${DO_JOIN:-}" != 1 ]; then swarm_wait_active; fi
  fi
  if [ "${DO_WAIT:-}" = 1 ]; then swarm_wait_active; fi
  if [ "${DO_LEAVE:-}" = 1 ]; then docker swarm leave --force >/dev/null 2>&1 || true; fi
  if [ "${DO_JOIN:-}" = 1 ]; then
    local out
    if [ "$SWARM_ROLE" = manager ]; then
      out=$(docker swarm init --advertise-addr "$SWARM_ADDRESS" --listen-addr "$SWARM_ADDRESS:2377" --data-path-addr "$SWARM_ADDRESS" 2>&1) \
        || fail "docker swarm init failed: $(echo "$out" | tail -1)"
    else
      out=$(docker swarm join --token "$SWARM_TOKEN" --advertise-addr "$SWARM_ADDRESS" --listen-addr "$SWARM_ADDRESS:2377" \
        --data-path-addr "$SWARM_ADDRESS" "$SWARM_MANAGER:2377" 2>&1) \
        || fail "joining the swarm at $SWARM_MANAGER:2377 failed: $(echo "$out" | tail -1)"
    fi
  fi
  if [ "${DO_NETWORK:-}" = 1 ]; then
    docker network rm "$SWARM_NETWORK" >/dev/null 2>&1 || true
    docker network create --driver overlay --attachable --opt "com.docker.network.driver.mtu=$SWARM_MTU" "$SWARM_NETWORK" >/dev/null \
      || fail "could not create the swarm network $SWARM_NETWORK (is it still in use by a run?)"
  fi
  swarm_verify
}

swarm_wait_for_docker() {
  local i
  for i in $(seq 1 60); do docker info >/dev/null 2>&1 && return 0; sleep 0.5; done
  fail "Docker did not come back after its restart"
}

# A node that just started reconnects to its manager by itself.
swarm_wait_active() {
  local i
  for i in $(seq 1 120); do
    [ "$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)" = active ] && return 0
    sleep 0.5
  done
  fail "the node did not reconnect to the manager at $SWARM_MANAGER:2377 within a minute (is init running? pcc resume init)"
}

swarm_verify() {
  local state addr
  state=$(docker info --format '{{.Swarm.LocalNodeState}}')
  addr=$(docker info --format '{{.Swarm.NodeAddr}}')
  [ "$state" = active ] || fail "this node's swarm state is $state, not active"
  [ "$addr" = "$SWARM_ADDRESS" ] || fail "this node advertises $addr, not its overlay address $SWARM_ADDRESS"
  if [ "$SWARM_ROLE" = manager ]; then
    [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = true ] || fail "init is not a swarm manager"
    docker network inspect "$SWARM_NETWORK" >/dev/null 2>&1 || fail "the swarm network $SWARM_NETWORK is missing"
  fi
  iptables -w -C INPUT -j PCC-SWARM 2>/dev/null || fail "the PCC-SWARM firewall chain is not in INPUT"
}

# pcc remove: the node leaves the swarm and the firewall goes (docker-engine's removal takes pcc's GPU
# keys out of daemon.json).
swarm_remove() {
  set -euo pipefail
  if have docker && [ "$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)" != inactive ]; then
    docker swarm leave --force >/dev/null 2>&1 || true
  fi
  unit_remove pcc-swarm-firewall.service "${SWARM_FILES[@]}"
  iptables -w -D INPUT -j PCC-SWARM 2>/dev/null || true
  iptables -w -F PCC-SWARM 2>/dev/null || true
  iptables -w -X PCC-SWARM 2>/dev/null || true
  if [ -f "$NVIDIA_RUNTIME_CONFIG" ]; then sed -i "\\|^$SWARM_GPU_RESOURCE\$|d" "$NVIDIA_RUNTIME_CONFIG"; fi
  # The mount point runs needed, unless the share (or anything else) is there.
  if [ -d /project ] && ! mountpoint -q /project; then rmdir /project 2>/dev/null || true; fi
  if have docker && [ "$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)" = active ]; then fail "the node is still in a swarm"; fi
}
