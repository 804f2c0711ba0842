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
# shellcheck source=bench-server.sh
source "$(dirname "$0")/bench-server.sh"
bench_start upload 'Bench#Upload-2026' --upload-max-mb $((SIZE_MB + 16))
bench_login_admin

# The file: a PDF signature, then zeros (sparse, so generating it costs nothing).
FILE=$WORK/bench.pdf
printf '%%PDF-1.4\n' >"$FILE"
truncate -s "${SIZE_MB}M" "$FILE"

bench_watch_memory

RESULT=$(curl -sS -o /dev/null -b "$JAR" -w '%{http_code} %{time_total} %{speed_upload}' \
    -F "file=@$FILE;type=application/pdf;filename=bench-${SIZE_MB}MB.pdf" \
    "$BASE/admin/files?_csrf=$(urlencode "$TOKEN")")
read -r STATUS SECONDS_TAKEN SPEED <<<"$RESULT"
bench_stop_watching
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
