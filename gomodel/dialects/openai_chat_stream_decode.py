"""An OpenAI-compatible upstream's chat-completion SSE -> wire-neutral stream events.

Nearly every chunk of a streamed answer is the same JSON with another piece of text in it::

    data: {"id":"chatcmpl-1",...,"choices":[{"index":0,"delta":{"content":"<text>"},...}],...}

so the decoder learns those bytes around the text (an `_Envelope`), from the stream's opening chunk
(a role and an empty text, around the same JSON) or else from the first text chunk it reads the slow
way, and from then on reads the chunks that fit it exactly without parsing their JSON: each alone,
or a run of them in one `TextRun`. Whatever does not fit exactly is read the slow way, so the events
are the same either way.

OpenAI ends every chunk with an ``"obfuscation"`` member by default (random letters and digits of
random length, ``stream_options.include_obfuscation``), so no two of its chunks are alike around their
text: the envelope is learnt and matched with that member cut off (`_untrailed`).

A block of events is cut where one data event ends and the next begins (``\n\ndata: ``), which leaves
each piece the data of one event unless it holds a newline (then it is read as the events it is).
Cutting at every blank line instead cost ~18k instructions more for a 50-chunk block: CPython
searches a longer separator faster.
"""

from __future__ import annotations

from itertools import repeat
from operator import getitem
from typing import Any, Final, cast

from orjson import JSONDecodeError, loads

from gomodel.core.chat import (
    Finish,
    ReasoningDelta,
    StreamEvent,
    StreamFailed,
    StreamStart,
    TextDelta,
    TextRun,
    ToolCallDelta,
    ToolCallStart,
    UsageReport,
)
from gomodel.core.errors import UpstreamError
from gomodel.dialects.json_body import as_dict
from gomodel.dialects.openai_chat_response import arguments_text, finish_reason
from gomodel.dialects.openai_usage import usage_from_mapping
from gomodel.dialects.sse import SSEFramer, event_data, split_events

__all__ = ["ChunkDecoder"]

_CONTENT_KEY: Final = b'"content":'
#: Put in the place of the text to prove which value of the chunk that place holds.
_PROBE_TEXT: Final = "\x00"
_PROBE_ESCAPE: Final = b"\\u0000"
_PROBE_LITERAL: Final = b'"' + _PROBE_ESCAPE + b'"'
_DELTA_KEY: Final = b'"delta":{'
#: A text chunk's delta around its text, as upstreams write it.
_TEXT_DELTA_HEAD: Final = b'{"content":"'
_TEXT_DELTA_TAIL: Final = b'"}'
#: Put in the place of the first chunk's delta to prove which value of the chunk that place holds.
_PROBE_DELTA: Final = _TEXT_DELTA_HEAD + _PROBE_ESCAPE + _TEXT_DELTA_TAIL
_PROBED_DELTA: Final = {"content": _PROBE_TEXT}
#: An upstream whose chunks keep changing around the text (a per-chunk timestamp, say) is not given
#: more tries than this; its chunks are then all read the slow way.
_MAX_LEARNT: Final = 4
_BACKSLASH: Final = 0x5C
_NEWLINE: Final = 0x0A
_DONE: Final = b"[DONE]"
#: Between one data event and the next: a block is cut here into the events' data.
_SEPARATOR: Final = b"\n\ndata: "
#: How the member OpenAI ends each chunk with starts, and how such a chunk ends.
_TRAILER_KEY: Final = b',"obfuscation":"'
_TRAILER_END: Final = b'"}'


