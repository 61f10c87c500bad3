"""The Faust app and its agents: a report's way to a case, and on to ClickHouse.

    reports ─accept─> case-openings ─number─> case-commands ─case─> case-events, cases, alerts.<DEPT>
                                                                         └──sink──> ClickHouse
"""
