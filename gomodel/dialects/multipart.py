"""Read a ``multipart/form-data`` body that is already in memory (audio uploads are size-capped).

The stdlib email parser does the MIME work; the body bytes are kept so a request can still be relayed
to an upstream untouched after the gateway has read the fields it routes on.
"""

from __future__ import annotations

import uuid
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP

import attrs

from gomodel.core.errors import InvalidRequestError

__all__ = ["FormField", "encode_form", "parse_form"]


@attrs.frozen(slots=True, kw_only=True)
class FormField:
    name: str
    value: bytes
    filename: str | None = None
    content_type: str | None = None

    @property
    def text(self) -> str:
        return self.value.decode("utf-8", "replace")


def parse_form(body: bytes, content_type: str) -> dict[str, FormField]:
    """Fields by name (the last one wins); raises a 400 when the body is not multipart form data."""
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type:
        raise InvalidRequestError("expected a multipart/form-data body with a boundary", code="invalid_form")
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message: Message = BytesParser(policy=HTTP).parsebytes(header + body)
    if not message.is_multipart():
        raise InvalidRequestError("the multipart body could not be read", code="invalid_form")
    fields: dict[str, FormField] = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]  # EmailMessage API under policy HTTP
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        fields[name] = FormField(
            name=name,
            value=payload if isinstance(payload, bytes) else b"",
            filename=part.get_filename(),
            content_type=part.get_content_type() if part.get("content-type") else None,
        )
    return fields


def encode_form(fields: dict[str, FormField]) -> tuple[bytes, str]:
    """Fields -> (multipart body, content type), for relaying a form whose model id was rewritten."""
    boundary = f"gomodel-{uuid.uuid4().hex}"
    out = bytearray()
    for field in fields.values():
        disposition = f'form-data; name="{_quote(field.name)}"'
        if field.filename is not None:
            disposition += f'; filename="{_quote(field.filename)}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if field.content_type:
            out += f"Content-Type: {field.content_type}\r\n".encode()
        out += b"\r\n" + field.value + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")
