"""One middleware per module; their order is set in `gomodel.server.routes`."""
