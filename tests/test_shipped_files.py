"""The files an operator copies (config example, env template, deploy manifests) agree with the code."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from gomodel.config import load
from gomodel.config.env import ENV_SETTINGS

ROOT = Path(__file__).resolve().parent.parent


def test_config_example_loads() -> None:
    env = {"GOMODEL_MASTER_KEY": "m", "OPENAI_API_KEY": "a", "OPENAI_EAST_API_KEY": "b", "AZURE_API_KEY": "c"}

    config = load(str(ROOT / "config.yaml.example"), env)

    assert [p.name for p in config.providers] == ["openai", "openai-east", "azure", "local"]
    assert config.server.master_key == "m"


def test_env_template_mentions_every_setting() -> None:
    template = (ROOT / ".env.template").read_text()
    names = set(re.findall(r"^# ([A-Z][A-Z0-9_]+)=", template, re.MULTILINE))

    assert set(ENV_SETTINGS) <= names


def test_kubernetes_probes_hit_real_routes() -> None:
    docs = list(yaml.safe_load_all((ROOT / "deploy/kubernetes/gomodel.yaml").read_text()))
    container = docs[0]["spec"]["template"]["spec"]["containers"][0]

    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert docs[0]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > 30
