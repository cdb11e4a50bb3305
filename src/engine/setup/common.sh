# Helpers shared by every setup step's host script. pcc sends this file, then the step's own file,
# then one call of a step function, to `sudo bash -s` on the host.

# One fact for pcc's planner: key=value on one line.
fact() { printf '%s=%s\n' "$1" "$2"; }

# Stops the step with a message pcc shows as the failure reason.
fail() { echo "pcc-fail: $*" >&2; exit 1; }

# wait_for SECONDS COMMAND...: true once COMMAND succeeds within SECONDS. A deadline rather than a count of
# tries: under software emulation (TCG) services take several times longer to come up.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

have() { command -v "$1" >/dev/null 2>&1; }

# Whether a filesystem (of one of the types given, or any) is mounted at DIR, from the mount table
# alone: looking at DIR itself fails once an NFS mount there is stale.
mounted_at() {
  awk -v dir="$1" -v types="${2:-}" '$2 == dir && (types == "" || index("," types ",", "," $3 ",")) { found = 1 } END { exit !found }' /proc/self/mounts
}

# apt-get install that refreshes the package lists once when a package is not found.
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "$@"; }
}

# Debian, Ubuntu and their derivatives (apt) are supported; anything else is named and refused.
os_fact() {
  local id="" like="" pretty="unknown"
  if [ -r /etc/os-release ]; then . /etc/os-release; id=${ID:-}; like=${ID_LIKE:-}; pretty=${PRETTY_NAME:-$id}; fi
  case " $id $like " in
    *" debian "*|*" ubuntu "*) fact os "$id" ;;
    *) fact os "unsupported:$pretty" ;;
  esac
}

# Writes stdin to a file in one step (temporary file + rename), with the given mode.
write_file() {
  local file=$1 mode=$2 tmp
  mkdir -p "$(dirname "$file")"
  tmp=$(mktemp "$file.pcc.XXXXXX")
  cat > "$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$file"
}

# A step's own files for a systemd unit are given as PATH=MODE=WRITER, WRITER being the function that
# prints the file. Their state: absent (none there), ok (each as its writer prints it, and WANTED is
# not empty), or differs.
unit_files_state() {
  local wanted=$1 spec file mode writer any=no same=yes
  shift
  for spec in "$@"; do
    IFS='=' read -r file mode writer <<<"$spec"
    [ ! -e "$file" ] || any=yes
    cmp -s "$file" <("$writer") || same=no
  done
  if [ "$any" = no ]; then echo absent; elif [ -n "$wanted" ] && [ "$same" = yes ]; then echo ok; else echo differs; fi
}

# Whether UNIT runs and starts at boot, as active/enabled.
unit_state() { echo "$(systemctl is-active "$1" 2>/dev/null || true)/$(systemctl is-enabled "$1" 2>/dev/null || true)"; }

# Writes the files (PATH=MODE=WRITER), then enables UNIT and restarts it, so new settings take at once.
unit_install() {
  local unit=$1 spec file mode writer
  shift
  for spec in "$@"; do
    IFS='=' read -r file mode writer <<<"$spec"
    "$writer" | write_file "$file" "$mode"
  done
  systemctl daemon-reload
  systemctl enable -q "$unit"
  systemctl restart "$unit"
}

# Stops and disables UNIT and removes its files (PATH=MODE=WRITER).
unit_remove() {
  local unit=$1 spec
  shift
  systemctl disable --now "$unit" >/dev/null 2>&1 || true
  for spec in "$@"; do rm -f "${spec%%=*}"; done
  systemctl daemon-reload
  for spec in "$@"; do [ ! -e "${spec%%=*}" ] || fail "${spec%%=*} is still there"; done
}

# base64 of a file on one line, or "absent".
file_b64() { if [ -f "$1" ]; then base64 -w0 < "$1"; else echo absent; fi; }

# This host's own IPv4 addresses as a comma list, where overlay peers can reach it: every global
# address except on Docker's interfaces and on the overlay's own, named as arguments.
underlay_addresses() {
  local skip
  # docker_gwbridge: Swarm's bridge for its overlay networks' containers.
  skip=$(printf '%s|' "$@" docker0 docker_gwbridge 'br-[0-9a-f]+' 'veth[0-9a-f]+')
  ip -4 -o address show scope global 2>/dev/null | awk '{print $2, $4}' \
    | grep -Ev "^(${skip%|}) " | awk '{sub("/.*", "", $2); print $2}' | paste -sd, -
}
