"""The push endpoint is in the OpenAPI document, with every network and one sample payload each."""

from __future__ import annotations

from infra.settings import Settings
from producers.api.server import build_app
from schemas.vocabulary import INTEGRATED_NETWORKS


def test_the_push_endpoint_is_documented_with_a_sample_per_network() -> None:
    document = build_app(Settings()).openapi()  # nothing started: the document only
    push = document["paths"]["/api/v1/networks/{network}/events"]["post"]
    assert "202" in push["responses"]
    network = next(p for p in push["parameters"] if p["name"] == "network")
    assert network["in"] == "path"
    examples = push["requestBody"]["content"]["application/json"]["examples"]
    assert set(examples) == {n.value for n in INTEGRATED_NETWORKS}
    assert all(isinstance(e["value"], dict) and e["value"] for e in examples.values())
    receipt = document["components"]["schemas"]["ReportReceipt"]["properties"]
    assert {"report_id", "mapping_note"} <= set(receipt)
