"""Vertex fixtures: a service account whose ``token_uri`` is the fake's token endpoint, and the fake itself.

google-auth reads Application Default Credentials from the process environment, so every test gets
its own: ``GOOGLE_APPLICATION_CREDENTIALS`` names a service-account file written here, gcloud's own
configuration directory is an empty one, and the metadata server is out of reach. The real
JWT-bearer grant then runs against the fake, which checks the signature with the account's key.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gomodel.testing.fake_gemini import DEFAULT_MODELS, FakeGemini, service_account_json
from gomodel.testing.fake_gemini_wire import FAULT_MODES
from tests.harness import MASTER_KEY, Gateway

WriteAccount = Callable[[rsa.RSAPrivateKey, str], Path]
VertexEnv = Callable[..., dict[str, str]]


@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def isolated_adc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No Google configuration from the machine running the tests."""
    for name in (
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_CLOUD_PROJECT",
        "GCLOUD_PROJECT",
        "CLOUDSDK_CORE_PROJECT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    return monkeypatch


@pytest.fixture
def write_service_account(tmp_path: Path) -> WriteAccount:
    """``write_service_account(key, token_uri)`` -> the path of a new service-account key file."""
    numbers = itertools.count()

    def write(key: rsa.RSAPrivateKey, token_uri: str) -> Path:
        private = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path = tmp_path / f"service-account-{next(numbers)}.json"
        path.write_text(service_account_json(private.decode(), token_uri))
        return path

    return write


@pytest.fixture
def make_fake_vertex(
    signing_key: rsa.RSAPrivateKey, isolated_adc: pytest.MonkeyPatch, write_service_account: WriteAccount
) -> Iterator[Callable[..., FakeGemini]]:
    """``make_fake_vertex(**FakeGemini kwargs)``: a running fake; ADC points at its token endpoint."""
    public = signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with contextlib.ExitStack() as stack:

        def factory(**kwargs: Any) -> FakeGemini:
            kwargs.setdefault("models", (*DEFAULT_MODELS, *sorted(FAULT_MODES)))
            kwargs.setdefault("public_key_pem", public)
            fake = stack.enter_context(FakeGemini(**kwargs).serve())
            isolated_adc.setenv(
                "GOOGLE_APPLICATION_CREDENTIALS", str(write_service_account(signing_key, fake.token_uri))
            )
            return fake

        yield factory


@pytest.fixture
def fake_vertex(make_fake_vertex: Callable[..., FakeGemini]) -> FakeGemini:
    return make_fake_vertex()


@pytest.fixture
def vertex_env() -> VertexEnv:
    """``vertex_env(fake, **more variables)``: the environment of a gateway with one Vertex provider."""

    def env(fake: FakeGemini, **extra: str) -> dict[str, str]:
        return {
            "VERTEX_PROJECT": fake.project,
            "VERTEX_LOCATION": fake.location,
            "VERTEX_BASE_URL": fake.vertex_root,
            "GOMODEL_MASTER_KEY": MASTER_KEY,
            **extra,
        }

    return env


@pytest.fixture
def vertex_gateway(
    make_gateway: Callable[..., Gateway], fake_vertex: FakeGemini, vertex_env: VertexEnv
) -> Gateway:
    return make_gateway(vertex_env(fake_vertex))
