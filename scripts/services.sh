#!/usr/bin/env bash
# Starts and stops the services the tests and the example app need, from
# Maven Central: a Camunda 7.24 engine (REST at /engine-rest) and a
# single-node Kafka 3.9 broker in KRaft mode. One already answering is reused.
#
#   scripts/services.sh up [camunda] [kafka]       (default: both)
#   scripts/services.sh down [camunda] [kafka]     (stops what this script started)
#   scripts/services.sh status [camunda] [kafka]
#
# Environment: CAMUNDA_PORT (8080), KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT
# (9093), SERVICES_START_TIMEOUT (240 s), SERVICES_JAVA_OPTS (below),
# JAVA_HOME (else `java` on PATH). Maven settings come from MAVEN_OPTS as usual.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
CAMUNDA_PORT=${CAMUNDA_PORT:-8080}
KAFKA_PORT=${KAFKA_PORT:-9092}
CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
START_TIMEOUT=${SERVICES_START_TIMEOUT:-240}
# C1 only and the serial collector: about 40 % quicker start-up on two cores and
# half the resident memory; plenty for a test engine and a test broker.
read -r -a JAVA_OPTS <<<"${SERVICES_JAVA_OPTS:--Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}"
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

camunda_dir="$ROOT/services/camunda"
kafka_dir="$ROOT/services/kafka"

log() { echo "[services] $*"; }

# mvn_in DIR ARGS...: quiet batch Maven in DIR, without the colour codes that
# Debian's Maven prints even in batch mode.
mvn_in() {
  local dir=$1
  shift
  (cd "$dir" && mvn -B -q "$@" 2>&1) | sed 's/\x1b\[[0-9;]*m//g'
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

# wait_for NAME CHECK PIDFILE STARTED_AT LOGFILE...
wait_for() {
  local name=$1 check=$2 pidfile=$3 began=$4 started=$SECONDS
  shift 4
  until $check; do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      log "$name exited while starting; the end of its log:"
      tail -n 50 "$@" >&2 || true
      return 1
    fi
    if ((SECONDS - started > START_TIMEOUT)); then
      log "$name did not answer within ${START_TIMEOUT}s; the end of its log:"
      tail -n 50 "$@" >&2 || true
      stop_service "$name" "$ROOT/services/$name"
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

start_camunda() {
  if camunda_up; then
    log "camunda already answers on 127.0.0.1:${CAMUNDA_PORT}; reusing it"
    return
  fi
  local began=$SECONDS jar="$camunda_dir/target/camunda-engine.jar"
  if stale "$jar" "$camunda_dir/pom.xml" "$camunda_dir/src"; then
    log "building the Camunda engine (a first run downloads from Maven Central)"
    mvn_in "$camunda_dir" package -DskipTests
    log "built in $((SECONDS - began))s"
  fi
  mkdir -p "$camunda_dir/data" "$camunda_dir/logs"
  log "starting camunda on 127.0.0.1:${CAMUNDA_PORT} (log: services/camunda/logs/camunda.log)"
  (
    cd "$camunda_dir/data"
    CAMUNDA_PORT=$CAMUNDA_PORT nohup setsid "$JAVA" "${JAVA_OPTS[@]}" -jar "$jar" \
      >"$camunda_dir/logs/camunda.log" 2>&1 </dev/null &
    echo $! >"$camunda_dir/data/pid"
  )
  wait_for camunda camunda_up "$camunda_dir/data/pid" "$began" "$camunda_dir/logs/camunda.log"
}

start_kafka() {
  if kafka_up; then
    log "kafka already answers on 127.0.0.1:${KAFKA_PORT}; reusing it"
    return
  fi
  local began=$SECONDS cp="$kafka_dir/target/classpath.txt"
  if stale "$cp" "$kafka_dir/pom.xml"; then
    log "resolving the Kafka broker jars (a first run downloads from Maven Central)"
    mvn_in "$kafka_dir" dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
    touch "$cp" # the plugin leaves an unchanged file as it was, mtime and all
    log "resolved in $((SECONDS - began))s"
  fi
  local data="$kafka_dir/data/kraft" logs="$kafka_dir/logs"
  # Every start is a fresh, empty cluster.
  rm -rf "$data"
  mkdir -p "$data" "$logs"
  sed -e "s|\${KAFKA_PORT}|$KAFKA_PORT|g" -e "s|\${CONTROLLER_PORT}|$CONTROLLER_PORT|g" \
    -e "s|\${KAFKA_DATA}|$data|g" "$kafka_dir/server.properties" >"$kafka_dir/data/server.properties"
  local java_cmd=("$JAVA" "${JAVA_OPTS[@]}" -Dlog4j.configuration="file:$kafka_dir/log4j.properties"
    -Dkafka.logs.dir="$logs" -cp "$(cat "$cp")")
  if ! "${java_cmd[@]}" kafka.tools.StorageTool format --cluster-id="$(kafka_cluster_id)" \
    -c "$kafka_dir/data/server.properties" >"$logs/format.log" 2>&1; then
    log "formatting the Kafka log dir failed:"
    tail -n 50 "$logs/format.log" >&2
    return 1
  fi
  log "starting kafka on 127.0.0.1:${KAFKA_PORT} (logs: services/kafka/logs/)"
  (
    cd "$kafka_dir/data"
    nohup setsid "${java_cmd[@]}" kafka.Kafka "$kafka_dir/data/server.properties" \
      >"$logs/kafka.out" 2>&1 </dev/null &
    echo $! >"$kafka_dir/data/pid"
  )
  wait_for kafka kafka_up "$kafka_dir/data/pid" "$began" "$logs/kafka.out" "$logs/server.log"
}

# A KRaft cluster id: 16 random bytes, base64url without padding. It may start
# with "-", so it is passed as --cluster-id=ID, never as a separate argument.
kafka_cluster_id() { head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }

stop_service() {
  local name=$1 dir=$2 pidfile="$2/data/pid" pid=""
  [[ -f $pidfile ]] && pid=$(cat "$pidfile")
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    log "stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name did not stop in 30s; killing it"
      kill -9 "$pid" 2>/dev/null || true
      sleep 1
    fi
  else
    log "$name: nothing started by this script is running"
  fi
  rm -f "$pidfile"
  if [[ $name == kafka ]]; then rm -rf "$dir/data/kraft"; fi
  return 0
}

command=${1:-up}
shift || true
names=("$@")
((${#names[@]})) || names=(camunda kafka)
for name in "${names[@]}"; do
  case $name in
    camunda | kafka) ;;
    *) log "unknown service '$name' (camunda or kafka)"; exit 2 ;;
  esac
done

case $command in
  up)
    for name in "${names[@]}"; do "start_$name"; done
    ;;
  down)
    for name in "${names[@]}"; do stop_service "$name" "$ROOT/services/$name"; done
    ;;
  status)
    for name in "${names[@]}"; do
      port=$([[ $name == camunda ]] && echo "$CAMUNDA_PORT" || echo "$KAFKA_PORT")
      if "${name}_up"; then log "$name: answers on 127.0.0.1:$port"; else log "$name: not answering on 127.0.0.1:$port"; fi
    done
    ;;
  *)
    echo "usage: $0 up|down|status [camunda] [kafka]" >&2
    exit 2
    ;;
esac
