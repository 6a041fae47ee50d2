"""VertexProvider configuration: endpoint roots per location, API modes and accepted auth types."""

from __future__ import annotations

import pytest

from gomodel.config.errors import ConfigError
from gomodel.config.schema import HTTPConfig, ProviderConfig
from gomodel.providers.specs import SPECS
from gomodel.providers.vertex import VertexProvider, vertex_root


def _provider(location: str = "us-central1", **fields: object) -> VertexProvider:
    options = {"project": "proj", "location": location}
    extra = fields.pop("options", {})
    assert isinstance(extra, dict)
    config = ProviderConfig(name="vertex", type="vertex", options={**options, **extra}, **fields)
    provider = VertexProvider(config, SPECS["vertex"], HTTPConfig())

    async def token() -> str:
        return "ya29.test"

    provider.tokens.token = token
    return provider


@pytest.mark.parametrize(
    ("location", "root"),
    [
        ("us-central1", "https://us-central1-aiplatform.googleapis.com/v1"),
        ("europe-west4", "https://europe-west4-aiplatform.googleapis.com/v1"),
        ("global", "https://aiplatform.googleapis.com/v1"),
    ],
)
def test_default_roots(location: str, root: str) -> None:
    assert vertex_root(location) == root


async def test_openai_compatible_mode_relays_to_the_openapi_endpoint() -> None:
    provider = _provider("global", api_mode="openai_compatible")
    assert provider.dialect_for("google/gemini-2.5-flash") == "openai_chat"
    url, headers = await provider.relay_target("/chat/completions", "google/gemini-2.5-flash")
    assert (
        url
        == "https://aiplatform.googleapis.com/v1/projects/proj/locations/global/endpoints/openapi/chat/completions"
    )
    assert headers["Authorization"] == "Bearer ya29.test"


async def test_native_mode_and_custom_root() -> None:
    provider = _provider(base_url="https://proxy.example.com/v1/", headers={"X-Team": "ml"})
    assert provider.dialect_for("gemini-2.5-flash") == "gemini"
    url, headers = await provider.relay_target("/publishers/google/models/x:countTokens", "x")
    assert (
        url
        == "https://proxy.example.com/v1/projects/proj/locations/us-central1/publishers/google/models/x:countTokens"
    )
    assert headers["X-Team"] == "ml"


@pytest.mark.parametrize("auth_type", ["gcp_adc", "adc", ""])
def test_adc_auth_types_are_accepted(auth_type: str) -> None:
    _provider(options={"auth_type": auth_type})


def test_other_auth_types_are_configuration_errors() -> None:
    with pytest.raises(ConfigError) as caught:
        _provider(options={"auth_type": "api_key"})
    assert caught.value.problems == [
        "providers.vertex.options.auth_type: 'api_key' is not supported (supported: gcp_adc)"
    ]
