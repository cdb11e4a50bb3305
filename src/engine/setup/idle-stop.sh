# Setup step idle-stop: the host powers itself off when nothing has used it for IDLE_MINUTES, decided
# on the host by a systemd timer, so it works while pcc and init are off.
# Inputs (environment): IDLE_MINUTES (empty: off), GPU_PERCENT, MINUTE_SECONDS.

IDLE_CHECKER=/usr/local/lib/pcc/idle-stop
IDLE_SETTINGS=/etc/pcc/idle-stop.env
IDLE_SERVICE=/etc/systemd/system/pcc-idle-stop.service
IDLE_TIMER=/etc/systemd/system/pcc-idle-stop.timer
IDLE_FILES=("$IDLE_CHECKER=755=idle_stop_checker" "$IDLE_SETTINGS=644=idle_stop_settings" "$IDLE_SERVICE=644=idle_stop_service" "$IDLE_TIMER=644=idle_stop_timer")

# The check the timer runs each minute. Busy: an SSH session, a running container that is not pcc's
# own (its registry, weave), or a GPU above GPU_PERCENT. The clock starts at boot and restarts at
# every busy check; after IDLE_MINUTES idle ones the reason is written where pcc reads it (a file,
# and the console, which EC2 keeps) and the host powers off.
idle_stop_checker() {
  cat <<'CHECKER'
#!/bin/bash
# Written by pcc: powers this host off when it has been idle (run by pcc-idle-stop.timer).
set -euo pipefail
. /etc/pcc/idle-stop.env
since_file=/run/pcc/idle-since
now=$(date +%s)
if [ ! -f "$since_file" ]; then
  # The first check since boot: an earlier stop's reason is history now.
  mkdir -p /run/pcc && rm -f /var/lib/pcc/last-stop && echo "$now" > "$since_file" && exit 0
fi
busy=""
# sshd names a session's process `sshd: USER@pts/0` (`sshd-session:` from OpenSSH 9.8); read from /proc, needing no procps.
if cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' '\n' | grep -Eq '^sshd(-session)?: [^ ]+@'; then busy="an SSH session"; fi
if [ -z "$busy" ] && command -v docker >/dev/null \
  && docker ps --filter status=running --format '{{.Names}}' 2>/dev/null | grep -Evq '^(pcc-|weave)|^$'; then
  busy="a running container"
fi
if [ -z "$busy" ] && command -v nvidia-smi >/dev/null; then
  gpu=$(nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits 2>/dev/null | sort -n | tail -1 | tr -dc 0-9)
  if [ "${gpu:-0}" -gt "$GPU_PERCENT" ]; then busy="a GPU at $gpu%"; fi
fi
if [ -n "$busy" ]; then echo "$now" > "$since_file"; exit 0; fi
if (( now - $(cat "$since_file") >= IDLE_MINUTES * MINUTE_SECONDS )); then
  at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  mkdir -p /var/lib/pcc
  echo "pcc-stop: idle $IDLE_MINUTES min at $at" > /var/lib/pcc/last-stop
  echo "pcc-stop: idle $IDLE_MINUTES min at $at" > /dev/console 2>/dev/null || true
  systemctl poweroff
fi
CHECKER
}

idle_stop_settings() {
  printf '%s\n' '# Written by pcc: idle stop (IDLE_STOP_* in config/hosts/).' \
    "IDLE_MINUTES=$IDLE_MINUTES" "GPU_PERCENT=$GPU_PERCENT" "MINUTE_SECONDS=$MINUTE_SECONDS"
}

idle_stop_service() {
  printf '%s\n' '# Written by pcc: one idle check.' '[Unit]' 'Description=pcc idle stop check' \
    '[Service]' 'Type=oneshot' "ExecStart=$IDLE_CHECKER"
}

idle_stop_timer() {
  printf '%s\n' '# Written by pcc: the idle check, every minute from boot.' '[Unit]' 'Description=pcc idle stop' \
    '[Timer]' "OnBootSec=${MINUTE_SECONDS}s" "OnUnitActiveSec=${MINUTE_SECONDS}s" 'AccuracySec=1s' \
    '[Install]' 'WantedBy=timers.target'
}

idle_stop_inspect() {
  os_fact
  fact files "$(unit_files_state "$IDLE_MINUTES" "${IDLE_FILES[@]}")"
  fact timer "$(unit_state pcc-idle-stop.timer)"
}

idle_stop_apply() {
  set -euo pipefail
  if [ -z "$IDLE_MINUTES" ]; then idle_stop_remove; return; fi
  unit_install pcc-idle-stop.timer "${IDLE_FILES[@]}"
  idle_stop_verify
}

idle_stop_verify() {
  systemctl is-active -q pcc-idle-stop.timer || fail "pcc-idle-stop.timer is not active"
  bash -n "$IDLE_CHECKER" || fail "$IDLE_CHECKER is not valid bash"
}

idle_stop_remove() {
  set -euo pipefail
  unit_remove pcc-idle-stop.timer "${IDLE_FILES[@]}"
  rm -f /var/lib/pcc/last-stop /run/pcc/idle-since
}
