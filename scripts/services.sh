#!/usr/bin/env bash
# Starts and stops the services the tests and the example app need, from
# Maven Central: a Camunda 7.24 engine (REST at /engine-rest) that keeps its
# state in PostgreSQL, and a single-node Kafka 3.9 broker in KRaft mode.
#
#   scripts/services.sh up [camunda] [kafka]       (default: both) reuses one already answering
#   scripts/services.sh down [camunda] [kafka]     stops only what this script started on the port
#   scripts/services.sh restart [camunda] [kafka]  down, then up, on the port; a restarted broker
#                                                  keeps its topics, messages and offsets
#   scripts/services.sh status [camunda] [kafka]
#   scripts/services.sh reset [camunda] [kafka]    while stopped: drops the engine's database,
#                                                  deletes the broker's data; the next up starts empty
#
# Every command acts on the port in CAMUNDA_PORT (8080) / KAFKA_PORT (9092).
# State is kept per port, so engines and brokers on several ports run side by
# side from one checkout: services/<name>/data/<port>/ (pid file; Kafka's
# config and its data, which every start empties), services/camunda/logs/
# camunda-<port>.log, services/kafka/logs/<port>/.
#
# The engine's database, created by `up` if missing, is one per port:
# CAMUNDA_DB_NAME (camunda_engine on port 8080, camunda_engine_<port> on
# others) on CAMUNDA_DB_HOST (127.0.0.1), CAMUNDA_DB_PORT (5432) as
# CAMUNDA_DB_USER (postgres) with CAMUNDA_DB_PASSWORD (none). `up` needs psql.
#
# Also: KAFKA_CONTROLLER_PORT (KAFKA_PORT + 1), SERVICES_START_TIMEOUT (240 s),
# SERVICES_JAVA_OPTS (below), JAVA_HOME (else `java` on PATH). Maven settings
# come from MAVEN_OPTS as usual.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
CAMUNDA_PORT=${CAMUNDA_PORT:-8080}
KAFKA_PORT=${KAFKA_PORT:-9092}
CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
START_TIMEOUT=${SERVICES_START_TIMEOUT:-240}
DB_HOST=${CAMUNDA_DB_HOST:-127.0.0.1}
DB_PORT=${CAMUNDA_DB_PORT:-5432}
DB_USER=${CAMUNDA_DB_USER:-postgres}
DB_PASSWORD=${CAMUNDA_DB_PASSWORD:-}
if [[ $CAMUNDA_PORT == 8080 ]]; then default_db=camunda_engine; else default_db=camunda_engine_$CAMUNDA_PORT; fi
DB_NAME=${CAMUNDA_DB_NAME:-$default_db}
# C1 only and the serial collector: about 40 % quicker start-up on two cores and
# half the resident memory; plenty for a test engine and a test broker.
read -r -a JAVA_OPTS <<<"${SERVICES_JAVA_OPTS:--Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}"
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

camunda_dir="$ROOT/services/camunda"
kafka_dir="$ROOT/services/kafka"
camunda_jar="$camunda_dir/target/camunda-engine.jar"
camunda_log="$camunda_dir/logs/camunda-$CAMUNDA_PORT.log"
kafka_logs="$kafka_dir/logs/$KAFKA_PORT"

log() { echo "[services] $*"; }

# `restart` brings the same broker back, as a restart in production does;
# `up` after `down` starts an empty one.
KEEP_KAFKA_DATA=false

port_of() { if [[ $1 == camunda ]]; then echo "$CAMUNDA_PORT"; else echo "$KAFKA_PORT"; fi; }
state_of() { echo "$ROOT/services/$1/data/$(port_of "$1")"; }

# What the command line of a process this script started contains.
signature() {
  if [[ $1 == camunda ]]; then echo "-jar $camunda_jar"; else echo "kafka.Kafka $kafka_dir/data/"; fi
}

