#!/usr/bin/env bash
# Page speed as a ratio: requests per second of `GET /` (the portal home page, rendered
# for an anonymous visitor) against `GET /healthz` (a bare route), each measured with wrk
# on a release build with a fresh SQLite database. Not part of the test suite.
#
#   bash scripts/bench-pages.sh [DURATION_SECONDS] [CONNECTIONS]
#
# Needs wrk (Debian package `wrk`). Uses CARGO_TARGET_DIR if set.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
connections="${2:-64}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

cargo build --release -p greenbridge -q
binary="${CARGO_TARGET_DIR:-target}/release/greenbridge"
data="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
RUST_LOG=warn "$binary" serve --data "$data" --addr "127.0.0.1:$port" --demo >"$data/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done

rps() {
    wrk -t2 -c"$connections" -d"${duration}s" --latency "http://127.0.0.1:$port$1" >"$data/wrk.txt"
    cat "$data/wrk.txt" >&2
    awk '/Requests\/sec/ { print $2 }' "$data/wrk.txt"
}
echo "== warm-up" >&2
wrk -t2 -c"$connections" -d2s "http://127.0.0.1:$port/" >/dev/null
echo "== GET /healthz" >&2
bare=$(rps /healthz)
echo "== GET /" >&2
home=$(rps /)
echo "== GET /healthz again" >&2
bare_again=$(rps /healthz)
python3 - "$bare" "$home" "$bare_again" <<'PY'
import sys
bare, home, again = map(float, sys.argv[1:])
reference = (bare + again) / 2
print(f"GET /healthz: {bare:.0f} and {again:.0f} req/s; GET /: {home:.0f} req/s; "
      f"ratio / : /healthz = {home / reference:.2f}")
PY