class _Envelope:
    """A text chunk's JSON around its text, as an upstream writes every text chunk of a stream.

    ``head`` is the JSON up to the text's opening quote, ``tail`` the JSON from its closing quote.
    `ChunkDecoder._probe` made sure that an event's data ``head + text + tail``, with ``text`` a JSON
    string's inside, means exactly ``TextDelta(text)`` (nothing if empty).
    """

    __slots__ = ("head", "inner", "literal", "seam", "tail", "tail_end", "trailed")

    def __init__(self, head: bytes, tail: bytes) -> None:
        self.head = head
        self.tail = tail
        #: Learnt from a chunk whose trailing ``"obfuscation"`` member was cut off: chunks are matched
        #: with theirs cut off too.
        self.trailed = False
        #: Where the last event of a run ends.
        self.tail_end = tail + b"\n\n"
        #: Where one event of a run ends and the next begins.
        self.seam = tail + _SEPARATOR + head
        #: Where an event has the JSON string, quotes included, and its inside.
        self.literal = slice(len(head) - 1, 1 - len(tail))
        self.inner = slice(len(head), -len(tail))

    def text(self, data: bytes) -> str | None:
        """The text of an event's ``data``, which starts with ``head``, if it is a chunk in this envelope."""
        if not data.endswith(self.tail):
            return None
        # With a quote at both ends, one JSON string is all it can be if it parses.
        try:
            text = loads(data[self.literal])
        except JSONDecodeError:
            return None
        return text if type(text) is str else None

    def run(self, block: bytes, offset: int, pieces: list[bytes], out: list[StreamEvent]) -> bool:
        """Append the texts of the events whose data ``pieces`` are, from ``offset`` in ``block`` on, if
        they all are chunks in this envelope; a run of chunks costs ~2.5k instructions a chunk, read one
        by one the slow way ~30k.

        That the block there is ``head``, the insides of the strings joined by ``seam``, then ``tail``
        and a blank line proves the insides were cut where the events have them, once each inside is
        shown to be a JSON string's inside (so it holds no newline).
        """
        insides = cast("list[bytes]", list(map(getitem, pieces, repeat(self.inner))))
        middle = self.seam.join(insides)
        # Compared in place, not joined to head and tail first: two block-sized copies fewer.
        start = offset + len(self.head)
        if not (
            block.startswith(self.head, offset)
            and block.startswith(middle, start)
            and block.startswith(self.tail_end, start + len(middle))
        ):
            return False
        joined = b"".join(insides)
        if _BACKSLASH in joined:  # an int: `bytes in bytes` costs ~2k more
            return _escaped_run(insides, out)
        # Without escapes one string holds them all, and each text is its inside's UTF-8: no text
        # is decoded alone (~0.5k instructions each) unless an encoder asks for it.
        try:
            if joined.isascii():
                text = loads(b'"' + joined + b'"')
            else:
                # Each inside as a string of its own: a space between them breaks a UTF-8 character
                # that one of them cuts, as reading that chunk alone would.
                loads(b'"' + b" ".join(insides) + b'"')
                text = joined.decode()
        except JSONDecodeError:
            return False
        if not all(insides):  # an empty text among them
            insides = list(filter(None, insides))
        if len(insides) > 1:
            out.append(TextRun(text, None, tuple(insides)))
        elif insides:
            out.append(TextDelta(text))
        return True


def _escaped_run(insides: list[bytes], out: list[StreamEvent]) -> bool:
    """Append the texts of ``insides``, some with escapes, if each is a JSON string's inside.

    They are read as one JSON array, ``"\\n,"`` between them: a raw newline cannot be in a string, so
    each of those is a separator, and with as many strings as insides each inside is one string.
    """
    try:
        texts = loads(b'["' + b'"\n,"'.join(insides) + b'"]')
    except JSONDecodeError:
        return False
    if len(texts) != len(insides):
        return False
    try:
        text = "".join(texts)
    except TypeError:  # not all strings
        return False
    texts = list(filter(None, texts))
    if len(texts) > 1:
        out.append(TextRun(text, tuple(texts)))
    elif texts:
        out.append(TextDelta(text))
    return True


