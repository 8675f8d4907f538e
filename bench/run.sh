#!/usr/bin/env bash
# `make bench`: serve the newsroom with gunicorn (production settings, DEBUG off,
# 2 sync workers) on 127.0.0.1 and load it with wrk, for corpora of N articles.
#
# Env: NS="1000 10000 100000"  corpus sizes (a SQLite database each, var/bench/db-N.sqlite3,
#                               kept between runs and rebuilt when the generator or migrations change)
#      REPS=5 DURATION=10 WARMUP=3 CONC=4 THREADS=1   wrk: interleaved reps, seconds, connections
#      PORT=8764  SCENARIOS="article mix home section tag search static"
#      PEER=1     also run the Wagtail peer site found in PEER_DIR (its setup.sh and run.sh; scratch in PEER_ROOT=/tmp/peerbench)
#                 at each N with the same wrk settings (its setup takes ~7 min at 10,000 articles)
#      MODES="raw cached"  raw: nothing cached (no page cache, no Redis); cached: the page cache on (Redis)
# Writes var/bench/runs/<time>/N<N>/{prepare.json,runs.jsonl,queries_*.sql,raw/},
# then var/bench/results-<date>.md (printed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=$ROOT/.venv/bin/python
NS="${NS:-1000 10000 100000}"
REPS="${REPS:-5}" DURATION="${DURATION:-10}" WARMUP="${WARMUP:-3}" CONC="${CONC:-4}" THREADS="${THREADS:-1}"
PORT="${PORT:-8764}"
SCENARIOS="${SCENARIOS:-article mix home section tag search static}"
PEER_DIR="${PEER_DIR:-}"
PEER_ROOT="${PEER_ROOT:-/tmp/peerbench}"
WITH_PEER="${PEER:-0}"
if [ "$WITH_PEER" = 1 ] && [ ! -x "$PEER_DIR/setup.sh" ]; then
  echo "PEER=1 needs PEER_DIR: the folder of the peer site, with its setup.sh and run.sh (docs/development.md)" >&2
  exit 2
fi
unset PEER
MODES="${MODES:-raw cached}"
# Redis for the cached modes, each run under its own key prefix (started here if it is not running).
BENCH_REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/15}"
RUN_DIR="$ROOT/var/bench/runs/$(date -u +%Y%m%d-%H%M%S)"
BASE="http://127.0.0.1:$PORT"

if [ "$MODES" != raw ] && ! redis-cli -u "$BENCH_REDIS_URL" ping >/dev/null 2>&1; then
  command -v redis-server >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -q redis-server; }
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 30); do redis-cli -u "$BENCH_REDIS_URL" ping >/dev/null 2>&1 && break; sleep 0.5; done
fi

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q wrk || { apt-get update -q && apt-get install -y -q wrk; }
  else echo "wrk is missing: sudo apt-get install wrk" >&2; exit 1; fi
fi

export DJANGO_DEBUG=0 DJANGO_SECRET_KEY=bench-only-not-secret DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost \
  DJANGO_HTTPS=0 DJANGO_LOG_LEVEL=ERROR
