# Shared steps of pcc's quick-start and test scripts (sourced). Each step is safe to run twice.

say() { echo "==> $*" >&2; }

require_node() {
  if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
    echo "pcc needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
    echo "Install it from your distribution (Debian 13 / Ubuntu 24.04: apt-get install nodejs npm) or nodejs.org." >&2
    exit 1
  fi
}

# npm ci only when package-lock.json changed since the last install.
install_node_modules() {
  local stamp=node_modules/.pcc-lock-hash hash
  hash=$(sha256sum package-lock.json | cut -c1-64)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then say "node modules up to date"; return; fi
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$hash" > "$stamp"
}

build() {
  say "building pcc (tsc)"
  npm run -s build >&2
}

# Starts (or reuses) the local fleet and exports its settings into this shell.
fleet_up() {
  local settings
  settings=$(bash test/fleet/fleet-up.sh)
  while IFS='=' read -r key value; do
    [ -n "$key" ] && export "$key=$value"
  done <<< "$settings"
}