class ChunkDecoder:
    """An OpenAI-compatible upstream's SSE bytes -> stream events."""

    __slots__ = ("_envelope", "_finish", "_framer", "_learnt", "_provider", "_started", "_tool_ids", "_usage")

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._framer = SSEFramer()
        self._started = False
        self._tool_ids: dict[int, str] = {}
        self._finish: Finish | None = None
        self._usage: UsageReport | None = None
        self._envelope: _Envelope | None = None
        self._learnt = 0

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        block = self._framer.feed_block(chunk)
        if block:
            self._block(block, events)
        return events

    def flush(self) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for raw in self._framer.flush():
            self._event(raw, events)
        # Finish and usage go out last, whichever order the upstream sent them in.
        if self._finish is not None:
            events.append(self._finish)
            self._finish = None
        if self._usage is not None:
            events.append(self._usage)
            self._usage = None
        return events

    def _block(self, block: bytes, out: list[StreamEvent]) -> None:
        """The events of a block of whole ones. The first chunk in the envelope is tried as the start of
        a run up to the block's last chunk in the envelope, then chunks are tried one by one."""
        pieces = block.split(_SEPARATOR)
        pieces[-1] = pieces[-1][:-2]  # the block's last blank line
        # The first piece is the first event whole: its data if it is one line of data, else it is
        # read as the events it is (a comment, say, then maybe the first data event).
        opening = pieces[0]
        if opening.startswith(b"data: ") and _NEWLINE not in opening:
            pieces[0] = opening[6:]
            first = 0
        else:
            self._events(opening, out)
            first = 1
        count = len(pieces)
        wide = True
        #: Pieces from here on are known not to start as the envelope's chunks do (as found looking for
        #: the run's end: a later envelope, learnt in this block, is tried from the next block on).
        other = count
        while first < count:
            piece = pieces[first]
            envelope = self._envelope
            if envelope is not None and first < other and piece.startswith(envelope.head):
                if wide:
                    wide = False
                    last = count - 1
                    while last > first and not pieces[last].startswith(envelope.head):
                        last -= 1
                    other = last + 1
                    if last > first:
                        if envelope.trailed:
                            # Checked against the pieces joined again, their trailers cut off.
                            run = list(map(_untrailed, pieces[first:other]))
                            ran = envelope.run(_SEPARATOR.join(run) + b"\n\n", 0, run, out)
                        else:
                            # Where the piece is in the block: after the pieces before it, a separator
                            # after each (and the first one's "data: " if cut off).
                            offset = sum(map(len, pieces[:first])) + len(_SEPARATOR) * first
                            offset += len(opening) - len(pieces[0])
                            ran = envelope.run(block, offset, pieces[first:other], out)
                        if ran:
                            first = other
                            continue
                text = envelope.text(_untrailed(piece) if envelope.trailed else piece)
                if text is not None:
                    if text:
                        out.append(TextDelta(text))
                    first += 1
                    continue
            if _NEWLINE in piece:  # the data of an event with more lines, or more events after it
                self._events(b"data: " + piece, out)
            else:
                self._data(piece, out)
            first += 1

    def _events(self, text: bytes, out: list[StreamEvent]) -> None:
        """Whole events one by one, blank lines between them (none after the last)."""
        for event in split_events(text + b"\n\n"):
            self._event(event, out)

    def _event(self, event: bytes, out: list[StreamEvent]) -> None:
        """One event, with its blank line."""
        data = event_data(event)
        if data is not None:
            self._data(data, out)

    # _data and _choice read one chunk the slow way: they test only the keys a chunk has, cheapest
    # first, because this decoder was most of a translated stream's CPU (about 6 us an event).
    def _data(self, data: bytes, out: list[StreamEvent]) -> None:
        """One event's data."""
        if data == _DONE:
            return
        chunk: Any = None
        envelope = None
        if self._learnt < _MAX_LEARNT:
            # Learnt without the trailer, if any: the probe's parse is the chunk, less a member that is
            # never read. Only chunks that may teach are cut (~1k instructions a chunk).
            bare = data
            if self._started:
                key = data.find(_CONTENT_KEY)
                if key >= 0:
                    bare = _untrailed(data)  # the key is before the trailer, which holds no quote
                    chunk, envelope = self._probe(bare, key)
            else:
                bare = _untrailed(data)
                chunk, envelope = self._probe_start(bare)
            if envelope is not None:
                envelope.trailed = bare is not data
        if chunk is None:  # not probed, or the probe did not parse it
            try:
                chunk = loads(data)
            except JSONDecodeError:
                return
            if type(chunk) is not dict:
                return
        error = chunk.get("error")
        if error:
            message = error.get("message") if isinstance(error, dict) else str(error)
            out.append(StreamFailed(UpstreamError(f"provider {self._provider}: {message}")))
            return
        if not self._started:
            self._started = True
            out.append(_start(chunk))
        usage = chunk.get("usage")
        if usage:
            envelope = None
            report = usage_from_mapping(usage)
            if report is not None:
                self._usage = UsageReport(report)
        choices: Any = chunk.get("choices") or ()
        for choice in choices:
            if type(choice) is dict and choice.get("index", 0) == 0:
                self._choice(choice, out)
        if envelope is not None and len(choices) == 1:
            # This chunk's choice ends nothing, and a chunk that differs from it only in its text gives
            # that text and nothing else.
            choice = choices[0]
            if choice.get("index", 0) == 0 and not choice.get("finish_reason"):
                self._envelope = envelope

    def _choice(self, choice: dict[str, Any], out: list[StreamEvent]) -> None:
        delta = choice.get("delta")
        if delta and type(delta) is dict:
            if "reasoning_content" in delta or "reasoning" in delta:
                reasoning = delta.get("reasoning_content") or delta.get("reasoning")
                if isinstance(reasoning, str) and reasoning:
                    out.append(ReasoningDelta(text=reasoning))
            content = delta.get("content")
            if content and type(content) is str:
                out.append(TextDelta(content))
            calls = delta.get("tool_calls")
            if calls:
                self._tool_calls(calls, out)
        reason = choice.get("finish_reason")
        if reason:
            self._finish = Finish(finish_reason(reason))

    def _tool_calls(self, calls: Any, out: list[StreamEvent]) -> None:
        for call in calls if isinstance(calls, list) else ():
            if not isinstance(call, dict):
                continue
            function = as_dict(call.get("function"))
            call_id = str(call.get("id") or "")
            if isinstance(call.get("index"), int):
                index = call["index"]
            elif not self._tool_ids:
                index = 0
            else:  # no index (Gemini): a new id is a new call
                last = max(self._tool_ids)
                index = last + 1 if call_id and call_id != self._tool_ids[last] else last
            if index not in self._tool_ids:
                self._tool_ids[index] = call_id
                out.append(ToolCallStart(index=index, id=call_id, name=str(function.get("name") or "")))
            if function.get("arguments"):
                out.append(ToolCallDelta(index=index, arguments=arguments_text(function["arguments"])))

    def _probe(self, data: bytes, key: int) -> tuple[Any, _Envelope | None]:
        """``data`` parsed with the string after its one ``"content":`` (at ``key``) swapped for a probe,
        and the envelope around that string if the delta holds nothing else a chunk in it would repeat;
        (None, None) if the probe does not land in ``choices[0].delta.content``.

        Only this chunk's text can be "\\x00" (``data`` has no ``\\u0000``), so the swapped string is
        that value: the chunk is the parsed probe with the string put back, and a chunk that differs
        from ``data`` only in that string differs from it only in its text. Read this way, the chunk
        an envelope is learnt from is parsed once, not twice.
        """
        string = _string_at(data, key + len(_CONTENT_KEY))
        if string is None or data.find(_CONTENT_KEY, key + 1) >= 0 or not _probeable(data):
            return None, None
        opening, closing = string
        swapped = self._swap(data, opening, closing, _PROBE_LITERAL)
        if swapped is None:
            return None, None
        probed, choice, text = swapped
        delta = choice.get("delta")
        if type(delta) is not dict or delta.get("content") != _PROBE_TEXT:
            return None, None
        delta["content"] = text
        # What else the delta holds comes again with every chunk in the envelope: it must give nothing.
        if not text or type(text) is not str or _more_than_text(delta):
            return probed, None
        return probed, _Envelope(data[: opening + 1], data[closing:])

    def _probe_start(self, data: bytes) -> tuple[Any, _Envelope | None]:
        """The stream's first chunk parsed with its delta swapped for ``{"content":"\\x00"}``, and the
        envelope of text chunks that differ from it only in their delta being ``{"content":<text>}``;
        (None, None) if the probe does not land in ``choices[0].delta``.

        Upstreams open with a chunk of the role and an empty text around the same JSON as their text
        chunks, so the envelope is known before the first text (read the slow way, learning it cost
        ~45k instructions). The probe needs the delta to be a whole JSON value: it is cut at the first
        ``}``, and the cut must parse on its own (a brace in a string or a nested object fails it).
        Then swapping it for another whole value keeps the rest of the chunk as it is (as in `_probe`).
        """
        key = data.find(_DELTA_KEY)
        if key < 0 or not _probeable(data):
            return None, None
        opening = key + len(_DELTA_KEY) - 1
        closing = data.find(b"}", opening)
        if closing < 0:
            return None, None
        swapped = self._swap(data, opening, closing, _PROBE_DELTA)
        if swapped is None:
            return None, None
        probed, choice, delta = swapped
        if choice.get("delta") != _PROBED_DELTA:
            return None, None
        choice["delta"] = delta
        head = data[:opening] + _TEXT_DELTA_HEAD
        return probed, _Envelope(head, _TEXT_DELTA_TAIL + data[closing + 1 :])

    def _swap(
        self, data: bytes, opening: int, closing: int, probe: bytes
    ) -> tuple[Any, dict[str, Any], Any] | None:
        """``data`` parsed with its bytes from ``opening`` to ``closing`` swapped for ``probe``, that
        chunk's first choice, and the swapped-out bytes parsed alone; None if any of them does not
        parse or the choice is not an object. Each call is one try at learning an envelope."""
        self._learnt += 1
        try:
            probed = loads(data[:opening] + probe + data[closing + 1 :])
            choice = probed["choices"][0]
            value = loads(data[opening : closing + 1])
        except (JSONDecodeError, LookupError, TypeError):
            return None
        return (probed, choice, value) if type(choice) is dict else None


