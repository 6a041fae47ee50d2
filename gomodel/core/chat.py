"""Wire-neutral chat: the request, the complete answer, and the events of a streamed answer.

Every dialect translates to and from these types, so any ingress dialect can reach any provider
dialect through one pair of functions each. The vocabulary follows OpenAI chat completions where a
choice had to be made (roles, finish reasons), because that is the gateway's main API; fields a
dialect cannot express are dropped by that dialect's encoder, never here.

Stream events, in the order a decoder emits them::

    StreamStart (once) -> ( TextDelta | ReasoningDelta | ToolCallStart ToolCallDelta* )*
                       -> Finish (once) -> UsageReport (at most once) ; StreamFailed ends a stream early

where a `TextRun` (a `TextDelta` subclass) stands for several consecutive TextDeltas.
"""

from __future__ import annotations

import base64
from typing import Any, Literal

import attrs

from gomodel.core.errors import GatewayError
from gomodel.core.records import Usage

__all__ = [
    "AudioPart",
    "ChatRequest",
    "ChatResponse",
    "DocumentPart",
    "EmbeddingsRequest",
    "EmbeddingsResponse",
    "EventBatch",
    "Finish",
    "FinishReason",
    "ImagePart",
    "LastBatch",
    "Message",
    "Part",
    "ReasoningDelta",
    "ResponseFormat",
    "Role",
    "StreamEvent",
    "StreamFailed",
    "StreamStart",
    "TextDelta",
    "TextPart",
    "TextRun",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallStart",
    "ToolChoice",
    "UsageReport",
    "data_url",
    "parse_data_url",
]

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error"]


# --- content parts ------------------------------------------------------------------------------


# Built on every translated request and never changed after: `attrs.define`, not `attrs.frozen` (see
# `ChatRequest`).
@attrs.define(slots=True)
class TextPart:
    text: str


@attrs.frozen(slots=True, kw_only=True)
class ImagePart:
    """An image by URL: ``https://...`` or a ``data:<media type>;base64,<data>`` URL."""

    url: str
    detail: str | None = None

    @property
    def inline(self) -> tuple[str, str] | None:
        """(media type, base64 data) when the image is a data URL, else None."""
        return parse_data_url(self.url)


@attrs.frozen(slots=True, kw_only=True)
class DocumentPart:
    """A file (PDF, text...) given inline as base64, or by URL."""

    media_type: str
    data: str | None = None
    url: str | None = None
    name: str | None = None


@attrs.frozen(slots=True, kw_only=True)
class AudioPart:
    data: str  # base64
    format: str  # "wav", "mp3", ...


Part = TextPart | ImagePart | DocumentPart | AudioPart


def parse_data_url(url: str) -> tuple[str, str] | None:
    """``data:image/png;base64,AAAA`` -> ("image/png", "AAAA"); None for other URLs or malformed ones."""
    if not url.startswith("data:"):
        return None
    header, comma, data = url[5:].partition(",")
    if not comma or not header.endswith(";base64"):
        return None
    media_type = header[: -len(";base64")] or "application/octet-stream"
    return media_type, data


def data_url(media_type: str, data: bytes | str) -> str:
    encoded = data if isinstance(data, str) else base64.b64encode(data).decode()
    return f"data:{media_type};base64,{encoded}"


# --- messages and tools -------------------------------------------------------------------------


@attrs.frozen(slots=True, kw_only=True)
class ToolCall:
    id: str
    name: str
    #: JSON text, exactly as the model produced it (it may be invalid JSON; never re-encoded).
    arguments: str


# Built on every translated request and never changed after: `attrs.define`, not `attrs.frozen` (see
# `ChatRequest`).
@attrs.define(slots=True, kw_only=True)
class Message:
    role: Role
    content: tuple[Part, ...] = ()
    #: Assistant turns that called tools.
    tool_calls: tuple[ToolCall, ...] = ()
    #: Tool results: which call this answers.
    tool_call_id: str | None = None
    name: str | None = None
    #: Assistant reasoning ("thinking") to replay to providers that want it back, with its signature.
    reasoning: str | None = None
    reasoning_signature: str | None = None
    #: Set when the tool result reports a failure (Anthropic ``is_error``).
    is_error: bool = False

    @property
    def text(self) -> str:
        """All text parts joined (what dialects with plain-string content need)."""
        content = self.content
        if len(content) == 1 and type(content[0]) is TextPart:  # most messages: no join to build
            return content[0].text
        return "".join(part.text for part in content if isinstance(part, TextPart))


