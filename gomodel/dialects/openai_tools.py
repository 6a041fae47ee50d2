"""Function tools and tool choice as OpenAI's two APIs write them (chat nests the function under
``function``; Responses puts its fields at the top level): one reader for both."""

from __future__ import annotations

from typing import Any

from gomodel.core.chat import Tool, ToolChoice
from gomodel.core.errors import InvalidRequestError

__all__ = ["function_tool", "tool_choice"]


def function_tool(function: dict[str, Any], param: str) -> Tool:
    """``{"name", "description", "parameters", "strict"}`` -> `Tool`; ``param`` locates it for 400s."""
    name = function.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidRequestError("a function tool needs a name", param=f"{param}.name")
    parameters = function.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise InvalidRequestError("function parameters must be an object", param=f"{param}.parameters")
    description = function.get("description")
    strict = function.get("strict")
    return Tool(
        name=name,
        description=description if isinstance(description, str) else None,
        parameters=parameters if parameters is not None else {"type": "object", "properties": {}},
        strict=strict if isinstance(strict, bool) else None,
    )


def tool_choice(value: Any) -> ToolChoice | None:
    """``auto`` / ``none`` / ``required``, or a named function in either API's spelling."""
    if value is None:
        return None
    if value in ("auto", "none", "required"):
        return ToolChoice(mode=value)
    if isinstance(value, dict):
        nested = value.get("function")
        function = nested if isinstance(nested, dict) else value
        if isinstance(function.get("name"), str):
            return ToolChoice(mode="tool", name=function["name"])
    raise InvalidRequestError(
        "'tool_choice' must be auto, none, required or a named function", param="tool_choice"
    )
