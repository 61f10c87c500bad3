#!/usr/bin/env bash
# The one-shot `kafka-acls` service of docker-compose.yml: gives each gridflow
# principal the ACLs of deploy/kafka-acls.txt, through kafka-acls.sh, as the
# super user `admin`.
#
# Why a service of its own: the broker refuses whatever no ACL allows, ACLs
# are records in its metadata log, so they can be made only once it runs, and
# only by a super user. It runs on every `docker compose up`: `--add` of an
# ACL that exists already changes nothing, and a line added to the table is
# applied. The broker's authorizer learns new ACLs from its metadata log a
# moment after kafka-acls.sh returns, so the script ends only once the broker
# lists them all; the intake and the workers start after that.
#
# Environment: KAFKA_ADMIN_PASSWORD (required); KAFKA_BOOTSTRAP (kafka:9092),
# KAFKA_SASL_MECHANISM (SCRAM-SHA-512), GRIDFLOW_TOPIC_PREFIX and
# GRIDFLOW_WORKER_ID (gridflow: what the services use), GRIDFLOW_ACL_TABLE
# (/etc/gridflow/kafka-acls.txt), KAFKA_ACLS (/opt/kafka/bin/kafka-acls.sh).
set -euo pipefail

: "${KAFKA_ADMIN_PASSWORD:?KAFKA_ADMIN_PASSWORD must be set}"
bootstrap=${KAFKA_BOOTSTRAP:-kafka:9092}
mechanism=${KAFKA_SASL_MECHANISM:-SCRAM-SHA-512}
prefix=${GRIDFLOW_TOPIC_PREFIX:-gridflow}
worker_id=${GRIDFLOW_WORKER_ID:-gridflow}
table=${GRIDFLOW_ACL_TABLE:-/etc/gridflow/kafka-acls.txt}
kafka_acls=${KAFKA_ACLS:-/opt/kafka/bin/kafka-acls.sh}

# The admin's client settings, readable by this process only and removed at exit.
umask 077
client_config=$(mktemp)
trap 'rm -f "$client_config"' EXIT
cat > "$client_config" <<EOF
security.protocol=SASL_PLAINTEXT
sasl.mechanism=${mechanism}
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD}";
EOF

number=0
applied=0
expected=0
while IFS= read -r line || [ -n "$line" ]; do
  number=$((number + 1))
  line=${line%%#*}
  read -r principal resource pattern name operations rest <<< "$line" || true
  [ -n "${principal:-}" ] || continue
  if [ -z "${operations:-}" ] || [ -n "${rest:-}" ]; then
    echo "$table:$number: expected: principal resource pattern name operations" >&2
    exit 2
  fi
  name=${name//\{prefix\}/$prefix}
  name=${name//\{worker_id\}/$worker_id}
  case "$resource" in
    topic) target=(--topic "$name") ;;
    group) target=(--group "$name") ;;
    *) echo "$table:$number: resource $resource: use topic or group" >&2; exit 2 ;;
  esac
  case "$pattern" in
    literal | prefixed) ;;
    *) echo "$table:$number: pattern $pattern: use literal or prefixed" >&2; exit 2 ;;
  esac
  ops=()
  IFS=, read -r -a names <<< "$operations"
  for op in "${names[@]}"; do ops+=(--operation "$op"); done
  expected=$((expected + ${#names[@]}))
  "$kafka_acls" --bootstrap-server "$bootstrap" --command-config "$client_config" --add \
    --allow-principal "User:$principal" --resource-pattern-type "${pattern^^}" "${target[@]}" "${ops[@]}" > /dev/null
  applied=$((applied + 1))
  echo "ACL $principal: ${operations} on $resource $pattern $name"
done < "$table"
echo "$applied ACL lines applied from $table"

# Wait until the broker enforces them: --list answers from its authorizer, one "(principal=…" line per ACL.
for _ in $(seq 1 60); do
  listed=$("$kafka_acls" --bootstrap-server "$bootstrap" --command-config "$client_config" --list | grep -c "principal=User:" || true)
  if [ "$listed" -ge "$expected" ]; then
    echo "the broker lists $listed ACLs"
    exit 0
  fi
  sleep 1
done
echo "the broker lists ${listed:-0} ACLs after 60 s, fewer than the $expected made" >&2
exit 1
