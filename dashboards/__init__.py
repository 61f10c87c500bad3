"""Grafana as code: dashboards built in Python with grafana-foundation-sdk, written to ``dashboards/json``.

``python -m dashboards.build`` (or ``gridflow dashboards build``) regenerates
the JSON that docker-compose provisions; a test fails when the committed JSON
is stale. Every panel reads deduplicated data (``FINAL``) through the
ClickHouse datasource of fixed uid ``gridflow-clickhouse``.
"""
