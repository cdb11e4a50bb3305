#!/usr/bin/env bash
# A stand-in for Weave Net's `weave` script on fleet machines (Weave itself cannot run on Docker >= 26):
# it keeps what the real one keeps — a router container named weave, the weave interface with the
# exposed address, the connection targets — and prints `weave status` in Weave's documented format.
# Peers' nicknames come from $state/names ("ADDRESS NAME" lines), which the test writes.
# Every call is logged to /var/log/fake-weave.log with its arguments and whether WEAVE_PASSWORD was
# in its environment (never its value).
set -euo pipefail
state=/var/lib/fake-weave
mkdir -p "$state"
touch "$state/targets"
echo "$* password=${WEAVE_PASSWORD:+set}" >> /var/log/fake-weave.log
nickname() { cat "$state/nickname" 2>/dev/null || hostname; }
mac() { printf '5a:00:00:00:00:%02x' "$(( $(cksum <<< "$1" | cut -d' ' -f1) % 256 ))"; }
# The nickname of the peer at an address, from the test's list of its machines (as Weave learns it).
name_of() { awk -v ip="$1" '$1 == ip {print $2}' "$state/names" 2>/dev/null | grep . || echo "peer-$1"; }
add_target() { grep -qxF "$1" "$state/targets" || echo "$1" >> "$state/targets"; }
# A connection is established only while this router runs and the peer's machine answers (its sshd
# stands in for its router's port); otherwise Weave keeps retrying it, and says so.
reachable() { docker inspect -f '{{.State.Running}}' weave 2>/dev/null | grep -qx true && timeout 2 bash -c "</dev/tcp/$1/22" 2>/dev/null; }

case "${1:-} ${2:-}" in
  "launch "*)
    shift
    while [ $# -gt 0 ]; do
      case "$1" in
        --nickname) echo "$2" > "$state/nickname"; shift 2 ;;
        --ipalloc-range) shift 2 ;;
        *) add_target "$1"; shift ;;
      esac
    done
    # The router: a container that runs, made from this machine's own sleep.
    if ! docker image inspect fake-weave >/dev/null 2>&1; then
      # shellcheck disable=SC2046 # one path per file
      tar -ch $(ldd /usr/bin/sleep | grep -o '/[^ ]*') /usr/bin/sleep 2>/dev/null | docker import - fake-weave >/dev/null
    fi
    docker rm -f weave >/dev/null 2>&1 || true
    docker run -d --name weave --restart always fake-weave /usr/bin/sleep infinity >/dev/null
    ;;
  "expose "*)
    ip link show weave >/dev/null 2>&1 || ip link add weave type bridge
    ip link set weave up
    ip -4 address show dev weave | grep -qF " $2 " || ip address add "$2" dev weave
    ;;
  "connect "*) add_target "$2" ;;
  "forget "*) grep -vxF "$2" "$state/targets" > "$state/targets.new" || true; mv "$state/targets.new" "$state/targets" ;;
  "status targets") cat "$state/targets" ;;
  "status peers")
    echo "$(mac "$(nickname)")($(nickname))"
    while read -r target; do
      [ -n "$target" ] && reachable "$target" && echo "   -> $target:6783    $(mac "$(name_of "$target")")($(name_of "$target"))        established"
    done < "$state/targets"
    ;;
  "status connections")
    while read -r target; do
      [ -z "$target" ] && continue
      if reachable "$target"; then
        echo "-> $target:6783    established encrypted   fastdp $(mac "$(name_of "$target")")($(name_of "$target")) encrypted=true mtu=1376"
      else
        echo "-> $target:6783    retrying    dial tcp4 $target:6783: connect: no route to host, retry: $(date -u -d '+30 sec' '+%F %T')"
      fi
    done < "$state/targets"
    ;;
  "status "*|"status")
    echo "        Version: 2.8.1 (stand-in)"
    echo "        Service: router"
    echo "       Protocol: weave 1..2"
    echo "           Name: $(mac "$(nickname)")($(nickname))"
    ;;
  *) echo "fake weave: unsupported: $*" >&2; exit 2 ;;
esac
