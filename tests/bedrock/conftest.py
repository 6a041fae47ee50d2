"""Bedrock fixtures: the fake Bedrock on a real socket and an AWS environment pointing at its credentials.

botocore reads the process environment, so every test starts from a clean one: no profile, no shared
files, no instance metadata lookups, nothing from the machine running the tests.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gomodel.testing.fake_bedrock import (
    TEST_ACCESS_KEY,
    TEST_REGION,
    TEST_SECRET_KEY,
    FakeBedrock,
)

_AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


@pytest.fixture
def clean_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No AWS configuration at all; returns ``monkeypatch`` for the test to add its own."""
    for name in _AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


@pytest.fixture
def aws_env(clean_aws: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The fake's test credentials and region in the environment, as an operator would set them."""
    clean_aws.setenv("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY)
    clean_aws.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET_KEY)
    clean_aws.setenv("AWS_REGION", TEST_REGION)
    return clean_aws


@pytest.fixture
def make_bedrock() -> Iterator[Callable[..., FakeBedrock]]:
    """``make_bedrock(**FakeBedrock kwargs)`` -> a running fake, stopped after the test."""
    with contextlib.ExitStack() as stack:

        def factory(**kwargs: Any) -> FakeBedrock:
            return stack.enter_context(FakeBedrock(**kwargs).serve())

        yield factory


@pytest.fixture
def bedrock(make_bedrock: Callable[..., FakeBedrock]) -> FakeBedrock:
    return make_bedrock()
