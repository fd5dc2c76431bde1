#!/usr/bin/env bash
# The side-by-side benchmark (issue 11; numbers in docs/performance.md).
#
#   bash scripts/bench.sh
#   DURATION=8s THREADS=2 CONNECTIONS=32 bash scripts/bench.sh
#   BACKENDS=postgres bash scripts/bench.sh      # or sqlite, or "postgres sqlite"
#
# Measures ratios, not absolute speed: this machine is shared and noisy, so
# every patchbay run is framed by two runs of a baseline server in the same
# minute, and the table gives patchbay's req/s divided by the mean of the two.
#
# What it does, all on 127.0.0.1:
#  1. builds patchbay and the baseline (scripts/baseline: bare actix-web +
#     tokio-postgres answering one primary-key lookup of a resource
#     connection with patchbay's JSON shape) in release mode;
#  2. starts a throwaway PostgreSQL cluster (initdb in a temp dir; as root it
#     runs as the `postgres` user), and the baseline on it;
#  3. for each backend in BACKENDS: starts patchbay (PostgreSQL: the same
#     cluster, its own database; SQLite: a temp file), seeds one environment
#     through the API (205 resources, 200 connections: the graph of the
#     issue), then runs wrk against each endpoint, interleaved with baseline
#     runs; on SQLite also 16 concurrent writers creating resources;
#  4. prints one table (req/s, p50, p99, ratio to the baseline) and
#     patchbay's peak RSS (VmHWM) per backend.
# No timed assertion: the script reports; docs/performance.md records.
#
# Bounded: builds BUILD_TIMEOUT (default 30 min), start-ups 30 s, each curl
# 10 s, each wrk run DURATION + 15 s. Everything is stopped and removed on
# exit, whatever happens.
set -euo pipefail

DURATION=${DURATION:-8s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
WRITERS=${WRITERS:-16}
BACKENDS=${BACKENDS:-"postgres sqlite"}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1800}
case "$DURATION" in
  *[!0-9s]*|s|'') echo "bench.sh: DURATION must be whole seconds, e.g. 8s" >&2; exit 1 ;;
esac
DURATION="${DURATION%s}s"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

say() { printf '\n== %s\n' "$*" >&2; }
for tool in curl python3 wrk; do
  command -v "$tool" >/dev/null || { echo "bench.sh: $tool is required (apt-get install $tool)" >&2; exit 1; }
done
PG_BIN=${PATCHBAY_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PG_BIN/initdb" ] || { echo "bench.sh: PostgreSQL server binaries not found (apt-get install postgresql, or set PATCHBAY_PG_BIN)" >&2; exit 1; }

say "building patchbay and the baseline (release)"
(cd "$ROOT" && timeout "$BUILD_TIMEOUT" cargo build --release -q -p patchbay)
(cd "$ROOT/scripts/baseline" && CARGO_TARGET_DIR="$TARGET" timeout "$BUILD_TIMEOUT" cargo build --release -q)
BIN="$TARGET/release/patchbay"
BASE_BIN="$TARGET/release/patchbay-bench-baseline"

TMP=$(mktemp -d /tmp/patchbay-bench.XXXXXX)
PIDS=()
PG_PID=
AS_PG=()
if [ "$(id -u)" = 0 ]; then AS_PG=(runuser -u postgres --); chown postgres:postgres "$TMP"; fi
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ -n "$PG_PID" ]; then
    kill -INT "$PG_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
wait_http() { # url pid log
  for _ in $(seq 1 150); do
    curl -s -o /dev/null --max-time 2 "$1" && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; exit 1; }
    sleep 0.2
  done
  echo "bench.sh: $1 did not answer within 30 s" >&2; tail -20 "$3" >&2; exit 1
}

