#!/usr/bin/env bash
# 绿色课堂 under load, through the real routes of a release `greenbridge serve`:
#
# 1. peak server memory while one large video (default 500 MB) is uploaded as a lesson
#    (POST /classroom/manage/courses/{id}/lessons, multipart, admin with password and
#    TOTP, CSRF token), with `--course-upload-max-mb` raised to fit;
# 2. throughput of range requests on that file (GET /classroom/lessons/{id}/video with
#    `Range: bytes=a-b`, 1 MiB at random offsets) under 32 concurrent readers (wrk).
#
#   scripts/bench-courses.sh [SIZE_MB] [SECONDS]     # defaults 500 and 10
#
# Builds the release binary (CARGO_TARGET_DIR, default /tmp/target-release), runs it on a
# temporary data directory (SQLite), reports VmRSS/VmHWM as scripts/bench-upload.sh
# does, then wrk's figures. Needs curl, python3 and wrk. Not part of the tests.
set -euo pipefail

SIZE_MB=${1:-500}
SECONDS_RUN=${2:-10}
CHUNK=$((1024 * 1024))
# shellcheck source=bench-server.sh
source "$(dirname "$0")/bench-server.sh"
BENCH_BEFORE_SERVE() {
    "$BIN" --data "$WORK/data" import courses "$ROOT/samples/courses.jsonl" >/dev/null
}
bench_start courses 'Bench#Courses-2026' --course-upload-max-mb $((SIZE_MB + 16))
bench_login_admin
COURSE=$(curl -fsS "$BASE/api/v1/courses?page_size=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')

# The video: the sample WebM's first 4 KiB (a real EBML header), then zeros (sparse).
FILE=$WORK/bench.webm
head -c 4096 "$ROOT/samples/courses/lvqiao-intro.webm" >"$FILE"
truncate -s "${SIZE_MB}M" "$FILE"

bench_watch_memory

CSRF_Q=$(urlencode "$TOKEN")
RESULT=$(curl -sS -o /dev/null -D "$WORK/headers" -b "$JAR" -w '%{http_code} %{time_total} %{speed_upload}' \
    -F "title=压测视频" \
    -F "video=@$FILE;type=video/webm;filename=bench-${SIZE_MB}MB.webm" \
    "$BASE/classroom/manage/courses/$COURSE/lessons?_csrf=$CSRF_Q")
read -r STATUS SECONDS_TAKEN SPEED <<<"$RESULT"
bench_stop_watching
if [ "$STATUS" != 303 ]; then
    echo "the upload was not accepted (HTTP $STATUS); server log:" >&2
    tail -n 20 "$WORK/server.log" >&2
    exit 1
fi
LESSON=$(awk -F'added=' 'tolower($0) ~ /^location:/ {print $2}' "$WORK/headers" | tr -d '\r\n')
URL="$BASE/classroom/lessons/$LESSON/video"

echo "lesson upload of ${SIZE_MB} MB: HTTP $STATUS in ${SECONDS_TAKEN}s ($(awk -v s="$SPEED" 'BEGIN {printf "%.0f", s / 1048576}') MiB/s)"
echo "server VmRSS before:        $((BEFORE_RSS / 1024)) MiB"
echo "server VmRSS peak sampled:  $((PEAK / 1024)) MiB"
echo "server VmHWM after upload:  $((AFTER_HWM / 1024)) MiB ($([ "$RESET" = yes ] && echo "reset before the upload" || echo "not reset: peak over the process's life"))"

# A check, then the load: every request a 1 MiB range at a random offset.
curl -fsS -o /dev/null -w 'one range: HTTP %{http_code}, %{size_download} bytes\n' \
    -H "Range: bytes=1048576-2097151" "$URL"
cat >"$WORK/ranges.lua" <<LUA
local size = ${SIZE_MB} * 1048576
local chunk = ${CHUNK}
math.randomseed(os.time())
request = function()
  local first = math.random(0, size - chunk)
  return wrk.format("GET", nil, { ["Range"] = "bytes=" .. first .. "-" .. (first + chunk - 1) })
end
local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
done = function(summary, latency, requests)
  io.write(string.format("ranges: %d requests, %.1f MiB/s, p50 %.1f ms, p99 %.1f ms, errors %d\n",
    summary.requests, summary.bytes / 1048576 / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
LUA
echo "wrk: 32 concurrent readers for ${SECONDS_RUN}s, 1 MiB ranges of the ${SIZE_MB} MB video"
BEFORE_RSS=$(rss_kb)
wrk -t2 -c32 -d"${SECONDS_RUN}s" --latency -s "$WORK/ranges.lua" "$URL" | grep -E "Requests/sec|Transfer/sec|ranges:|Non-2xx"
echo "server VmRSS before / after the range load: $((BEFORE_RSS / 1024)) / $(($(rss_kb) / 1024)) MiB"
