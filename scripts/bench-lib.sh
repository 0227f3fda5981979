# Shared helpers for scripts/bench-scenario, scripts/fault-run and scripts/demo (sourced, not run).
# Needs the private services (scripts/services start; the env file is read here).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVICES="$ROOT/scripts/services"
[ -f "$ROOT/.services/env" ] && . "$ROOT/.services/env"
: "${PEDULI_TEST_AMQP_URL:?run scripts/services start first}"
WORKER_BIN=${WORKER_BIN:-$ROOT/.build/release/peduli-worker}
BENCH_BIN=${BENCH_BIN:-$ROOT/.build/release/peduli-bench}
METRICS_PORT=${METRICS_PORT:-$((PEDULI_AMQP_PORT + 3000))}
WORKER_PID=

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# A fresh database with a unique name, migrated, with a roster of N sponsors. Sets DB_NAME, DB_URL.
fresh_database() {
  local roster=${1:-16000}
  DB_NAME="bench_$(date +%Y%m%d_%H%M%S)_$$"
  DB_URL="${PEDULI_TEST_DATABASE_URL%/*}/$DB_NAME"
  psql -q "$PEDULI_TEST_DATABASE_URL" -c "CREATE DATABASE $DB_NAME" >/dev/null
  PEDULI_DATABASE_URL="$DB_URL" PEDULI_AMQP_URL="$PEDULI_TEST_AMQP_URL" "$WORKER_BIN" migrate >/dev/null
  "$BENCH_BIN" roster --count "$roster" \
    | psql -q "$DB_URL" -c "\\copy sponsors (nip,name,unit,active) FROM STDIN WITH (FORMAT csv, HEADER true)"
  # An experiment on the schema (e.g. an index) without touching the worker: BENCH_EXTRA_SQL.
  if [ -n "${BENCH_EXTRA_SQL:-}" ]; then psql -q "$DB_URL" -c "$BENCH_EXTRA_SQL"; say "extra SQL: $BENCH_EXTRA_SQL"; fi
  say "database $DB_NAME: migrated, roster of $roster sponsors"
}

drop_database() {
  [ -n "${DB_NAME:-}" ] && "$SERVICES" psql -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null || true
}

# Leftovers of an earlier run would be processed against the new database: empty the work queues.
purge_queues() {
  local q
  for q in peduli.registrations peduli.payments peduli.dead-letters \
           peduli.payments.retry.10s peduli.payments.retry.1m peduli.payments.retry.10m peduli.payments.retry.1h; do
    "$SERVICES" rabbitmqctl -q purge_queue "$q" >/dev/null 2>&1 || true
  done
}

# Starts the daemon in the background on DB_URL; waits for /readyz. Sets WORKER_PID. Extra env via WORKER_ENV.
start_worker() {
  local log=${1:-/dev/null}
  env PEDULI_AMQP_URL="${WORKER_AMQP_URL:-$PEDULI_TEST_AMQP_URL}" PEDULI_DATABASE_URL="$DB_URL" \
      PEDULI_METRICS_LISTEN="127.0.0.1:$METRICS_PORT" ${WORKER_ENV:-} \
      "$WORKER_BIN" run >>"$log" 2>&1 &
  WORKER_PID=$!
  local i
  for i in $(seq 1 300); do
    if curl -fs "http://127.0.0.1:$METRICS_PORT/readyz" >/dev/null 2>&1; then return 0; fi
    kill -0 "$WORKER_PID" 2>/dev/null || { say "worker exited during start-up (log: $log)"; return 1; }
    sleep 0.2
  done
  say "worker not ready after 60 s (continuing)"
}

# SIGTERM, wait; sets WORKER_EXIT (not in a subshell: wait needs the parent shell).
stop_worker() {
  WORKER_EXIT=none
  [ -n "$WORKER_PID" ] || return 0
  kill -TERM "$WORKER_PID" 2>/dev/null || true
  WORKER_EXIT=0
  wait "$WORKER_PID" || WORKER_EXIT=$?
  WORKER_PID=
}

# One line of cumulative CPU time (clock ticks) for the processes a run is made of:
#   <unix time> busy=<machine, all CPUs> idle=<machine> rabbitmq=<..> postgresql=<..> worker=<..> bench=<..>
# Summed over the live processes of each kind (a process that exits between two samples takes its time
# with it: PostgreSQL's autovacuum workers are undercounted by what they used).
cpu_sample() {
  awk -v t="$(date +%s.%N)" '
    FILENAME == "/proc/stat" { if ($1 == "cpu") { busy = $2 + $3 + $4 + $7 + $8 + $9; idle = $5 + $6 }; next }
    {
      if (!match($0, /\(.*\)/)) next
      comm = substr($0, RSTART + 1, RLENGTH - 2)
      n = split(substr($0, RSTART + RLENGTH + 1), f, " ")
      g = comm == "beam.smp" ? "rabbitmq" : comm == "postgres" ? "postgresql" : \
          comm == "peduli-worker" ? "worker" : comm == "peduli-bench" ? "bench" : ""
      if (g != "" && n >= 13) ticks[g] += f[12] + f[13]
    }
    END {
      printf "%s busy=%d idle=%d", t, busy, idle
      split("rabbitmq postgresql worker bench", gs, " ")
      for (i = 1; i <= 4; i++) printf " %s=%d", gs[i], ticks[gs[i]] + 0
      printf "\n"
    }' /proc/stat /proc/[0-9]*/stat 2>/dev/null
}
