"""infra.kafka's client security: what kafka-python and Faust are given for each setting (no broker)."""

from __future__ import annotations

import ssl

import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from infra.kafka import client_config, faust_credentials
from infra.settings import Settings

SCRAM = {
    "kafka_bootstrap": "kafka:9092",
    "kafka_security_protocol": "SASL_PLAINTEXT",
    "kafka_sasl_mechanism": "SCRAM-SHA-512",
    "kafka_username": "intake",
    "kafka_password": "intake-secret-0001",
}


def test_plaintext_is_the_bootstrap_alone() -> None:
    settings = Settings(kafka_port=23456)
    assert client_config(settings) == {"bootstrap_servers": "127.0.0.1:23456"}
    assert faust_credentials(settings) is None
    assert credentials_to_aiokafka_auth(faust_credentials(settings)) == {"security_protocol": "PLAINTEXT"}


def test_sasl_plaintext_gives_scram_to_kafka_python() -> None:
    assert client_config(Settings(**SCRAM)) == {
        "bootstrap_servers": "kafka:9092",
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "intake",
        "sasl_plain_password": "intake-secret-0001",
    }


def test_sasl_plaintext_gives_faust_the_same_login_without_tls() -> None:
    credentials = faust_credentials(Settings(**SCRAM))
    # What Faust hands every aiokafka consumer and producer it makes.
    assert credentials_to_aiokafka_auth(credentials) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "intake",
        "sasl_plain_password": "intake-secret-0001",
        "ssl_context": None,
    }
    assert "intake-secret" not in repr(credentials)  # Faust's repr names the user only


def test_sasl_ssl_verifies_the_broker_with_the_given_ca(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(**{**SCRAM, "kafka_security_protocol": "sasl_ssl", "kafka_sasl_mechanism": "scram-sha-256"})
    config = client_config(settings)
    assert config["security_protocol"] == "SASL_SSL" and config["sasl_mechanism"] == "SCRAM-SHA-256"
    assert isinstance(config["ssl_context"], ssl.SSLContext)
    assert config["ssl_context"].verify_mode == ssl.CERT_REQUIRED and config["ssl_context"].check_hostname
    auth = credentials_to_aiokafka_auth(faust_credentials(settings))
    assert auth["security_protocol"] == "SASL_SSL" and isinstance(auth["ssl_context"], ssl.SSLContext)
    with pytest.raises(FileNotFoundError):
        client_config(settings.replace(kafka_ssl_cafile=str(tmp_path / "missing.pem")))


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"kafka_security_protocol": "SSL"}, "GRIDFLOW_KAFKA_SECURITY_PROTOCOL"),
        ({"kafka_sasl_mechanism": "GSSAPI"}, "GRIDFLOW_KAFKA_SASL_MECHANISM"),
        ({"kafka_sasl_mechanism": "PLAIN"}, "PLAIN"),  # the password in clear, outside TLS
        ({"kafka_password": ""}, "GRIDFLOW_KAFKA_PASSWORD"),
        ({"kafka_username": ""}, "GRIDFLOW_KAFKA_USERNAME"),
    ],
)
def test_a_wrong_setting_is_named(changes: dict[str, str], named: str) -> None:
    settings = Settings(**{**SCRAM, **changes})
    with pytest.raises(ValueError, match=named):
        client_config(settings)
    with pytest.raises(ValueError, match=named):
        faust_credentials(settings)


def test_the_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "GRIDFLOW_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "GRIDFLOW_KAFKA_USERNAME": "worker",
            "GRIDFLOW_KAFKA_PASSWORD": "worker-secret-0001",
            "GRIDFLOW_KAFKA_STACK_SCRAM": "1",
        }
    )
    assert settings.kafka_stack_scram is True
    assert client_config(settings)["sasl_plain_username"] == "worker"
    assert Settings.from_env({"GRIDFLOW_KAFKA_STACK_SCRAM": "0"}).kafka_stack_scram is False
