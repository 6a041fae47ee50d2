"""The wire side of the fake Bedrock (`gomodel.testing.fake_bedrock`): event-stream frames, request
validation against botocore's service model plus Converse's own rules, and the deterministic replies.

botocore can only decode event-stream frames, so `encode_frame` writes them: a prelude (total and
header lengths, CRC32 of both), string headers, the payload and a CRC32 of everything before it.
"""

from __future__ import annotations

import base64
import re
import struct
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import orjson
from botocore.model import Shape
from botocore.session import get_session

__all__ = [
    "JSON_REPLY",
    "REASONING_TEXT",
    "REPLY_TEXT",
    "SIGNATURE",
    "TOOL_INPUT",
    "TOOL_PREAMBLE",
    "AwsError",
    "ShapeValidator",
    "converse_rules",
    "encode_frame",
    "event_frame",
    "exception_frame",
    "invalid",
    "plan_reply",
]

REPLY_TEXT = ("Hello", " from", " Bedrock", " 👋", " — naïve", " café", ".")
REASONING_TEXT = ("Let me", " think", " 🤔…")
TOOL_PREAMBLE = "Let me check."
TOOL_INPUT = {"location": "Zürich 🇨🇭", "unit": "celsius", "days": 3}
JSON_REPLY = ("{", '"ok": ', "true}")
SIGNATURE = "ErcBCkgIAhABGAIiQFAKESIGNATURE=="
# Real events carry a random-length pad against length side channels; the decoder must ignore it.
_PAD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
_DOCUMENT_NAME = re.compile(r"^(?!.*\s\s)[A-Za-z0-9\s\-()\[\]]+$")


# --- event-stream frames (botocore only decodes them) --------------------------------------------


