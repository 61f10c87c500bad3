#!/usr/bin/env bash
# The broker of docker-compose.yml (apache/kafka image, KRaft, one node that is
# broker and controller), with SASL/SCRAM for every client and ACLs enforced.
#
# Why not the image's own start-up: it formats the data folder without users.
# SCRAM users are records in the metadata log; once the broker runs, only a
# logged-in super user can add them, and with none nobody can log in. So this
# script writes the broker's configuration itself, formats an empty data
# folder with `kafka-storage format --add-scram` for admin, intake and worker
# (the users exist before the broker first listens), and starts the broker.
# On later starts the folder is formatted already and the users are kept: to
# change a password, run kafka-configs.sh --alter --add-config
# 'SCRAM-SHA-512=[password=...]' --entity-type users --entity-name NAME as
# admin, then change it in .env.
#
# - clients: SASL_PLAINTEXT with SCRAM-SHA-512 on kafka:9092 (the project
#   network only: no port is published);
# - the controller listener: localhost only, SASL with PLAIN, its one user
#   admin in the JAAS line (the broker's login to its own controller does not
#   depend on the metadata log the controller serves);
# - StandardAuthorizer (KRaft's), allow.everyone.if.no.acl.found=false (what
#   no ACL allows is refused), admin the only super user. The ACLs themselves
#   are made by the one-shot kafka-acls service (deploy/kafka-acls.sh).
#
# Environment (required): KAFKA_ADMIN_PASSWORD, KAFKA_INTAKE_PASSWORD,
# KAFKA_WORKER_PASSWORD, CLUSTER_ID. Passwords: 16 or more of letters, digits
# and . _ ~ + / = - (they go into a JAAS line and --add-scram's [name=,password=]).
set -euo pipefail

: "${CLUSTER_ID:?CLUSTER_ID must be set (22 characters, base64url)}"
for variable in KAFKA_ADMIN_PASSWORD KAFKA_INTAKE_PASSWORD KAFKA_WORKER_PASSWORD; do
  value=${!variable:-}
  if ! [[ $value =~ ^[A-Za-z0-9._~+/=-]{16,}$ ]]; then
    echo "$variable: set 16 or more of letters, digits and . _ ~ + / = - (e.g. openssl rand -hex 24)" >&2
    exit 2
  fi
done

config_dir=${KAFKA_GRIDFLOW_CONFIG_DIR:-/opt/kafka/config/gridflow}
data_dir=/var/lib/kafka/data
mkdir -p "$config_dir"
umask 077

cat > "$config_dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
listeners=SASL_PLAINTEXT://:9092,CONTROLLER://localhost:9093
advertised.listeners=SASL_PLAINTEXT://kafka:9092
controller.listener.names=CONTROLLER
controller.quorum.voters=1@localhost:9093
inter.broker.listener.name=SASL_PLAINTEXT
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD}";
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD}" user_admin="${KAFKA_ADMIN_PASSWORD}";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin
log.dirs=${data_dir}
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF

# The admin's client settings, for the healthcheck (kafka-broker-api-versions.sh --command-config).
cat > "$config_dir/admin-client.properties" <<EOF
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD}";
EOF

if [ -e "$data_dir/meta.properties" ]; then
  echo "kafka: $data_dir is formatted; its SCRAM users were made when it was"
else
  /opt/kafka/bin/kafka-storage.sh format --cluster-id "$CLUSTER_ID" --config "$config_dir/server.properties" \
    --add-scram "SCRAM-SHA-512=[name=admin,password=${KAFKA_ADMIN_PASSWORD}]" \
    --add-scram "SCRAM-SHA-512=[name=intake,password=${KAFKA_INTAKE_PASSWORD}]" \
    --add-scram "SCRAM-SHA-512=[name=worker,password=${KAFKA_WORKER_PASSWORD}]"
fi

exec /opt/kafka/bin/kafka-server-start.sh "$config_dir/server.properties"
