"""gridflow: grid-governance reports through Kafka, Faust and ClickHouse (网格事件流转)."""

__version__ = "0.1.0"
