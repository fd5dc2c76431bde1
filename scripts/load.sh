#!/usr/bin/env bash
# A short, bounded load test of patchbay (numbers in docs/performance.md).
#
#   bash scripts/load.sh
#   DURATION=10s THREADS=2 CONNECTIONS=32 bash scripts/load.sh
#   PATCHBAY_DATABASE_URL=postgres://postgres@127.0.0.1:5433/patchbay bash scripts/load.sh
#
# Builds the release binary, starts it on a free 127.0.0.1 port with a fresh
# temporary data dir (SQLite unless PATCHBAY_DATABASE_URL is set), registers a
# user, creates a project with 50 resources and 50 resource connections in
# its production environment, then runs wrk against four endpoints for
# DURATION each and prints requests/s, latency percentiles and the server's
# peak RSS (VmHWM). The server is stopped and the temp dir removed on exit,
# whatever happens. Everything talks to 127.0.0.1 only.
#
# Bounded: the build is the only unbounded-looking step (BUILD_TIMEOUT,
# default 30 min); start-up waits at most 30 s, each curl 10 s, each wrk run
# DURATION plus 15 s.
set -euo pipefail

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1800}
case "$DURATION" in
  *[!0-9s]*|s|'') echo "load.sh: DURATION must be whole seconds, e.g. 10s" >&2; exit 1 ;;
esac
DURATION="${DURATION%s}s"
ROOT=$(cd "$(dirname "$0")/.." && pwd)

say() { printf '\n== %s\n' "$*"; }

if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk"
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
  else
    sudo apt-get install -y wrk >/dev/null
  fi
fi
for tool in curl python3 wrk; do
  command -v "$tool" >/dev/null || { echo "load.sh: $tool is required" >&2; exit 1; }
done

say "building the release binary"
(cd "$ROOT" && timeout "$BUILD_TIMEOUT" cargo build --release -p patchbay)
BIN="$ROOT/target/release/patchbay"

TMP=$(mktemp -d /tmp/patchbay-load.XXXXXX)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
B="http://127.0.0.1:$PORT"
DB_URL=${PATCHBAY_DATABASE_URL:-"sqlite://$TMP/patchbay.db"}
case "$DB_URL" in
  postgres://*@127.0.0.1[:/]*|postgresql://*@127.0.0.1[:/]*|sqlite://*) ;;
  *) echo "load.sh: PATCHBAY_DATABASE_URL must point at 127.0.0.1 (or be sqlite://)" >&2; exit 1 ;;
esac

say "starting patchbay on 127.0.0.1:$PORT (${DB_URL%%://*})"
PATCHBAY_DATABASE_URL="$DB_URL" PATCHBAY_LISTEN="127.0.0.1:$PORT" PATCHBAY_DATA_DIR="$TMP/data" \
  PATCHBAY_MODE=dev RUST_LOG="${RUST_LOG:-info}" "$BIN" serve >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 150); do
  curl -sf --max-time 2 "$B/readyz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.log" >&2; exit 1; }
  sleep 0.2
done
curl -sf --max-time 2 "$B/readyz" >/dev/null || { echo "server not ready after 30 s" >&2; tail -20 "$TMP/server.log" >&2; exit 1; }

# A unique name, so the script can run repeatedly against one PostgreSQL.
TAG="load-$(date +%s)-$$"
J='Content-Type: application/json'
api() { curl -sS --max-time 10 --fail-with-body "$@"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

say "seeding: user, project $TAG, 50 resources, 50 connections"
TOKEN=$(api -X POST "$B/api/auth/register" -H "$J" \
  -d "{\"email\":\"$TAG@example.com\",\"password\":\"correct horse battery\",\"name\":\"Load\"}" | json '["token"]')
A="Authorization: Bearer $TOKEN"
api -X POST "$B/api/v1/projects" -H "$A" -H "$J" -d "{\"name\":\"$TAG\"}" >/dev/null
E="$B/api/$TAG/production"
declare -a APP INST
for i in $(seq 1 25); do
  APP[i]=$(api -X POST "$E/resources" -H "$A" -H "$J" \
    -d "{\"type\":\"application\",\"name\":\"app-$i\",\"positionX\":$((i * 40)),\"positionY\":100,\"config\":{\"image\":\"app:$i\"}}" | json '["data"]["id"]')
  INST[i]=$(api -X POST "$E/resources" -H "$A" -H "$J" \
    -d "{\"type\":\"instance\",\"name\":\"web-$i\",\"positionX\":$((i * 40)),\"positionY\":300,\"config\":{\"size\":\"t3.micro\"}}" | json '["data"]["id"]')
done
n=0
for i in $(seq 1 25); do
  for d in 0 1; do
    t=$(( (i + d - 1) % 25 + 1 ))
    id=$(api -X POST "$E/resource-connections" -H "$A" -H "$J" \
      -d "{\"sourceResourceType\":\"application\",\"sourceResourceId\":${APP[i]},\"targetResourceType\":\"instance\",\"targetResourceId\":${INST[t]}}" | json '["data"]["id"]')
    n=$((n + 1))
    # 20 of the 50 move on to connected; 30 stay pending.
    if [ $((n % 5)) -lt 2 ]; then
      api -X PATCH "$E/resource-connections/$id" -H "$A" -H "$J" -d '{"status":"connected"}' >/dev/null
    fi
  done
done
echo "pending: $(api "$E/resource-connections?status=pending&per_page=50" -H "$A" | json '["total"]'), all: $(api "$E/resource-connections?per_page=1" -H "$A" | json '["total"]'), graph nodes/edges: $(api "$E/graph" -H "$A" | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(len(d["nodes"]), len(d["edges"]))')"

hwm() { awk '/VmHWM/ {print $2 " kB"}' "/proc/$SERVER_PID/status"; }
say "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server RSS peak after seeding: $(hwm)"

run() {
  local name=$1 url=$2; shift 2
  say "wrk -t$THREADS -c$CONNECTIONS -d$DURATION $name"
  # Quick check that the endpoint answers 200 before hammering it.
  api -o /dev/null "$@" "$url"
  timeout "$(( ${DURATION%s} + 15 ))" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" \
    | grep -E 'Requests/sec|Transfer/sec|requests in|Latency|^ +(50|75|90|99)%|Non-2xx|Socket errors'
  echo "server RSS peak so far: $(hwm)"
}
run "GET /healthz" "$B/healthz"
run "GET /api/v1/me" "$B/api/v1/me" -H "$A"
run "GET /api/$TAG/production/resource-connections?status=pending&per_page=50" \
  "$E/resource-connections?status=pending&per_page=50" -H "$A"
run "GET /api/$TAG/production/graph" "$E/graph" -H "$A"

say "done; server peak RSS (VmHWM) $(hwm); 5xx in the server log: $(sed 's/\x1b\[[0-9;]*m//g' "$TMP/server.log" | grep -c 'status=5' || true)"
