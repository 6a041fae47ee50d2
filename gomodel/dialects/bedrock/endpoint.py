"""Where a Bedrock provider sends its requests, and which region it signs them for.

``BEDROCK_BASE_URL`` is either a bare region (``us-east-1``) or an endpoint URL. For AWS hosts the
region is the label after ``bedrock-runtime`` (``bedrock-runtime.us-west-2.amazonaws.com``,
``vpce-1.bedrock-runtime.eu-west-1.vpce.amazonaws.com``); any other host (a proxy, a test server) gets
it from ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` or, failing those, the AWS profile.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal
from urllib.parse import quote, urlsplit

import attrs

__all__ = ["Endpoint", "model_path", "resolve_endpoint"]

Action = Literal["converse", "converse-stream", "invoke"]

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_RUNTIME_LABELS = ("bedrock-runtime", "bedrock-runtime-fips")


@attrs.frozen(slots=True)
class Endpoint:
    #: Bedrock Runtime (Converse, InvokeModel), without a trailing slash.
    runtime: str
    #: Bedrock control plane (ListFoundationModels); the runtime origin itself for non-AWS hosts.
    control: str
    #: None when neither the URL nor the environment names one (the AWS profile may still).
    region: str | None


def resolve_endpoint(base_url: str | None, env: Mapping[str, str]) -> Endpoint:
    """The endpoint for ``BEDROCK_BASE_URL`` (region or URL); ``env`` supplies the fallback region."""
    fallback = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None
    value = (base_url or "").strip().rstrip("/")
    if _REGION.match(value):
        return Endpoint(
            runtime=f"https://bedrock-runtime.{value}.{_dns_suffix(value)}",
            control=f"https://bedrock.{value}.{_dns_suffix(value)}",
            region=value,
        )
    if not value:
        if fallback is None:
            raise ValueError("Bedrock needs a region: set BEDROCK_BASE_URL or AWS_REGION")
        return resolve_endpoint(fallback, {})
    parts = urlsplit(value)
    labels = (parts.hostname or "").split(".")
    region = None
    control = value
    for i, label in enumerate(labels[:-1]):
        if label in _RUNTIME_LABELS and _REGION.match(labels[i + 1]):
            region = labels[i + 1]
            if i == 0:  # the public endpoint; a VPC endpoint's control plane is another endpoint
                host = ".".join([label.replace("-runtime", "", 1), *labels[1:]])
                port = f":{parts.port}" if parts.port else ""
                control = f"{parts.scheme}://{host}{port}"
            break
    return Endpoint(runtime=value, control=control, region=region or fallback)


def _dns_suffix(region: str) -> str:
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def model_path(model_id: str, action: Action) -> str:
    """``/model/{id}/{action}``; the id is escaped whole, since ARNs and profile ids hold ``:`` and ``/``."""
    return f"/model/{quote(model_id, safe='')}/{action}"
