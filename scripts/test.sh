#!/usr/bin/env bash
# The whole test suite: `bash scripts/test.sh` (CI runs it through .ci/run).
#
# 1. Installs what the tests need when it is missing (as root, Debian):
#    postgresql, chromium, chromium-driver, fonts-wqy-zenhei.
# 2. Starts the local PostgreSQL cluster if it is not running (and stops it again at
#    exit, but only if this script started it), sets the postgres password, and drops
#    databases earlier runs left behind.
# 3. Runs `cargo nextest run --workspace` twice: on SQLite, then on PostgreSQL
#    (TEST_DATABASE_URL; each test makes its own database from a migrated template).
#    The browser tests must run in both (GREENBRIDGE_REQUIRE_BROWSER=1).
#
# Exits non-zero if anything fails. Set TEST_DATABASE_URL beforehand to use another
# PostgreSQL server (any database on it; the script then leaves services alone).
# Extra arguments go to both nextest runs, e.g. `bash scripts/test.sh -E 'binary(api)'`.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(postgresql chromium chromium-driver fonts-wqy-zenhei)
PG_USER=postgres
PG_PASSWORD=postgres
started_pg=""
pg_version=""
status=0
summary=()
logs="target/test-logs"
mkdir -p "$logs"

say() { printf '\n==> %s\n' "$*"; }
die() { printf '\nscripts/test.sh: %s\n' "$*" >&2; exit 1; }
is_root() { [[ "$(id -u)" == 0 ]]; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

external_pg=""
if [[ -n "${TEST_DATABASE_URL:-}" ]]; then
    external_pg="$TEST_DATABASE_URL"
fi

# --- 0. tools ---------------------------------------------------------------------
command -v cargo >/dev/null || die "cargo is not on PATH (install Rust: https://rustup.rs)"
cargo nextest --version >/dev/null 2>&1 || die "cargo-nextest is missing: cargo install cargo-nextest --locked"

pg_online() {
    command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | awk '$2 == "main" && $4 ~ /online/ { found = 1 } END { exit !found }'
}
# Installing postgresql may start its cluster: that counts as this script starting it.
pg_running_before=""
if [[ -z "$external_pg" ]] && pg_online; then pg_running_before=1; fi

# --- 1. packages --------------------------------------------------------------------
missing=()
for package in "${PACKAGES[@]}"; do
    if [[ -n "$external_pg" && "$package" == postgresql ]]; then continue; fi
    installed "$package" || missing+=("$package")
done
if ((${#missing[@]})); then
    if ! is_root; then
        die "missing packages: ${missing[*]}
Install them as root, then run this script again:
    sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}"
    fi
    command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get to install them"
    say "installing ${missing[*]}"
    # Waits for another apt/dpkg run (e.g. a provisioning script) instead of failing.
    apt-get -o DPkg::Lock::Timeout=900 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq "${missing[@]}" >/dev/null
fi
[[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] || die "/usr/bin/chromium or /usr/bin/chromedriver is missing"
if command -v fc-list >/dev/null && [[ -z "$(fc-list :lang=zh 2>/dev/null)" ]]; then
    echo "warning: no Chinese font found; screenshots will show boxes (install fonts-wqy-zenhei)" >&2
fi

# --- 2. PostgreSQL ------------------------------------------------------------------
psql_admin() {
    PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=10 psql -X -v ON_ERROR_STOP=1 -q -h 127.0.0.1 -p "$pg_port" -U "$PG_USER" -d postgres "$@"
}

drop_test_databases() {
    # Databases left behind by killed test processes. The name carries the creating
    # process id (greenbridge_test_<pid>_…): one whose process still runs belongs to a
    # test running right now (another checkout, another terminal) and is left alone.
    # The template stays: it is rebuilt by the tests whenever the migrations change.
    local databases name pid
    databases="$(psql_admin -At -c "SELECT datname FROM pg_database WHERE datname LIKE 'greenbridge\_test\_%'")" || return 1
    for name in $databases; do
        pid="${name#greenbridge_test_}"
        pid="${pid%%_*}"
        if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
            continue
        fi
        psql_admin -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" || return 1
    done
}

cleanup() {
    local code=$?
    if [[ -n "$pg_version" && -z "$external_pg" ]]; then
        drop_test_databases >/dev/null 2>&1 || true
    fi
    if [[ -n "$started_pg" ]]; then
        echo "stopping the PostgreSQL cluster $pg_version/main (started by this script)"
        pg_ctlcluster "$pg_version" main stop || true
    fi
    exit "$code"
}
trap cleanup EXIT

if [[ -z "$external_pg" ]]; then
    [[ -d /etc/postgresql ]] || die "no PostgreSQL cluster in /etc/postgresql"
    pg_version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    [[ -n "$pg_version" ]] || die "no PostgreSQL cluster in /etc/postgresql"
    pg_port="$(pg_lsclusters -h 2>/dev/null | awk -v v="$pg_version" '$1 == v && $2 == "main" { print $3 }')"
    pg_port="${pg_port:-5432}"
    if ! pg_lsclusters -h 2>/dev/null | awk -v v="$pg_version" '$1 == v && $2 == "main" { print $4 }' | grep -q online; then
        is_root || die "the PostgreSQL cluster $pg_version/main is not running; start it as root: pg_ctlcluster $pg_version main start"
        say "starting PostgreSQL $pg_version/main (without fsync: test data is disposable)"
        # Durability settings off for this run only (not written to the config): each
        # test creates and drops a database, which otherwise waits on disk syncs.
        pg_ctlcluster "$pg_version" main start -- -o "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        started_pg=1
    elif [[ -z "$pg_running_before" ]]; then
        started_pg=1 # by the package installation above
    fi
    pg_isready -q -h 127.0.0.1 -p "$pg_port" -t 30 || die "PostgreSQL does not answer on 127.0.0.1:$pg_port"
    if is_root; then
        runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$pg_port" \
            -c "ALTER USER $PG_USER PASSWORD '$PG_PASSWORD';" >/dev/null
    fi
    psql_admin -c "SELECT 1" >/dev/null || die "cannot log in to PostgreSQL as $PG_USER/$PG_PASSWORD on 127.0.0.1:$pg_port"
    drop_test_databases || die "cannot drop old test databases"
    pg_url="postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$pg_port/postgres"
else
    pg_url="$external_pg"
fi

# --- 3. the suite, twice --------------------------------------------------------------
export GREENBRIDGE_REQUIRE_BROWSER=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

run_suite() {
    local name="$1" log="$logs/nextest-$1.log" started=$SECONDS code
    shift
    say "cargo nextest run --workspace on $name"
    set +e
    "$@" cargo nextest run --workspace --profile ci "${extra_args[@]}" 2>&1 | tee "$log"
    code=${PIPESTATUS[0]}
    set -e
    local took=$((SECONDS - started))
    # With a filter of one's own, the browser tests may rightly be left out.
    if ((${#extra_args[@]} == 0)) && ! grep -q 'greenbridge-web::browser' "$log"; then
        echo "the browser tests did not run on $name" | tee -a "$log"
        ((code == 0)) && code=1
    fi
    local line
    line="$(grep -E '^[[:space:]]*Summary ' "$log" | tail -n 1 | sed -E 's/^[[:space:]]+//')"
    summary+=("$(printf '%-10s %s (%ss, exit %s)' "$name:" "${line:-no nextest summary}" "$took" "$code")")
    ((code == 0)) || status=1
}

extra_args=("$@")
run_suite sqlite env -u TEST_DATABASE_URL
run_suite postgres env TEST_DATABASE_URL="$pg_url"

say "summary (logs in $logs/)"
printf '%s\n' "${summary[@]}"
if ((status == 0)); then
    echo "all tests passed on SQLite and PostgreSQL"
else
    echo "FAILED" >&2
fi
exit "$status"
