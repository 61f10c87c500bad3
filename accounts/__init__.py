"""Accounts and bearer tokens (账号与令牌).

Accounts live on a compacted Kafka topic, keyed by the token's SHA-256:
Kafka is already every service's source of truth, every intake and worker
can follow the topic and so learns of a new or revoked token within a
second, and no second database is needed on a district's servers.
"""