say "starting PostgreSQL ($PG_BIN)"
PG_PORT=$(free_port)
"${AS_PG[@]}" "$PG_BIN/initdb" -D "$TMP/pg" -A trust -U postgres -E UTF8 --no-sync --no-instructions >/dev/null
"${AS_PG[@]}" "$PG_BIN/postgres" -D "$TMP/pg" -p "$PG_PORT" -k "$TMP" -c listen_addresses=127.0.0.1 \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off >"$TMP/postgres.log" 2>&1 &
PG_PID=$!
for _ in $(seq 1 150); do
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break
  kill -0 "$PG_PID" 2>/dev/null || { cat "$TMP/postgres.log" >&2; exit 1; }
  sleep 0.2
done
PG_URL="postgres://postgres@127.0.0.1:$PG_PORT"
"$PG_BIN/psql" -q "$PG_URL/postgres" -c 'CREATE DATABASE bench_pg' -c 'CREATE DATABASE bench_empty'

J='Content-Type: application/json'
api() { curl -sS --max-time 10 --fail-with-body "$@"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# start_patchbay NAME DATABASE_URL: sets B (base URL) and SERVER_PID.
start_patchbay() {
  local port; port=$(free_port)
  PATCHBAY_DATABASE_URL="$2" PATCHBAY_LISTEN="127.0.0.1:$port" PATCHBAY_DATA_DIR="$TMP/data-$1" \
    PATCHBAY_MODE=dev RUST_LOG="${RUST_LOG:-info}" "$BIN" serve >"$TMP/$1.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  B="http://127.0.0.1:$port"
  wait_http "$B/readyz" "$SERVER_PID" "$TMP/$1.log"
}

# seed: sets TOKEN, E (environment base URL), RC (one connection id).
seed() {
  TOKEN=$(api -X POST "$B/api/auth/register" -H "$J" \
    -d '{"email":"bench@example.com","password":"correct horse battery","name":"Bench"}' | json '["token"]')
  api -X POST "$B/api/v1/projects" -H "Authorization: Bearer $TOKEN" -H "$J" -d '{"name":"bench"}' >/dev/null
  E="$B/api/bench/production"
  python3 - "$E" "$TOKEN" <<'PY'
import json, sys, urllib.request
base, token = sys.argv[1], sys.argv[2]
def post(path, body, method="POST"):
    req = urllib.request.Request(base + path, json.dumps(body).encode(), method=method,
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)["data"]
apps = [post("/resources", {"type": "application", "name": f"app-{i}", "positionX": i * 10,
        "positionY": 100, "config": {"image": f"app:{i}"}})["id"] for i in range(100)]
inst = [post("/resources", {"type": "instance", "name": f"web-{i}", "positionX": i * 10,
        "positionY": 300, "config": {"size": "t3.micro"}})["id"] for i in range(105)]
n = 0
for i, a in enumerate(apps):
    for d in (0, 1):
        c = post("/resource-connections", {"sourceResourceType": "application", "sourceResourceId": a,
            "targetResourceType": "instance", "targetResourceId": inst[(i + d) % len(inst)]})
        n += 1
        if n % 5 < 2:  # 80 of 200 move on to connected; 120 stay pending
            post(f"/resource-connections/{c['id']}", {"status": "connected"}, "PATCH")
PY
  RC=$(api "$E/resource-connections?per_page=1" -H "Authorization: Bearer $TOKEN" | json '["data"][0]["id"]')
}

# wrk_run URL [wrk args...] -> "req/s p50_ms p99_ms non2xx"
wrk_run() {
  local url=$1; shift
  api -o /dev/null "$@" "$url" || { echo "bench.sh: $url does not answer 200" >&2; exit 1; }
  timeout "$(( ${DURATION%s} + 15 ))" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" \
    | python3 -c '
import re, sys
out = sys.stdin.read()
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
print(f"{rps:.0f} {p50:.2f} {p99:.2f} {bad.group(1) if bad else 0}")'
}

say "starting the baseline"
BASE_PORT=$(free_port)
"$BASE_BIN" "127.0.0.1:$BASE_PORT" "$PG_URL/bench_pg" >"$TMP/baseline.log" 2>&1 &
BASE_PID=$!
PIDS+=("$BASE_PID")
BASE="http://127.0.0.1:$BASE_PORT"
wait_http "$BASE/rc/0" "$BASE_PID" "$TMP/baseline.log"

# The baseline reads the rows patchbay on PostgreSQL writes: that server
# seeds first, whichever backends are measured.
say "patchbay on postgres: seeding (the baseline reads these rows too)"
start_patchbay postgres "$PG_URL/bench_pg"
seed
BASE_RC=$RC
PG_STATE=("$B" "$SERVER_PID" "$TOKEN" "$E" "$RC")

ROWS="$TMP/rows"
: >"$ROWS"
for backend in $BACKENDS; do
  case "$backend" in
    postgres) B=${PG_STATE[0]} SERVER_PID=${PG_STATE[1]} TOKEN=${PG_STATE[2]} E=${PG_STATE[3]} RC=${PG_STATE[4]} ;;
    sqlite)
      say "patchbay on sqlite: seeding"
      start_patchbay sqlite "sqlite://$TMP/bench.db"
      seed ;;
    *) echo "bench.sh: unknown backend $backend" >&2; exit 1 ;;
  esac
  A="Authorization: Bearer $TOKEN"
  say "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  read -r brps bp50 bp99 _ < <(wrk_run "$BASE/rc/$BASE_RC")
  echo "baseline  $brps req/s" >&2
  for spec in "GET /api/v1/me|$B/api/v1/me" \
              "GET …/resource-connections/:id|$E/resource-connections/$RC" \
              "GET …/resource-connections?status=pending&per_page=50|$E/resource-connections?status=pending&per_page=50" \
              "GET …/graph (205 nodes, 200 edges)|$E/graph"; do
    name=${spec%%|*}; target=${spec#*|}
    read -r rps p50 p99 bad < <(wrk_run "$target" -H "$A")
    echo "$name  $rps req/s" >&2
    read -r nrps _ _ _ < <(wrk_run "$BASE/rc/$BASE_RC")
    echo "baseline  $nrps req/s" >&2
    ratio=$(python3 -c "print(f'{$rps / (($brps + $nrps) / 2):.2f}')")
    printf '| %s | %s | %s | %s | %s | %s× | %s |\n' "$backend" "$name" "$rps" "$p50" "$p99" "$ratio" "$bad" >>"$ROWS"
    brps=$nrps
  done
  if [ "$backend" = sqlite ]; then
    say "sqlite: $WRITERS concurrent writers creating resources"
    cat >"$TMP/writers.lua" <<LUA
local counter = 0
local threads = {}
function setup(thread) thread:set("tid", #threads); table.insert(threads, thread) end
function init(args) counter = 0 end
function request()
  counter = counter + 1
  local body = string.format('{"type":"instance","name":"w-%d-%d","positionX":1,"positionY":1}', tid, counter)
  return wrk.format("POST", "/api/bench/production/resources",
    {["Authorization"] = "Bearer $TOKEN", ["Content-Type"] = "application/json"}, body)
end
LUA
    out=$(timeout "$(( ${DURATION%s} + 15 ))" wrk -t"$THREADS" -c"$WRITERS" -d"$DURATION" -s "$TMP/writers.lua" "$B/" )
    wps=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
    bad=$(echo "$out" | awk '/Non-2xx/ {print $5}')
    locked=$(grep -c 'database is locked' "$TMP/$backend.log" || true)
    fivexx=$(sed 's/\x1b\[[0-9;]*m//g' "$TMP/$backend.log" | grep -c 'status=5' || true)
    printf '| %s | POST …/resources, %s writers | %s writes/s | | | | %s (5xx in log: %s, "database is locked": %s) |\n' \
      "$backend" "$WRITERS" "$wps" "${bad:-0}" "$fivexx" "$locked" >>"$ROWS"
  fi
  hwm=$(awk '/VmHWM/ {printf "%.1f MB", $2 / 1024}' "/proc/$SERVER_PID/status")
  printf '| %s | peak RSS (VmHWM) over the run | %s | | | | |\n' "$backend" "$hwm" >>"$ROWS"
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
done

echo
echo "commit $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- crates || echo '+uncommitted'), wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| backend | endpoint | req/s | p50 ms | p99 ms | ratio to baseline | non-2xx |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
cat "$ROWS"
