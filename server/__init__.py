"""The process: FastAPI app, routes, shopper and staff pages, and the `voicecart` CLI."""
