#!/usr/bin/env bash
# Starts and stops the services the tests and the example app need, from
# Maven Central: a Camunda 7.24 engine (REST at /engine-rest) and a
# single-node Kafka 3.9 broker in KRaft mode. One already answering is reused.
#
#   scripts/services.sh up [camunda] [kafka]     (default: both)
#   scripts/services.sh down [camunda] [kafka]
#   scripts/services.sh status
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CAMUNDA_PORT=${CAMUNDA_PORT:-8080}
KAFKA_PORT=${KAFKA_PORT:-9092}
CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
START_TIMEOUT=${SERVICES_START_TIMEOUT:-240}
JAVA_OPTS=${SERVICES_JAVA_OPTS:--Xms128m -Xmx512m}
MVN="mvn -B -q"

camunda_dir="$ROOT/services/camunda"
kafka_dir="$ROOT/services/kafka"

log() { echo "[services] $*"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

camunda_up() { curl -sf -m 3 "http://127.0.0.1:${CAMUNDA_PORT}/engine-rest/engine" >/dev/null 2>&1; }
kafka_up() { port_open "$KAFKA_PORT"; }

# wait_for NAME CHECK PIDFILE LOGFILE
wait_for() {
  local name=$1 check=$2 pidfile=$3 logfile=$4 started=$SECONDS
  until $check; do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      log "$name exited while starting; the end of its log ($logfile):"
      tail -n 50 "$logfile" >&2 || true
      return 1
    fi
    if ((SECONDS - started > START_TIMEOUT)); then
      log "$name did not answer within ${START_TIMEOUT}s; the end of its log ($logfile):"
      tail -n 50 "$logfile" >&2 || true
      return 1
    fi
    sleep 1
  done
  log "$name is up after $((SECONDS - started))s"
}

start_camunda() {
  if camunda_up; then
    log "camunda already answers on 127.0.0.1:${CAMUNDA_PORT}; reusing it"
    return
  fi
  local jar="$camunda_dir/target/camunda-engine.jar"
  if [[ ! -f $jar || $camunda_dir/pom.xml -nt $jar ]]; then
    log "building the Camunda engine (first run downloads from Maven Central)"
    (cd "$camunda_dir" && $MVN package -DskipTests)
  fi
  mkdir -p "$camunda_dir/data" "$camunda_dir/logs"
  log "starting camunda on 127.0.0.1:${CAMUNDA_PORT}"
  # shellcheck disable=SC2086
  CAMUNDA_PORT=$CAMUNDA_PORT nohup setsid java $JAVA_OPTS -jar "$jar" \
    >"$camunda_dir/logs/camunda.log" 2>&1 </dev/null &
  echo $! >"$camunda_dir/data/pid"
  wait_for camunda camunda_up "$camunda_dir/data/pid" "$camunda_dir/logs/camunda.log"
}

start_kafka() {
  if kafka_up; then
    log "kafka already answers on 127.0.0.1:${KAFKA_PORT}; reusing it"
    return
  fi
  local cp="$kafka_dir/target/classpath.txt"
  if [[ ! -f $cp || $kafka_dir/pom.xml -nt $cp ]]; then
    log "resolving the Kafka broker jars (first run downloads from Maven Central)"
    (cd "$kafka_dir" && $MVN dependency:build-classpath -Dmdep.outputFile=target/classpath.txt)
  fi
  local data="$kafka_dir/data/kraft" logs="$kafka_dir/logs"
  rm -rf "$data"
  mkdir -p "$data" "$logs"
  sed -e "s|\${KAFKA_PORT}|$KAFKA_PORT|g" -e "s|\${CONTROLLER_PORT}|$CONTROLLER_PORT|g" \
    -e "s|\${KAFKA_DATA}|$data|g" "$kafka_dir/server.properties" >"$kafka_dir/data/server.properties"
  local java_cmd=(java $JAVA_OPTS -Dlog4j.configuration="file:$kafka_dir/log4j.properties"
    -Dkafka.logs.dir="$logs" -cp "$(cat "$cp")")
  "${java_cmd[@]}" kafka.tools.StorageTool format -t "$(uuid_for_kafka)" \
    -c "$kafka_dir/data/server.properties" >"$logs/format.log" 2>&1
  log "starting kafka on 127.0.0.1:${KAFKA_PORT}"
  nohup setsid "${java_cmd[@]}" kafka.Kafka "$kafka_dir/data/server.properties" \
    >"$logs/kafka.out" 2>&1 </dev/null &
  echo $! >"$kafka_dir/data/pid"
  wait_for kafka kafka_up "$kafka_dir/data/pid" "$logs/kafka.out"
}

# A KRaft cluster id: 16 random bytes, base64url without padding.
uuid_for_kafka() { head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }

stop_service() {
  local name=$1 dir=$2 pidfile="$2/data/pid"
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    local pid
    pid=$(cat "$pidfile")
    log "stopping $name (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
  else
    log "$name was not started by this script; nothing to stop"
  fi
  rm -f "$pidfile"
  [[ $name == kafka ]] && rm -rf "$dir/data/kraft"
  return 0
}

command=${1:-up}
shift || true
names=("$@")
((${#names[@]})) || names=(camunda kafka)

case $command in
  up)
    for name in "${names[@]}"; do
      case $name in
        camunda) start_camunda ;;
        kafka) start_kafka ;;
        *) log "unknown service '$name' (camunda or kafka)"; exit 2 ;;
      esac
    done
    ;;
  down)
    for name in "${names[@]}"; do
      case $name in
        camunda) stop_service camunda "$camunda_dir" ;;
        kafka) stop_service kafka "$kafka_dir" ;;
        *) log "unknown service '$name'"; exit 2 ;;
      esac
    done
    ;;
  status)
    camunda_up && log "camunda: up on ${CAMUNDA_PORT}" || log "camunda: down"
    kafka_up && log "kafka: up on ${KAFKA_PORT}" || log "kafka: down"
    ;;
  *)
    echo "usage: $0 up|down|status [camunda] [kafka]" >&2
    exit 2
    ;;
esac
