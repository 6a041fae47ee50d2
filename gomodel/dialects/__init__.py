"""Pure wire-format code: parse, build and observe each dialect. No I/O, no aiohttp."""
