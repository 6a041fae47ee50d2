"""The fake Gemini is only useful if it refuses what Google refuses: its strictness, checked directly."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from gomodel.testing.fake_gemini import TEST_API_KEY, FakeGemini

USER = {"role": "user", "parts": [{"text": "hi"}]}


def _post(fake: FakeGemini, path: str, payload: Any, *, key: str | None = TEST_API_KEY) -> httpx.Response:
    headers = {"x-goog-api-key": key} if key else {}
    return httpx.post(fake.ai_studio_url + path, json=payload, headers=headers, timeout=10)


def _generate(fake: FakeGemini, payload: Any, model: str = "gemini-2.5-flash") -> httpx.Response:
    return _post(fake, f"/models/{model}:generateContent", payload)


def _message(response: httpx.Response) -> str:
    return str(response.json()["error"]["message"])


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"contents": [USER], "temperatur": 1}, 'Unknown name "temperatur"'),
        ({"contents": []}, "contents is not specified"),
        ({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}, "valid role: user, model"),
        ({"contents": [{"role": "user", "parts": [{"text": ""}]}]}, "empty text parameter"),
        ({"contents": [{"role": "user", "parts": []}]}, "must not be empty"),
        ({"contents": [{"role": "user", "parts": [{"text": "a", "inlineData": {}}]}]}, "exactly one"),
        ({"contents": [USER], "generationConfig": {"candidate_count": 1}}, 'Unknown name "candidate_count"'),
        ({"contents": [USER], "generationConfig": {"responseJsonSchema": {}}}, "application/json"),
        (
            {
                "contents": [USER],
                "generationConfig": {"thinkingConfig": {"thinkingBudget": 1, "thinkingLevel": "LOW"}},
            },
            "only one of thinking budget and thinking level",
        ),
        (
            {
                "contents": [USER],
                "tools": [{"functionDeclarations": [{"name": "f"}]}],
                "toolConfig": {"functionCallingConfig": {"mode": "AUTO", "allowedFunctionNames": ["f"]}},
            },
            "only when mode is ANY",
        ),
        (
            {
                "contents": [
                    USER,
                    {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}] * 2},
                    {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]},
                ]
            },
            "number of function response parts is equal",
        ),
        (
            {
                "contents": [
                    USER,
                    {
                        "role": "model",
                        "parts": [{"functionCall": {"name": "f"}, "thoughtSignature": "not base64!"}],
                    },
                ]
            },
            "Base64 decoding failed",
        ),
    ],
)
def test_invalid_requests_are_refused_like_google_does(
    fake_gemini: FakeGemini, payload: Any, message: str
) -> None:
    response = _generate(fake_gemini, payload)
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert message in _message(response)


def test_gemini_3_wants_thought_signatures_on_replayed_calls(fake_gemini: FakeGemini) -> None:
    history = [
        USER,
        {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"output": 1}}}]},
    ]
    refused = _generate(fake_gemini, {"contents": history}, "gemini-3-pro-preview")
    assert refused.status_code == 400
    assert "missing a thought_signature" in _message(refused)
    history[1]["parts"][0]["thoughtSignature"] = "skip_thought_signature_validator"
    assert _generate(fake_gemini, {"contents": history}, "gemini-3-pro-preview").status_code == 200
    assert _generate(fake_gemini, {"contents": history[:1]}, "gemini-2.0-flash").status_code == 200


def test_thinking_is_refused_by_models_that_cannot_think(fake_gemini: FakeGemini) -> None:
    payload = {"contents": [USER], "generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}}
    assert _generate(fake_gemini, payload, "gemini-2.0-flash").status_code == 400


def test_api_key_checks(fake_gemini: FakeGemini) -> None:
    missing = _post(fake_gemini, "/models/gemini-2.5-flash:generateContent", {"contents": [USER]}, key=None)
    assert (missing.status_code, missing.json()["error"]["status"]) == (403, "PERMISSION_DENIED")
    wrong = _post(fake_gemini, "/models/gemini-2.5-flash:generateContent", {"contents": [USER]}, key="nope")
    assert wrong.status_code == 400
    assert wrong.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"


def test_unknown_models_and_methods(fake_gemini: FakeGemini) -> None:
    unknown = _generate(fake_gemini, {"contents": [USER]}, "gemini-9")
    assert unknown.status_code == 404
    assert "models/gemini-9 is not found" in _message(unknown)
    not_embedding = _post(fake_gemini, "/models/gemini-2.5-flash:batchEmbedContents", {"requests": []})
    assert not_embedding.status_code == 404
    assert "not supported for batchEmbedContents" in _message(not_embedding)
    assert httpx.get(fake_gemini.origin + "/nowhere", timeout=10).status_code == 404


def test_stream_without_alt_sse_is_one_json_array(fake_gemini: FakeGemini) -> None:
    response = _post(fake_gemini, "/models/gemini-2.5-flash:streamGenerateContent", {"contents": [USER]})
    chunks = orjson.loads(response.content)
    assert isinstance(chunks, list)
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


def test_batch_embedding_limits(fake_gemini: FakeGemini) -> None:
    def request(model: str = "models/gemini-embedding-001") -> dict[str, Any]:
        return {"model": model, "content": {"parts": [{"text": "x"}]}}

    path = "/models/gemini-embedding-001:batchEmbedContents"
    assert _post(fake_gemini, path, {"requests": [request()] * 100}).status_code == 200
    assert "at most 100" in _message(_post(fake_gemini, path, {"requests": [request()] * 101}))
    assert "as in the URL" in _message(_post(fake_gemini, path, {"requests": [request("models/other")]}))


def test_vertex_requires_an_issued_token_and_a_quota_project(fake_gemini: FakeGemini) -> None:
    url = (
        f"{fake_gemini.vertex_root}/projects/{fake_gemini.project}/locations/{fake_gemini.location}"
        "/publishers/google/models/gemini-2.5-flash:generateContent"
    )
    refused = httpx.post(
        url, json={"contents": [USER]}, headers={"Authorization": "Bearer made-up"}, timeout=10
    )
    assert (refused.status_code, refused.json()["error"]["status"]) == (401, "UNAUTHENTICATED")
    fake_gemini.issued["ya29.test"] = float("inf")
    bearer = {"Authorization": "Bearer ya29.test"}
    assert httpx.post(url, json={"contents": [USER]}, headers=bearer, timeout=10).status_code == 200
    listing = fake_gemini.origin + "/v1beta1/publishers/google/models"
    assert httpx.get(listing, headers=bearer, timeout=10).status_code == 403
    quota = {**bearer, "x-goog-user-project": "p"}
    assert httpx.get(listing, headers=quota, timeout=10).status_code == 200


def test_vertex_embedding_methods_per_model(fake_gemini: FakeGemini) -> None:
    fake_gemini.issued["ya29.test"] = float("inf")
    base = (
        f"{fake_gemini.vertex_root}/projects/{fake_gemini.project}/locations/{fake_gemini.location}"
        "/publishers/google/models"
    )
    bearer = {"Authorization": "Bearer ya29.test"}
    two = {"instances": [{"content": "a"}, {"content": "b"}]}
    assert (
        httpx.post(f"{base}/text-embedding-005:predict", json=two, headers=bearer, timeout=10).status_code
        == 200
    )
    assert (
        httpx.post(f"{base}/gemini-embedding-001:predict", json=two, headers=bearer, timeout=10).status_code
        == 400
    )
    content = {"content": {"parts": [{"text": "a"}]}}
    url = f"{base}/gemini-embedding-2-preview"
    assert httpx.post(f"{url}:embedContent", json=content, headers=bearer, timeout=10).status_code == 200
    assert httpx.post(f"{url}:predict", json=two, headers=bearer, timeout=10).status_code == 400


def test_token_endpoint_refuses_other_grants(fake_gemini: FakeGemini) -> None:
    response = httpx.post(
        fake_gemini.token_uri, data={"grant_type": "password", "assertion": "x"}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert fake_gemini.token_grants == []
