#!/usr/bin/env bash
# Peak memory of `greenbridge serve` while one large file is uploaded through the real
# route: 管理 → 文件管理 (POST /admin/files, admin with password and TOTP, CSRF token,
# multipart), with the limit raised by `--upload-max-mb`. Not part of the tests.
#
#   scripts/bench-upload.sh [SIZE_MB]        # default 500
#
# Builds the release binary (CARGO_TARGET_DIR, default /tmp/target-release), starts it on
# a temporary data directory (SQLite), creates and enrols an admin, streams a generated
# SIZE_MB file with curl, and reports the server's resident memory: VmRSS before the
# upload, the highest VmRSS sampled every 50 ms during it, and VmHWM (the kernel's
# high-water mark, reset just before the upload where /proc/PID/clear_refs allows) after.
# Needs curl and python3 (for the TOTP code).
set -euo pipefail

SIZE_MB=${1:-500}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/target-release}
LOGIN=bench-admin@example.cn
PASSWORD='Bench#Upload-2026'

echo "building the release binary in $CARGO_TARGET_DIR …" >&2
cargo build --release --quiet -p greenbridge --manifest-path "$ROOT/Cargo.toml"
BIN=$CARGO_TARGET_DIR/release/greenbridge

WORK=$(mktemp -d /tmp/greenbridge-bench-upload.XXXXXX)
SERVER_PID=
SAMPLER_PID=
cleanup() {
    [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
JAR=$WORK/cookies.txt

printf '%s\n' "$PASSWORD" | "$BIN" --data "$WORK/data" user create-admin \
    --login "$LOGIN" --name 压测管理员 --password-stdin >/dev/null
"$BIN" --data "$WORK/data" serve --addr "127.0.0.1:$PORT" \
    --upload-max-mb $((SIZE_MB + 16)) >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done

# The value of the first hidden input NAME in the HTML on stdin.
hidden() { python3 -c '
import html, re, sys
m = re.search(r"<input[^>]*name=\"" + sys.argv[1] + r"\"[^>]*value=\"([^\"]*)\"", sys.stdin.read())
print(html.unescape(m.group(1)) if m else "")' "$1"; }

# Log in: password, then enrol the authenticator (first login of an admin).
TOKEN=$(curl -fsS -c "$JAR" -b "$JAR" "$BASE/login" | hidden _csrf)
curl -fsS -o /dev/null -c "$JAR" -b "$JAR" --data-urlencode "_csrf=$TOKEN" \
    --data-urlencode "login=$LOGIN" --data-urlencode "password=$PASSWORD" \
    --data-urlencode "next=/admin" "$BASE/login"
ENROL=$(curl -fsS -c "$JAR" -b "$JAR" "$BASE/account/second-factor")
TOKEN=$(hidden _csrf <<<"$ENROL")
SECRET=$(hidden secret <<<"$ENROL")
CODE=$(python3 -c '
import base64, hashlib, hmac, struct, sys, time
s = sys.argv[1].upper(); key = base64.b32decode(s + "=" * (-len(s) % 8))
mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
o = mac[-1] & 15
print("%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000))' "$SECRET")
curl -fsS -o /dev/null -c "$JAR" -b "$JAR" --data-urlencode "_csrf=$TOKEN" \
    --data-urlencode "secret=$SECRET" --data-urlencode "code=$CODE" "$BASE/account/second-factor"
TOKEN=$(curl -fsS -c "$JAR" -b "$JAR" "$BASE/display" | hidden _csrf)

# The file: a PDF signature, then zeros (sparse, so generating it costs nothing).
FILE=$WORK/bench.pdf
printf '%%PDF-1.4\n' >"$FILE"
truncate -s "${SIZE_MB}M" "$FILE"

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status"; }
BEFORE_RSS=$(rss_kb)
BEFORE_HWM=$(hwm_kb)
# Reset the high-water mark (Linux ≥ 4.0), so that VmHWM afterwards is the upload's
# own peak and not the login's (Argon2id takes 19 MiB).
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

RESULT=$(curl -sS -o /dev/null -b "$JAR" -w '%{http_code} %{time_total} %{speed_upload}' \
    -F "file=@$FILE;type=application/pdf;filename=bench-${SIZE_MB}MB.pdf" \
    "$BASE/admin/files?_csrf=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$TOKEN")")
read -r STATUS SECONDS_TAKEN SPEED <<<"$RESULT"
sleep 0.2
kill "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=
AFTER_HWM=$(hwm_kb)
PEAK=$(cat "$WORK/peak" 2>/dev/null || echo "$BEFORE_RSS")
STORED=$(find "$WORK/data/files/admin" -type f -printf '%s\n' 2>/dev/null | head -n1)

echo "upload of ${SIZE_MB} MB: HTTP $STATUS in ${SECONDS_TAKEN}s ($(awk -v s="$SPEED" 'BEGIN {printf "%.0f", s / 1048576}') MiB/s); stored ${STORED:-nothing} bytes"
echo "server VmRSS before:        $((BEFORE_RSS / 1024)) MiB (VmHWM $((BEFORE_HWM / 1024)) MiB)"
echo "server VmRSS peak sampled:  $((PEAK / 1024)) MiB"
echo "server VmHWM after upload:  $((AFTER_HWM / 1024)) MiB ($([ "$RESET" = yes ] && echo "reset before the upload: the upload's own peak" || echo "not reset: peak over the process's life"))"
if [ "$STATUS" != 303 ]; then
    echo "the upload was not accepted; server log:" >&2
    tail -n 20 "$WORK/server.log" >&2
    exit 1
fi
