"""The aiohttp layer: routes, thin handlers, middlewares, error rendering, process runner."""
