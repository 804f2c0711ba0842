# Sourced by the upload benchmarks (bench-upload.sh, bench-courses.sh): one way to build
# the release binary, start it on a temporary SQLite data directory with an admin, log
# that admin in (password, then TOTP enrolment) and watch the server's memory.
# Needs curl and python3. Not part of the tests.
#
#   bench_start NAME PASSWORD [SERVE ARGS…]   # sets ROOT BIN WORK BASE JAR SERVER_PID;
#                                             # BENCH_BEFORE_SERVE (a function) runs first
#   bench_login_admin                         # sets TOKEN (a CSRF token of the session)
#   bench_watch_memory / bench_stop_watching  # sets BEFORE_RSS BEFORE_HWM RESET, then
#                                             # PEAK AFTER_HWM
#   rss_kb, hwm_kb, hidden NAME (the value of a hidden input in the HTML on stdin),
#   urlencode TEXT

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/target-release}
LOGIN=bench-admin@example.cn
SERVER_PID=
SAMPLER_PID=
WORK=

bench_cleanup() {
    [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    [ -n "$WORK" ] && rm -rf "$WORK"
}

bench_start() {
    local name=$1
    PASSWORD=$2
    shift 2
    echo "building the release binary in $CARGO_TARGET_DIR …" >&2
    cargo build --release --quiet -p greenbridge --manifest-path "$ROOT/Cargo.toml"
    BIN=$CARGO_TARGET_DIR/release/greenbridge
    WORK=$(mktemp -d "/tmp/greenbridge-bench-$name.XXXXXX")
    trap bench_cleanup EXIT
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    BASE=http://127.0.0.1:$port
    JAR=$WORK/cookies.txt
    printf '%s\n' "$PASSWORD" | "$BIN" --data "$WORK/data" user create-admin \
        --login "$LOGIN" --name 压测管理员 --password-stdin >/dev/null
    if declare -F BENCH_BEFORE_SERVE >/dev/null; then BENCH_BEFORE_SERVE; fi
    "$BIN" --data "$WORK/data" serve --addr "127.0.0.1:$port" "$@" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -fsS "$BASE/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "the server did not start; its log:" >&2
    tail -n 20 "$WORK/server.log" >&2
    exit 1
}

hidden() { python3 -c '
import html, re, sys
m = re.search(r"<input[^>]*name=\"" + sys.argv[1] + r"\"[^>]*value=\"([^\"]*)\"", sys.stdin.read())
print(html.unescape(m.group(1)) if m else "")' "$1"; }

urlencode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

bench_login_admin() {
    TOKEN=$(curl -fsS -c "$JAR" -b "$JAR" "$BASE/login" | hidden _csrf)
    curl -fsS -o /dev/null -c "$JAR" -b "$JAR" --data-urlencode "_csrf=$TOKEN" \
        --data-urlencode "login=$LOGIN" --data-urlencode "password=$PASSWORD" \
        --data-urlencode "next=/admin" "$BASE/login"
    local enrol secret code
    enrol=$(curl -fsS -c "$JAR" -b "$JAR" "$BASE/account/second-factor")
    TOKEN=$(hidden _csrf <<<"$enrol")
    secret=$(hidden secret <<<"$enrol")
    code=$(python3 -c '
import base64, hashlib, hmac, struct, sys, time
s = sys.argv[1].upper(); key = base64.b32decode(s + "=" * (-len(s) % 8))
mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
o = mac[-1] & 15
print("%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000))' "$secret")
    curl -fsS -o /dev/null -c "$JAR" -b "$JAR" --data-urlencode "_csrf=$TOKEN" \
        --data-urlencode "secret=$secret" --data-urlencode "code=$code" "$BASE/account/second-factor"
    TOKEN=$(curl -fsS -c "$JAR" -b "$JAR" "$BASE/display" | hidden _csrf)
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status"; }

# Notes VmRSS and VmHWM, resets the high-water mark (Linux ≥ 4.0) so that VmHWM
# afterwards is the measured step's own peak and not the login's (Argon2id takes
# 19 MiB), and samples VmRSS every 50 ms.
bench_watch_memory() {
    BEFORE_RSS=$(rss_kb)
    BEFORE_HWM=$(hwm_kb)
    RESET=no
    echo 5 2>/dev/null >"/proc/$SERVER_PID/clear_refs" && RESET=yes
    (
        peak=0
        while kill -0 "$SERVER_PID" 2>/dev/null; do
            now=$(rss_kb || echo 0)
            [ "${now:-0}" -gt "$peak" ] && peak=$now && echo "$peak" >"$WORK/peak"
            sleep 0.05
        done
    ) &
    SAMPLER_PID=$!
}

bench_stop_watching() {
    sleep 0.2
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=
    AFTER_HWM=$(hwm_kb)
    PEAK=$(cat "$WORK/peak" 2>/dev/null || echo "$BEFORE_RSS")
}
