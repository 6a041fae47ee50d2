"""The aiohttp layer: routes, thin handlers, the guard in front of them, error rendering, process runner."""
