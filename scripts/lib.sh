# Shared steps of pcc's quick-start and test scripts (sourced). Each step is safe to run twice.

say() { echo "==> $*" >&2; }

# Installs the Debian packages named that are not installed yet (apt-get update first).
apt_install() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return
  say "installing ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# Node.js 20 or newer: the distribution's, where it is new enough (Debian 13, Ubuntu 24.10 and later).
require_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then apt_install nodejs npm; fi
  if [ "$(node_major)" -lt 20 ]; then
    echo "pcc needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
    echo "This distribution's nodejs is older: install Node.js 20 or newer from nodejs.org or NodeSource, then run this again." >&2
    exit 1
  fi
}

# Node.js 24 from the npm registry (cached), for the unit tests' run on the newest supported version;
# prints the path of its node binary.
require_node24() {
  local dir="${XDG_CACHE_HOME:-$HOME/.cache}/pcc/node24"
  if [ ! -x "$dir/node_modules/node/bin/node" ]; then
    say "fetching Node.js 24 from the npm registry (cached in $dir)"
    mkdir -p "$dir"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error node@24 >&2)
  fi
  echo "$dir/node_modules/node/bin/node"
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

# Starts (or reuses) the local fleet and exports its settings into this shell; FLEET_SETTINGS holds
# them as KEY=value words, for `pcc settings set`.
FLEET_SETTINGS=()
fleet_up() {
  local settings
  settings=$(bash test/fleet/fleet-up.sh)
  while IFS='=' read -r key value; do
    [ -n "$key" ] || continue
    export "$key=$value"
    FLEET_SETTINGS+=("$key=$value")
  done <<< "$settings"
}
