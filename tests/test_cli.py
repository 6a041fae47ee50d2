"""The `gomodel` command as an operator runs it: real processes, real signals."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gomodel.testing.fake_upstream import FakeUpstream

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The parent's environment minus anything that would register a provider by accident."""
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "PYTHONPATH", "VIRTUAL_ENV"}}
    return {**keep, "LOG_FORMAT": "json", **extra}


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gomodel", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gateway exited early: {process.stderr.read() if process.stderr else ''!r}")
        try:
            if httpx.get(url + "/health", timeout=0.5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("gateway did not become healthy")


@pytest.fixture
def gateway_process(tmp_path: Path) -> Iterator[callable]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str], *args: str) -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "gomodel", "--host", "127.0.0.1", "--port", str(port), *args],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, process)
        return process, url

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def test_no_provider_exits_with_a_clear_message(tmp_path: Path) -> None:
    result = run_cli([], clean_env(), tmp_path)

    assert result.returncode == 2
    assert "no providers configured" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_config_names_every_key_on_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "server:\n  prot: 1\nproviders:\n  x:\n    type: openai\n    base_url: not-a-url\n    api_key: k\n"
    )

    result = run_cli(
        ["--config", str(config)], clean_env(PORT="eighty", AZURE_BASE_URL="https://a.example"), tmp_path
    )

    assert result.returncode == 2
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "server.prot: unknown key" in line
    assert "PORT: expected an integer" in line
    assert "providers.x.base_url: not an http(s) URL" in line
    assert "AZURE_API_KEY: missing credential" in line
    assert "Traceback" not in line


def test_dotenv_in_working_directory_is_loaded(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=not-a-port\nOPENAI_API_KEY=k\n")

    result = run_cli([], clean_env(), tmp_path)

    assert result.returncode == 2
    assert "PORT: expected an integer" in result.stderr


def test_secrets_are_not_logged(gateway_process) -> None:
    with FakeUpstream(api_key="sk-upstream-secret-abcdef").serve() as fake:
        env = clean_env(
            OPENAI_API_KEY="sk-upstream-secret-abcdef",
            OPENAI_BASE_URL=fake.base_url,
            GOMODEL_MASTER_KEY="master-secret-value",
        )
        process, url = gateway_process(env)
        httpx.post(
            url + "/v1/chat/completions",
            json={"model": "gpt-fake", "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": "Bearer master-secret-value"},
        )
        httpx.post(
            url + "/v1/chat/completions",
            json={"model": "gpt-fake", "messages": []},
            headers={"Authorization": "Bearer sk-client-typed-wrong-key"},
        )
        process.send_signal(signal.SIGTERM)
        process.wait(15)
    logs = process.stderr.read().decode() if process.stderr else ""

    assert '"request_id"' in logs
    assert "sk-upstream-secret-abcdef" not in logs
    assert "master-secret-value" not in logs
    assert "sk-client-typed-wrong-key" not in logs


def test_access_log_and_record_lines_carry_the_request_id(gateway_process) -> None:
    with FakeUpstream().serve() as fake:
        env = clean_env(OPENAI_API_KEY="fake-key", OPENAI_BASE_URL=fake.base_url, LOG_FORMAT="json")
        process, url = gateway_process(env)
        httpx.post(
            url + "/v1/chat/completions",
            json={"model": "gpt-fake", "messages": [{"role": "user", "content": "hi"}]},
            headers={"X-Request-Id": "trace-cli-7"},
        )
        httpx.get(url + "/v1/nothing", headers={"X-Request-Id": "trace-cli-8"})
        process.send_signal(signal.SIGTERM)
        process.wait(15)
    lines = [json.loads(line) for line in (process.stderr.read() if process.stderr else b"").splitlines()]

    by_logger = {(line["logger"], line["request_id"]) for line in lines}
    assert ("gomodel.access", "trace-cli-7") in by_logger
    assert ("gomodel.requests", "trace-cli-7") in by_logger
    assert ("gomodel.access", "trace-cli-8") in by_logger


def test_sigterm_lets_an_inflight_stream_finish(gateway_process) -> None:
    with FakeUpstream(chunks=15, chunk_delay=0.1).serve() as fake:
        process, url = gateway_process(clean_env(OPENAI_API_KEY="fake-key", OPENAI_BASE_URL=fake.base_url))
        with httpx.stream(
            "POST",
            url + "/v1/chat/completions",
            json={"model": "gpt-fake", "messages": [{"role": "user", "content": "hi"}], "stream": True},
            timeout=20,
        ) as response:
            lines = response.iter_lines()
            first = next(lines)
            process.send_signal(signal.SIGTERM)
            rest = [line for line in lines if line]
            time.sleep(0.2)
            with pytest.raises(httpx.TransportError):
                httpx.get(url + "/health", timeout=1)

        assert first.startswith("data: ")
        assert rest[-1] == "data: [DONE]"
        assert sum("tok" in line for line in [first, *rest]) == 15
        assert process.wait(15) == 0


def test_workers_share_the_port(gateway_process) -> None:
    with FakeUpstream().serve() as fake:
        process, url = gateway_process(
            clean_env(OPENAI_API_KEY="fake-key", OPENAI_BASE_URL=fake.base_url), "--workers", "2"
        )
        answers = [
            httpx.post(
                url + "/v1/chat/completions",
                json={"model": "gpt-fake", "messages": [{"role": "user", "content": "hi"}]},
                timeout=10,
            ).status_code
            for _ in range(10)
        ]
        process.send_signal(signal.SIGTERM)

        assert answers == [200] * 10
        assert process.wait(20) == 0