unset REDIS_URL
mkdir -p "$RUN_DIR"
stamp=$(cat articles/management/commands/generate_corpus.py articles/migrations/*.py | sha256sum | cut -c1-16)

GUNICORN_PID=""
stop_server() {
  if [ -n "$GUNICORN_PID" ] && kill -0 "$GUNICORN_PID" 2>/dev/null; then
    kill -TERM "$GUNICORN_PID"
    for _ in $(seq 50); do kill -0 "$GUNICORN_PID" 2>/dev/null || break; sleep 0.2; done
  fi
  GUNICORN_PID=""
}
trap stop_server EXIT INT TERM

for N in $NS; do
  DB="$ROOT/var/bench/db-$N.sqlite3"
  if [ ! -f "$DB" ] || [ "$(cat "$DB.stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "== building the corpus of $N articles: $DB"
    rm -f "$DB" "$DB-wal" "$DB-shm" "$DB.stamp"
    DATABASE_URL="sqlite:///$DB" "$PY" manage.py migrate -v0
    DATABASE_URL="sqlite:///$DB" "$PY" manage.py generate_corpus "$N" --seed 1
    echo "$stamp" > "$DB.stamp"
  fi
  export DATABASE_URL="sqlite:///$DB"
  OUT="$RUN_DIR/N$N"
  mkdir -p "$OUT/raw"
  "$PY" manage.py collectstatic --noinput -v0
  NEWSROOM_CACHE_PAGES=0 "$PY" bench/prepare.py "$OUT" | tee "$OUT/prepare.out"
  url_for() {
    "$PY" -c "import json,sys; p=json.load(open('$OUT/prepare.json'))['pages']; print(p[sys.argv[1]]['url'] if sys.argv[1] in p else '')" "$1"
  }
  declare -A URL=()
  for sc in $SCENARIOS; do URL[$sc]=$(url_for "$sc"); done

  for mode in $MODES; do
    case "$mode" in
      raw) cache_env=(NEWSROOM_CACHE_PAGES=0) ;;
      cached) cache_env=(NEWSROOM_CACHE_PAGES=1) ;;
      *) echo "unknown mode $mode" >&2; exit 2 ;;
    esac
    [ "$mode" = raw ] || cache_env+=(REDIS_URL="$BENCH_REDIS_URL" NEWSROOM_CACHE_KEY_PREFIX="bench-$(date +%s%N)")
    # Workers are not recycled during a run (the peer's are not either): a static-ceiling run alone
    # is tens of thousands of requests, and a fresh worker starts with an empty memory cache.
    if curl -s -o /dev/null "$BASE/"; then echo "port $PORT is in use: stop that server first" >&2; exit 1; fi
    env "${cache_env[@]}" WEB_CONCURRENCY=2 GUNICORN_THREADS=1 GUNICORN_MAX_REQUESTS=0 GUNICORN_BIND="127.0.0.1:$PORT" \
      GUNICORN_ACCESS_LOG= GUNICORN_LOG_LEVEL=warning \
      "$ROOT/.venv/bin/gunicorn" -c gunicorn.conf.py newsroom.wsgi 2> "$OUT/gunicorn-$mode.err" &
    GUNICORN_PID=$!
    for _ in $(seq 100); do curl -s -o /dev/null "$BASE/" && break; sleep 0.2; done
    kill -0 "$GUNICORN_PID" 2>/dev/null || { echo "gunicorn did not start: $OUT/gunicorn-$mode.err" >&2; exit 1; }
    active=()
    for sc in $SCENARIOS; do
      [ -n "${URL[$sc]}" ] || continue
      code=$(curl -s -o "$OUT/raw/sample_${mode}_$sc.html" -w "%{http_code}" "$BASE${URL[$sc]}")
      if [ "$code" = 200 ]; then active+=("$sc"); else echo "skipping $sc: ${URL[$sc]} answered $code"; fi
    done
    load() {  # load SCENARIO SECONDS -> one JSON line
      local extra=()
      [ "$1" = mix ] && extra=(-- "$OUT/urls_mix.txt")
      wrk -t"$THREADS" -c"$CONC" -d"$2s" --timeout 10s -s bench/report.lua "$BASE${URL[$1]}" "${extra[@]}" | tail -1
    }
    for sc in "${active[@]}"; do load "$sc" "$WARMUP" > /dev/null; done
    # Interleaved: rep 1 of every page, then rep 2..., so a noisy moment spreads over all pages.
    for rep in $(seq "$REPS"); do
      for sc in "${active[@]}"; do
        load1=$(cut -d' ' -f1 /proc/loadavg)
        line=$(load "$sc" "$DURATION")
        echo "$line" | "$PY" -c "import json,sys; d=json.loads(sys.stdin.read()); \
d.update(n=$N, mode='$mode', scenario='$sc', rep=$rep, load1=$load1); print(json.dumps(d))" | tee -a "$OUT/runs.jsonl"
      done
    done
    stop_server
  done
  echo "$(uptime)" > "$OUT/uptime.txt"

  if [ "$WITH_PEER" = 1 ]; then
    # The peer's scripts read $PEER as their scratch folder (venv, databases).
    [ -f "$PEER_ROOT/db-$N.sqlite3" ] || PEER="$PEER_ROOT" "$PEER_DIR/setup.sh" "$N"
    # The peer has its own scenario names (index for home, no section or search page): not ours.
    env -u SCENARIOS PEER="$PEER_ROOT" RESULTS_DIR="$OUT/peer" REPS="$REPS" DURATION="$DURATION" WARMUP="$WARMUP" \
      CONC="$CONC" THREADS="$THREADS" "$PEER_DIR/run.sh" "$N"
  fi
done

RESULTS="$ROOT/var/bench/results-$(date -u +%Y-%m-%d).md"
"$PY" bench/summarize.py "$RUN_DIR" | tee -a "$RESULTS"
echo "Written to $RESULTS (raw data: $RUN_DIR)"