@attrs.frozen(slots=True, kw_only=True)
class Tool:
    name: str
    description: str | None = None
    #: JSON Schema of the arguments.
    parameters: dict[str, Any] = attrs.field(factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None


@attrs.frozen(slots=True, kw_only=True)
class ToolChoice:
    """``auto``, ``none``, ``required`` (any tool), or ``tool`` with ``name`` (that one tool)."""

    mode: Literal["auto", "none", "required", "tool"]
    name: str | None = None


@attrs.frozen(slots=True, kw_only=True)
class ResponseFormat:
    type: Literal["text", "json_object", "json_schema"]
    schema: dict[str, Any] | None = None
    name: str | None = None
    strict: bool | None = None


# Not frozen, though never changed once built: a frozen class sets each of its 19 fields through
# object.__setattr__; building one (twice per translated chat request, with attrs.evolve) took 24k
# instructions frozen, 11k not. A `Message` of 8 fields: 11k frozen, 6k not.
@attrs.define(slots=True, kw_only=True)
class ChatRequest:
    model: str
    messages: tuple[Message, ...]
    stream: bool = False
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    #: "minimal" | "low" | "medium" | "high" (OpenAI's words); providers map it to their own budgets.
    reasoning_effort: str | None = None
    #: An explicit thinking budget in tokens, when the client gave one (Anthropic ingress).
    reasoning_budget: int | None = None
    user: str | None = None
    metadata: dict[str, Any] | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None

    @property
    def system_text(self) -> str:
        """System (and developer) messages joined with blank lines, for top-level system fields."""
        return "\n\n".join(m.text for m in self.messages if m.role == "system")


@attrs.frozen(slots=True, kw_only=True)
class ChatResponse:
    id: str
    model: str
    created: int
    content: str | None = None
    reasoning: str | None = None
    reasoning_signature: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: FinishReason = "stop"
    usage: Usage | None = None


# --- embeddings ---------------------------------------------------------------------------------


@attrs.frozen(slots=True, kw_only=True)
class EmbeddingsRequest:
    model: str
    inputs: tuple[str, ...]
    dimensions: int | None = None
    encoding_format: Literal["float", "base64"] = "float"
    user: str | None = None


@attrs.frozen(slots=True, kw_only=True)
class EmbeddingsResponse:
    model: str
    vectors: tuple[tuple[float, ...], ...]
    usage: Usage | None = None


# --- stream events ------------------------------------------------------------------------------
# Built for every upstream event and never changed after: `attrs.define`, not `attrs.frozen` (see
# `ChatRequest`).


@attrs.define(slots=True, kw_only=True)
class StreamStart:
    id: str
    model: str
    created: int
    #: Some providers (Anthropic) report input tokens at the start; the final UsageReport still wins.
    usage: Usage | None = None


@attrs.define(slots=True)
class TextDelta:
    text: str


@attrs.define(slots=True, eq=False)
class TextRun(TextDelta):
    """Consecutive text deltas that arrived in one upstream read, carried as one event.

    A decoder may emit it for a burst of text; ``text`` is the deltas joined, so a consumer that reads
    it as a plain `TextDelta` still shows the same text. `gomodel.gateway.streaming.pump` splits it
    into one `TextDelta` per entry of ``texts`` (at least two, none empty) unless the encoder says it
    writes runs (``text_runs = True``) and so can write them all in one pass.
    """

    #: None if ``escaped`` is given: each text is then its escaped JSON decoded, done only when asked
    #: for, because encoders that write runs copy ``escaped`` and never need the texts one by one.
    _texts: tuple[str, ...] | None = attrs.field(alias="texts")
    #: Each text as a JSON string without its quotes, when that is also how orjson writes it (the
    #: upstream's text needed no escapes): encoders can copy it instead of serialising the text.
    escaped: tuple[bytes, ...] | None = attrs.field(default=None, repr=False)

    @property
    def texts(self) -> tuple[str, ...]:
        if self._texts is None:
            # No escapes in them (see ``escaped``), so each is its text's UTF-8.
            self._texts = tuple(escaped.decode() for escaped in self.escaped or ())
        return self._texts

    def __eq__(self, other: object) -> bool:
        if type(other) is not TextRun:
            return NotImplemented
        return self.text == other.text and self.texts == other.texts

    __hash__ = None  # mutable, as every event: compared, never hashed

    def deltas(self) -> list[TextDelta]:
        """One `TextDelta` per text."""
        return list(map(TextDelta, self.texts))


@attrs.define(slots=True, kw_only=True)
class ReasoningDelta:
    text: str = ""
    signature: str | None = None


@attrs.define(slots=True, kw_only=True)
class ToolCallStart:
    #: Position of the call among this answer's tool calls (0, 1, ...), as OpenAI numbers them.
    index: int
    id: str
    name: str


@attrs.define(slots=True, kw_only=True)
class ToolCallDelta:
    index: int
    arguments: str


@attrs.define(slots=True)
class Finish:
    reason: FinishReason


@attrs.define(slots=True)
class UsageReport:
    usage: Usage


@attrs.define(slots=True)
class StreamFailed:
    error: GatewayError


StreamEvent = (
    StreamStart
    | TextDelta
    | ReasoningDelta
    | ToolCallStart
    | ToolCallDelta
    | Finish
    | UsageReport
    | StreamFailed
)
#: The events decoded from one upstream read: the gateway writes each batch to its client in one go.
EventBatch = list[StreamEvent]


class LastBatch(list[StreamEvent]):
    """A provider stream's last batch, given when the upstream's body has ended: nothing follows, so it
    leaves with the end of the answer in one write instead of one write for it and one for the end."""

    __slots__ = ()
