"""GoogleTokenSource against the fake token endpoint: google-auth's real JWT-bearer flow, off the loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from gomodel.core.errors import UpstreamError
from gomodel.providers.google_auth import CLOUD_PLATFORM_SCOPE, GoogleTokenSource
from gomodel.testing.fake_gemini import TEST_CLIENT_EMAIL, FakeGemini

WriteAccount = Callable[[rsa.RSAPrivateKey, str], Path]


async def test_the_jwt_bearer_grant_reaches_the_token_endpoint(fake_vertex: FakeGemini) -> None:
    source = GoogleTokenSource("vertex")
    assert await source.token() == "ya29.fake-1"
    (claims,) = fake_vertex.token_grants
    assert claims["iss"] == TEST_CLIENT_EMAIL
    assert claims["aud"] == "https://oauth2.googleapis.com/token"
    assert claims["scope"] == CLOUD_PLATFORM_SCOPE
    assert source.quota_project is None  # a service account names no quota project of its own


async def test_a_fresh_token_is_reused(fake_vertex: FakeGemini) -> None:
    source = GoogleTokenSource("vertex")
    tokens = [await source.token() for _ in range(5)]
    assert tokens == ["ya29.fake-1"] * 5
    assert len(fake_vertex.token_grants) == 1


async def test_tokens_are_renewed_ahead_of_expiry(make_fake_vertex: Callable[..., FakeGemini]) -> None:
    fake = make_fake_vertex(token_lifetime=2)
    source = GoogleTokenSource("vertex", refresh_margin=1.5)
    first = await source.token()
    assert await source.token() == first  # still more than the margin away from expiry
    await asyncio.sleep(0.6)
    second = await source.token()
    assert second != first
    assert len(fake.token_grants) == 2


async def test_tokens_inside_the_default_margin_are_renewed_every_time(
    make_fake_vertex: Callable[..., FakeGemini],
) -> None:
    fake = make_fake_vertex(token_lifetime=60)  # under the 5 minute margin
    source = GoogleTokenSource("vertex")
    assert [await source.token() for _ in range(3)] == ["ya29.fake-1", "ya29.fake-2", "ya29.fake-3"]
    assert len(fake.token_grants) == 3


async def test_concurrent_callers_share_one_refresh_and_the_loop_keeps_running(
    make_fake_vertex: Callable[..., FakeGemini],
) -> None:
    fake = make_fake_vertex(token_delay=0.4)
    source = GoogleTokenSource("vertex")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    started = time.monotonic()
    try:
        tokens = await asyncio.gather(*(source.token() for _ in range(10)))
    finally:
        ticking.cancel()
    assert tokens == ["ya29.fake-1"] * 10
    assert len(fake.token_grants) == 1
    # The grant takes at least 0.4 s; a loop blocked by it would not tick at all meanwhile. The bound is
    # loose on purpose: on a loaded 2-core CI machine a 10 ms sleep can take several times as long.
    assert time.monotonic() - started >= 0.4
    assert ticks >= 10


async def test_missing_credentials_are_an_upstream_error(
    isolated_adc: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    isolated_adc.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(UpstreamError) as caught:
        await GoogleTokenSource("vertex").token()
    assert (caught.value.status, caught.value.code) == (502, "upstream_credentials")
    assert "missing.json" in caught.value.message


async def test_a_rejected_grant_is_an_upstream_error_without_secrets(
    fake_vertex: FakeGemini, isolated_adc: pytest.MonkeyPatch, write_service_account: WriteAccount
) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    account = write_service_account(other_key, fake_vertex.token_uri)
    isolated_adc.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(account))
    with pytest.raises(UpstreamError) as caught:
        await GoogleTokenSource("vertex").token()
    assert caught.value.code == "upstream_credentials"
    assert "Invalid JWT Signature" in caught.value.message
    assert "PRIVATE KEY" not in caught.value.message
    assert fake_vertex.token_grants == []


async def test_an_unreachable_token_endpoint_is_an_upstream_error(
    signing_key: rsa.RSAPrivateKey, isolated_adc: pytest.MonkeyPatch, write_service_account: WriteAccount
) -> None:
    account = write_service_account(signing_key, "http://127.0.0.1:9/token")
    isolated_adc.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(account))
    with pytest.raises(UpstreamError) as caught:
        await GoogleTokenSource("vertex").token()
    assert caught.value.code == "upstream_credentials"