def encode_frame(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude (lengths + CRC), string headers, payload, message CRC."""
    encoded = b"".join(
        struct.pack("B", len(name))
        + name.encode()
        + struct.pack(">BH", 7, len(value.encode()))
        + value.encode()
        for name, value in headers.items()
    )
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


def event_frame(event_type: str, payload: Mapping[str, Any]) -> bytes:
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return encode_frame(headers, orjson.dumps({**payload, "p": _PAD[: 4 + len(event_type) % 20]}))


def exception_frame(exception_type: str, message: str) -> bytes:
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_frame(headers, orjson.dumps({"message": message}))


# --- errors and validation -----------------------------------------------------------------------


class AwsError(Exception):
    def __init__(
        self, status: int, kind: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message
        self.headers = dict(headers or {})


def invalid(message: str) -> AwsError:
    return AwsError(400, "ValidationException", message)


class ShapeValidator:
    """Checks JSON against botocore's shapes of bedrock-runtime, worded like AWS's validation errors."""

    def __init__(self) -> None:
        self._model = get_session().get_service_model("bedrock-runtime")

    def check(self, operation: str, body: Any) -> None:
        problems: list[str] = []
        self._walk(self._model.operation_model(operation).input_shape, body, "", problems)
        if problems:
            count = len(problems)
            raise invalid(
                f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(problems)
            )

    def _walk(self, shape: Shape, value: Any, path: str, problems: list[str]) -> None:
        kind, meta = shape.type_name, shape.metadata
        here = path or "body"
        if kind == "structure":
            if getattr(shape, "is_document_type", False):
                return
            if not isinstance(value, dict):
                problems.append(f"Value at '{here}' failed to satisfy constraint: Member must be an object")
                return
            members = {n: s for n, s in shape.members.items() if "location" not in s.serialization}
            for name in value.keys() - members.keys():
                problems.append(f"Unknown field '{name}' at '{here}' is not permitted")
            for name in shape.required_members:
                if name in members and value.get(name) is None:
                    problems.append(
                        f"Value null at '{_join(path, name)}' failed to satisfy constraint: "
                        "Member must not be null"
                    )
            if meta.get("union") and len([k for k in value if k in members]) != 1:
                problems.append(
                    f"Value at '{here}' failed to satisfy constraint: exactly one member must be set"
                )
            for name, item in value.items():
                if name in members and item is not None:
                    self._walk(members[name], item, _join(path, name), problems)
        elif kind == "list":
            if not isinstance(value, list):
                problems.append(f"Value at '{here}' failed to satisfy constraint: Member must be a list")
                return
            self._bounds(len(value), meta, here, "length", problems)
            for i, item in enumerate(value):
                self._walk(shape.member, item, f"{path}.{i + 1}.member", problems)
        elif kind == "string":
            if not isinstance(value, str):
                problems.append(f"Value at '{here}' failed to satisfy constraint: Member must be a string")
            elif "enum" in meta and value not in meta["enum"]:
                allowed = ", ".join(meta["enum"])
                problems.append(
                    f"Value '{value}' at '{here}' failed to satisfy constraint: "
                    f"Member must satisfy enum value set: [{allowed}]"
                )
            else:
                self._bounds(len(value), meta, here, "length", problems)
                if "pattern" in meta and not re.fullmatch(meta["pattern"], value):
                    problems.append(
                        f"Value '{value}' at '{here}' failed to satisfy constraint: "
                        f"Member must satisfy regular expression pattern: {meta['pattern']}"
                    )
        elif kind in ("integer", "long", "float", "double"):
            number = int if kind in ("integer", "long") else (int, float)
            if isinstance(value, bool) or not isinstance(value, number):
                problems.append(f"Value at '{here}' failed to satisfy constraint: Member must be a {kind}")
            else:
                self._bounds(value, meta, here, "value", problems)
        elif kind == "boolean" and not isinstance(value, bool):
            problems.append(f"Value at '{here}' failed to satisfy constraint: Member must be a boolean")
        elif kind == "blob":
            try:
                size = len(base64.b64decode(value, validate=True))
            except (TypeError, ValueError):
                problems.append(f"Value at '{here}' failed to satisfy constraint: Member must be base64 data")
            else:
                self._bounds(size, meta, here, "length", problems)

    @staticmethod
    def _bounds(amount: float, meta: Mapping[str, Any], here: str, what: str, problems: list[str]) -> None:
        if "min" in meta and amount < meta["min"]:
            problems.append(
                f"Value at '{here}' failed to satisfy constraint: Member must have {what} "
                f"greater than or equal to {meta['min']}"
            )
        if "max" in meta and amount > meta["max"]:
            problems.append(
                f"Value at '{here}' failed to satisfy constraint: Member must have {what} "
                f"less than or equal to {meta['max']}"
            )


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def converse_rules(body: dict[str, Any]) -> None:
    """What Converse checks beyond the shapes, with its own wording."""
    messages = body.get("messages") or []
    if not messages or messages[0]["role"] != "user":
        raise invalid(
            "A conversation must start with a user message. Try again with a conversation that "
            "starts with a user message."
        )
    tool_names = {
        t["toolSpec"]["name"] for t in body.get("toolConfig", {}).get("tools", []) if "toolSpec" in t
    }
    pending: set[str] = set()
    for i, message in enumerate(messages):
        if i and message["role"] == messages[i - 1]["role"]:
            raise invalid(
                "A conversation must alternate between user and assistant roles. Make sure the "
                "conversation alternates between user and assistant roles and try again."
            )
        answered = {b["toolResult"]["toolUseId"] for b in message["content"] if "toolResult" in b}
        if (message["role"] == "user" and pending - answered) or answered - pending:
            raise invalid(
                f"Expected toolResult blocks at messages.{i}.content for the following Ids: "
                f"{', '.join(sorted(pending))}; got {', '.join(sorted(answered)) or 'none'}"
            )
        pending = {b["toolUse"]["toolUseId"] for b in message["content"] if "toolUse" in b}
        for j, block in enumerate(message["content"]):
            if "text" in block and not block["text"].strip():
                raise invalid(
                    f"The text field in the ContentBlock object at messages.{i}.content.{j} is blank. "
                    "Add text to the text field, and try again."
                )
            if ("toolUse" in block or "toolResult" in block) and "toolConfig" not in body:
                raise invalid(
                    "The toolConfig field must be defined when using toolUse and toolResult content blocks."
                )
            if "document" in block and not _DOCUMENT_NAME.match(block["document"]["name"]):
                raise invalid(
                    "The document file name can only contain alphanumeric characters, whitespace "
                    "characters, hyphens, parentheses, and square brackets. The name can't contain "
                    "more than one consecutive whitespace character."
                )
    forced = body.get("toolConfig", {}).get("toolChoice", {}).get("tool", {}).get("name")
    if forced is not None and forced not in tool_names:
        raise invalid(f"The tool {forced} named in toolChoice is not defined in toolConfig.tools.")
    schema = body.get("outputConfig", {}).get("textFormat", {}).get("structure", {}).get("jsonSchema")
    if schema is not None:
        try:
            orjson.loads(schema["schema"])
        except orjson.JSONDecodeError:
            raise invalid("The JSON schema in outputConfig is not valid JSON.") from None


# --- replies -------------------------------------------------------------------------------------


@attrs.frozen
class Reply:
    reasoning: tuple[str, ...]
    text: tuple[str, ...]
    #: (toolUseId, name, input JSON text)
    calls: tuple[tuple[str, str, str], ...]
    stop_reason: str
    usage: dict[str, int]

    def message(self) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if self.reasoning:
            content.append(
                {
                    "reasoningContent": {
                        "reasoningText": {"text": "".join(self.reasoning), "signature": SIGNATURE}
                    }
                }
            )
        if self.text:
            content.append({"text": "".join(self.text)})
        content.extend(
            {"toolUse": {"toolUseId": i, "name": n, "input": orjson.loads(a)}} for i, n, a in self.calls
        )
        return {"role": "assistant", "content": content}

    def frames(self, latency_ms: int) -> Iterator[bytes]:
        """The ConverseStream frames, in the order Bedrock sends them."""
        yield event_frame("messageStart", {"role": "assistant"})
        block = 0
        if self.reasoning:
            for piece in self.reasoning:
                yield _delta(block, {"reasoningContent": {"text": piece}})
            yield _delta(block, {"reasoningContent": {"signature": SIGNATURE}})
            yield event_frame("contentBlockStop", {"contentBlockIndex": block})
            block += 1
        if self.text:
            for piece in self.text:
                yield _delta(block, {"text": piece})
            yield event_frame("contentBlockStop", {"contentBlockIndex": block})
            block += 1
        for call_id, name, arguments in self.calls:
            start = {"toolUse": {"toolUseId": call_id, "name": name}}
            yield event_frame("contentBlockStart", {"contentBlockIndex": block, "start": start})
            for k in range(0, len(arguments), 6):
                yield _delta(block, {"toolUse": {"input": arguments[k : k + 6]}})
            yield event_frame("contentBlockStop", {"contentBlockIndex": block})
            block += 1
        yield event_frame("messageStop", {"stopReason": self.stop_reason})
        yield event_frame("metadata", {"usage": self.usage, "metrics": {"latencyMs": latency_ms}})


def _delta(block: int, delta: dict[str, Any]) -> bytes:
    return event_frame("contentBlockDelta", {"contentBlockIndex": block, "delta": delta})


def plan_reply(body: dict[str, Any], call_ids: Iterator[int], cache: tuple[int, int]) -> Reply:
    last = body["messages"][-1]
    said = " ".join(b["text"] for b in last["content"] if "text" in b)
    results = [b["toolResult"] for b in last["content"] if "toolResult" in b]
    tools = [t["toolSpec"]["name"] for t in body.get("toolConfig", {}).get("tools", []) if "toolSpec" in t]
    calls: tuple[tuple[str, str, str], ...] = ()
    if results:
        text: tuple[str, ...] = (
            "Tool",
            " said:",
            *(f" {c.get('text', '')}" for r in results for c in r["content"]),
        )
    elif tools and last["role"] == "user":
        forced = body["toolConfig"].get("toolChoice", {}).get("tool", {}).get("name")
        names = [forced] if forced else [t for t in tools if t in said] or tools[:1]
        arguments = orjson.dumps(TOOL_INPUT).decode()
        calls = tuple((f"tooluse_fake{next(call_ids):06d}", name, arguments) for name in names)
        text = (TOOL_PREAMBLE,)
    else:
        text = JSON_REPLY if "outputConfig" in body else REPLY_TEXT
    fields = body.get("additionalModelRequestFields") or {}
    thinking = fields.get("thinking", {}).get("type") in ("enabled", "adaptive")
    reasoning = REASONING_TEXT if thinking else ()
    stop = "tool_use" if calls else "end_turn"
    limit = body.get("inferenceConfig", {}).get("maxTokens")
    if limit is not None and len(reasoning) + len(text) > limit:
        text, calls, stop = text[: max(0, limit - len(reasoning))], (), "max_tokens"
    words = orjson.dumps([body.get("system", []), body["messages"]]).decode().split()
    output = len(reasoning) + len(text) + len(calls)
    read, write = cache
    usage = {
        "inputTokens": len(words),
        "outputTokens": output,
        "totalTokens": len(words) + read + write + output,
    }
    if read or write:
        usage |= {"cacheReadInputTokens": read, "cacheWriteInputTokens": write}
    return Reply(reasoning, text, calls, stop, usage)