# running_pid NAME: the pid recorded for NAME on its port, if that process
# still runs and is that service (a pid file can outlive its process, and the
# pid be taken by another).
running_pid() {
  local pidfile pid
  pidfile="$(state_of "$1")/pid"
  [[ -f $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  ps -ww -o args= -p "$pid" 2>/dev/null | grep -qF -- "$(signature "$1")" || return 1
  echo "$pid"
}

# Earlier versions of this script kept one pid file, services/<name>/data/pid:
# a service they started still running moves to its port's place, so `down`
# and `restart` find it.
adopt_legacy_pid() {
  local name=$1 legacy="$ROOT/services/$1/data/pid" pid port=""
  [[ -f $legacy ]] || return 0
  pid=$(<"$legacy")
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    ps -ww -o args= -p "$pid" 2>/dev/null | grep -qF -- "$(signature "$name")"; then
    if [[ $name == camunda ]]; then
      port=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^CAMUNDA_PORT=//p')
    else
      port=$(sed -n 's|^advertised.listeners=PLAINTEXT://[^:]*:||p' "$kafka_dir/data/server.properties" 2>/dev/null)
    fi
    [[ $port =~ ^[0-9]+$ ]] || return 0
    mkdir -p "$ROOT/services/$name/data/$port"
    mv "$legacy" "$ROOT/services/$name/data/$port/pid"
  else
    rm -f "$legacy"
  fi
}

# mvn_in DIR ARGS...: quiet batch Maven in DIR, without the colour codes that
# Debian's Maven prints even in batch mode.
mvn_in() {
  local dir=$1
  shift
  (cd "$dir" && mvn -B -q "$@" 2>&1) | sed 's/\x1b\[[0-9;]*m//g'
}

# locked FILE CMD...: CMD holding FILE's lock, so that two starts from one
# checkout never build into the same target directory at once.
locked() {
  local file=$1
  shift
  mkdir -p "$(dirname "$file")"
  if command -v flock >/dev/null; then
    (
      flock 9
      "$@"
    ) 9>"$file"
  else
    "$@"
  fi
}

need_java() {
  command -v "$JAVA" >/dev/null && return 0
  log "Java 17+ is needed to run $1: set JAVA_HOME or put java on PATH"
  return 1
}

# Camunda answers when its REST API lists the default engine.
camunda_up() { curl -sf -m 3 "http://127.0.0.1:${CAMUNDA_PORT}/engine-rest/engine" >/dev/null 2>&1; }

# Kafka answers when a Kafka ApiVersions (v0) request on the port gets a reply
# with our correlation id and error code 0: a broker that serves requests, not
# just an open port.
kafka_up() {
  local reply
  reply=$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/127.0.0.1/${KAFKA_PORT}" || exit 1
    # size 15 | api_key 18 | api_version 0 | correlation_id 42 | client_id "probe"
    printf '\x00\x00\x00\x0f\x00\x12\x00\x00\x00\x00\x00\x2a\x00\x05probe' >&3
    timeout 3 head -c 10 <&3 | od -An -tx1 | tr -d ' \n'
  ) || return 1
  [[ ${reply:8:12} == 0000002a0000 ]]
}

# wait_for NAME STARTED_AT LOGFILE...: until NAME answers on its port.
wait_for() {
  local name=$1 began=$2 started=$SECONDS
  shift 2
  until "${name}_up"; do
    if ! running_pid "$name" >/dev/null; then
      log "$name exited while starting; the end of its log:"
      tail -n 50 "$@" >&2 || true
      return 1
    fi
    if ((SECONDS - started > START_TIMEOUT)); then
      log "$name did not answer within ${START_TIMEOUT}s; the end of its log:"
      tail -n 50 "$@" >&2 || true
      stop_service "$name"
      return 1
    fi
    sleep 0.5
  done
  log "$name is up: answered $((SECONDS - started))s after launch, $((SECONDS - began))s in all"
}

# stale FILE PATH...: whether FILE is missing or older than any PATH.
stale() {
  local out=$1
  shift
  [[ ! -f $out ]] || [[ -n $(find "$@" -newer "$out" -print -quit) ]]
}

# psql_admin ARGS...: psql on the server that holds the engine's database.
psql_admin() {
  PGPASSWORD=$DB_PASSWORD PGCONNECT_TIMEOUT=5 psql -X -q -v ON_ERROR_STOP=1 \
    -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d postgres "$@"
}

# Fails with what to do when PostgreSQL cannot be reached: the engine cannot
# start without its database.
need_postgres() {
  local out
  if ! command -v psql >/dev/null; then
    log "psql is needed to create the engine's database (Debian: apt-get install postgresql-client)"
    return 1
  fi
  if ! out=$(psql_admin -Atc 'SELECT 1' 2>&1); then
    log "PostgreSQL is not reachable at $DB_HOST:$DB_PORT as $DB_USER; the Camunda engine keeps its state there."
    log "  ${out//$'\n'/ }"
    log "Start PostgreSQL, or point CAMUNDA_DB_HOST, CAMUNDA_DB_PORT, CAMUNDA_DB_USER and CAMUNDA_DB_PASSWORD at one."
    return 1
  fi
}

engine_db_exists() {
  [[ -n $(psql_admin -At -v db="$DB_NAME" <<<"SELECT 1 FROM pg_database WHERE datname = :'db'") ]]
}

ensure_engine_db() {
  need_postgres
  engine_db_exists && return 0
  log "creating the engine's database $DB_NAME on $DB_HOST:$DB_PORT"
  # A start from another checkout may have just created it.
  psql_admin -v db="$DB_NAME" <<<'CREATE DATABASE :"db"' || engine_db_exists
}

build_camunda() {
  stale "$camunda_jar" "$camunda_dir/pom.xml" "$camunda_dir/src" || return 0
  local began=$SECONDS
  log "building the Camunda engine (a first run downloads from Maven Central)"
  mvn_in "$camunda_dir" package -DskipTests
  log "built in $((SECONDS - began))s"
}

start_camunda() {
  if camunda_up; then
    log "camunda already answers on 127.0.0.1:${CAMUNDA_PORT}; reusing it"
    return
  fi
  local began=$SECONDS state pid
  state=$(state_of camunda)
  if pid=$(running_pid camunda); then
    log "camunda on 127.0.0.1:${CAMUNDA_PORT} is still starting (pid $pid); waiting for it"
    wait_for camunda "$began" "$camunda_log"
    return
  fi
  need_java camunda
  ensure_engine_db
  locked "$camunda_dir/target/.build.lock" build_camunda
  mkdir -p "$state" "$camunda_dir/logs"
  log "starting camunda on 127.0.0.1:${CAMUNDA_PORT}, database $DB_NAME (log: ${camunda_log#"$ROOT"/})"
  (
    cd "$state"
    CAMUNDA_PORT=$CAMUNDA_PORT CAMUNDA_DB_URL="jdbc:postgresql://$DB_HOST:$DB_PORT/$DB_NAME" \
      CAMUNDA_DB_USER=$DB_USER CAMUNDA_DB_PASSWORD=$DB_PASSWORD \
      nohup setsid "$JAVA" "${JAVA_OPTS[@]}" -jar "$camunda_jar" >"$camunda_log" 2>&1 </dev/null &
    echo $! >"$state/pid"
  )
  wait_for camunda "$began" "$camunda_log"
}

resolve_kafka() {
  local cp="$kafka_dir/target/classpath.txt"
  stale "$cp" "$kafka_dir/pom.xml" || return 0
  local began=$SECONDS
  log "resolving the Kafka broker jars (a first run downloads from Maven Central)"
  mvn_in "$kafka_dir" dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
  touch "$cp" # the plugin leaves an unchanged file as it was, mtime and all
  log "resolved in $((SECONDS - began))s"
}

start_kafka() {
  if kafka_up; then
    log "kafka already answers on 127.0.0.1:${KAFKA_PORT}; reusing it"
    return
  fi
  local began=$SECONDS state pid
  state=$(state_of kafka)
  if pid=$(running_pid kafka); then
    log "kafka on 127.0.0.1:${KAFKA_PORT} is still starting (pid $pid); waiting for it"
    wait_for kafka "$began" "$kafka_logs/kafka.out" "$kafka_logs/server.log"
    return
  fi
  need_java kafka
  locked "$kafka_dir/target/.build.lock" resolve_kafka
  local data="$state/kraft" kept=false
  if [[ $KEEP_KAFKA_DATA == true && -f $data/meta.properties ]]; then
    kept=true
  else
    # Every up is a fresh, empty cluster.
    rm -rf "$data"
  fi
  mkdir -p "$data" "$kafka_logs"
  sed -e "s|\${KAFKA_PORT}|$KAFKA_PORT|g" -e "s|\${CONTROLLER_PORT}|$CONTROLLER_PORT|g" \
    -e "s|\${KAFKA_DATA}|$data|g" "$kafka_dir/server.properties" >"$state/server.properties"
  local java_cmd=("$JAVA" "${JAVA_OPTS[@]}" -Dlog4j.configuration="file:$kafka_dir/log4j.properties"
    -Dkafka.logs.dir="$kafka_logs" -cp "$(cat "$kafka_dir/target/classpath.txt")")
  if [[ $kept == false ]] && ! "${java_cmd[@]}" kafka.tools.StorageTool format --cluster-id="$(kafka_cluster_id)" \
    -c "$state/server.properties" >"$kafka_logs/format.log" 2>&1; then
    log "formatting the Kafka log dir failed:"
    tail -n 50 "$kafka_logs/format.log" >&2
    return 1
  fi
  local with=""
  if [[ $kept == true ]]; then with=", with the data it had"; fi
  log "starting kafka on 127.0.0.1:${KAFKA_PORT}, controller on ${CONTROLLER_PORT}$with (logs: ${kafka_logs#"$ROOT"/}/)"
  (
    cd "$state"
    nohup setsid "${java_cmd[@]}" kafka.Kafka "$state/server.properties" \
      >"$kafka_logs/kafka.out" 2>&1 </dev/null &
    echo $! >"$state/pid"
  )
  wait_for kafka "$began" "$kafka_logs/kafka.out" "$kafka_logs/server.log"
}

# A KRaft cluster id: 16 random bytes, base64url without padding. It may start
# with "-", so it is passed as --cluster-id=ID, never as a separate argument.
kafka_cluster_id() { head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }

stop_service() {
  local name=$1 port state pid args=""
  port=$(port_of "$name")
  state=$(state_of "$name")
  if pid=$(running_pid "$name"); then
    args=$(ps -ww -o args= -p "$pid" 2>/dev/null || true)
    log "stopping $name on 127.0.0.1:$port (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name did not stop in 30s; killing it"
      kill -9 "$pid" 2>/dev/null || true
      sleep 1
    fi
  else
    log "$name on 127.0.0.1:$port: nothing started by this script is running"
  fi
  rm -f "$state/pid"
  if [[ $name == kafka && $KEEP_KAFKA_DATA != true ]]; then
    rm -rf "$state/kraft"
    # A broker adopted from the single pid file used the shared data dir.
    if [[ $args == *"$kafka_dir/data/server.properties"* ]]; then
      rm -rf "$kafka_dir/data/kraft" "$kafka_dir/data/server.properties"
    fi
  fi
  return 0
}

# Restarting a service this script did not start would only reuse it.
restart_service() {
  local name=$1
  if ! running_pid "$name" >/dev/null && "${name}_up"; then
    log "$name on 127.0.0.1:$(port_of "$name") was not started by this script from this checkout; not restarting it"
    return 1
  fi
  if [[ $name == kafka ]]; then KEEP_KAFKA_DATA=true; fi
  stop_service "$name"
  "start_$name"
  KEEP_KAFKA_DATA=false
}

reset_service() {
  local name=$1 port
  port=$(port_of "$name")
  if running_pid "$name" >/dev/null || "${name}_up"; then
    log "$name answers on 127.0.0.1:$port; stop it first (set the port and run down)"
    return 1
  fi
  if [[ $name == camunda ]]; then
    need_postgres
    psql_admin -v db="$DB_NAME" <<<'DROP DATABASE IF EXISTS :"db"'
    log "camunda on port $port: dropped its database $DB_NAME on $DB_HOST:$DB_PORT"
  else
    rm -rf "$(state_of kafka)" "$kafka_logs"
    log "kafka on port $port: deleted its data and logs"
  fi
  rm -rf "$(state_of "$name")"
}

status_service() {
  local name=$1 port pid state
  port=$(port_of "$name")
  local db=""
  [[ $name == camunda ]] && db=", database $DB_NAME on $DB_HOST:$DB_PORT"
  if pid=$(running_pid "$name"); then
    if "${name}_up"; then state=answers; else state="is starting"; fi
    log "$name $state on 127.0.0.1:$port (started by this script, pid $pid$db)"
  elif "${name}_up"; then
    log "$name answers on 127.0.0.1:$port (not started by this script from this checkout)"
  else
    log "$name is not running on 127.0.0.1:$port (up would start it$db)"
  fi
}

command=${1:-up}
shift || true
names=("$@")
((${#names[@]})) || names=(camunda kafka)
for name in "${names[@]}"; do
  case $name in
    camunda | kafka) ;;
    *)
      log "unknown service '$name' (camunda or kafka)"
      exit 2
      ;;
  esac
done
for name in "${names[@]}"; do adopt_legacy_pid "$name"; done

case $command in
  up) for name in "${names[@]}"; do "start_$name"; done ;;
  down) for name in "${names[@]}"; do stop_service "$name"; done ;;
  restart) for name in "${names[@]}"; do restart_service "$name"; done ;;
  status) for name in "${names[@]}"; do status_service "$name"; done ;;
  reset) for name in "${names[@]}"; do reset_service "$name"; done ;;
  *)
    echo "usage: $0 up|down|restart|status|reset [camunda] [kafka]" >&2
    exit 2
    ;;
esac
