"""Grafana as code: the command centre's dashboards and alert rules, and the two ways to install them.

- ``build``: the dashboards, built with grafana-foundation-sdk into ``json/``
  (``gridflow dashboards build``; a test fails when the committed JSON is
  stale). Every panel reads deduplicated data (``FINAL``) through the
  ClickHouse datasource of fixed uid ``gridflow-clickhouse``
  (``clickhouse_query`` is the query type the SDK lacks; the uid and the paths are in ``provisioned``).
- ``alerts``: the alert rules, written to ``provisioning/alerting`` from
  ``data/alerts.yaml``.
- ``provisioning/``: what docker-compose's Grafana loads (datasource,
  dashboards folder, alert rules); ``push`` (with ``grafana_objects``)
  installs the same datasource, folder and dashboards into a district's own
  Grafana over its HTTP API. The two never touch the same Grafana.
- ``panel_sql``: a panel's query as Grafana sends it to ClickHouse
  (variables substituted, the plugin's macros expanded), for the tests and
  ``bench/dashboard_queries.py``.
"""
