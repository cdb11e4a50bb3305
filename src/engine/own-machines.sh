# The user's own machines (pcc add ssh, pcc remove): pcc's key in the login user's authorized_keys.
# Runs as that user. Every other byte of the file stays as it was.

AUTHORIZED_KEYS="$HOME/.ssh/authorized_keys"

# Appends KEY unless the file has it already; a last line without its newline gets one first.
authorized_keys_add() {
  set -euo pipefail
  local key=$1
  umask 077
  mkdir -p "$HOME/.ssh"
  touch "$AUTHORIZED_KEYS"
  grep -qxF -- "$key" "$AUTHORIZED_KEYS" && return 0
  if [ -s "$AUTHORIZED_KEYS" ] && [ -n "$(tail -c1 "$AUTHORIZED_KEYS")" ]; then printf '\n' >> "$AUTHORIZED_KEYS"; fi
  printf '%s\n' "$key" >> "$AUTHORIZED_KEYS"
}

# Deletes the lines that are exactly KEY, by number: sed keeps every other byte (and a link stays a link).
authorized_keys_remove() {
  set -euo pipefail
  local key=$1 lines
  [ -f "$AUTHORIZED_KEYS" ] || return 0
  lines=$(grep -nxF -- "$key" "$AUTHORIZED_KEYS" | cut -d: -f1 | sort -rn | sed 's/$/d/' | paste -sd';' || true)
  [ -z "$lines" ] || sed -i --follow-symlinks "$lines" "$AUTHORIZED_KEYS"
  ! grep -qxF -- "$key" "$AUTHORIZED_KEYS" || { echo "pcc-fail: pcc's key is still in $AUTHORIZED_KEYS" >&2; exit 1; }
}

# pcc's folders, once the steps' removals have emptied them (as root). A folder with anything else in it stays.
pcc_folders_remove() {
  local dir
  for dir in /etc/pcc /usr/local/lib/pcc /var/lib/pcc /run/pcc; do
    [ ! -d "$dir" ] || rmdir --ignore-fail-on-non-empty "$dir"
  done
}