def _start(chunk: dict[str, Any]) -> StreamStart:
    """The start of the stream whose first chunk is ``chunk``."""
    id_, model, created = chunk.get("id"), chunk.get("model"), chunk.get("created")
    # Converted only when they are not what upstreams send (~2k instructions a stream).
    return StreamStart(
        id=id_ if type(id_) is str else str(id_ or ""),
        model=model if type(model) is str else str(model or ""),
        created=created if type(created) is int else int(created or 0),
    )


def _more_than_text(delta: dict[str, Any]) -> bool:
    """Whether `ChunkDecoder._choice` reads more than a text from ``delta``."""
    return bool(delta.get("tool_calls") or delta.get("reasoning_content") or delta.get("reasoning"))


def _probeable(data: bytes) -> bool:
    """Whether a probe can be put in ``data``: nothing else in it reads as the probe's text, and an
    envelope learnt from it has no newline (a newline is where a block is cut into events)."""
    # A byte's `in` is a memchr; most chunks have no backslash, so no search for the escape.
    return (_BACKSLASH not in data or data.find(_PROBE_ESCAPE) < 0) and _NEWLINE not in data


def _untrailed(data: bytes) -> bytes:
    """``data`` without the ``"obfuscation"`` member it ends with, if its value is letters and digits
    (as OpenAI writes it); else ``data`` itself.

    Cut off, the member leaves a JSON object that reads the same but for that member: the last ``}``
    of a valid object closes the object itself, and a string of letters and digits is all the member
    can hold. The other way round, putting the member back into a chunk that reads as one (with a
    member before it) keeps it valid.
    """
    if data[-2:] != _TRAILER_END:
        return data
    before, key, after = data.rpartition(_TRAILER_KEY)
    if key and after[:-2].isalnum():
        return before + b"}"
    return data


def _string_at(data: bytes, position: int) -> tuple[int, int] | None:
    """Where the JSON string that starts at ``position``, after blanks, opens and closes, if one does."""
    while data[position : position + 1] in (b" ", b"\t"):
        position += 1
    if data[position : position + 1] != b'"':
        return None
    closing = position
    while True:
        closing = data.find(b'"', closing + 1)
        if closing < 0:
            return None
        escapes = 0
        while data[closing - 1 - escapes] == _BACKSLASH:
            escapes += 1
        if escapes % 2 == 0:
            return position, closing
