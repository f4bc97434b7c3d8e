"""The reference channel-authorization endpoint (``login-feed authserver``, mode ``remote``).

Why Starlette and uvicorn: the endpoint must be a small, production-minded HTTP service, so it sits on a
well-kept framework and server instead of a home-made one. Starlette is an ASGI toolkit maintained by the
encode team (it is the core of FastAPI), small enough to read in an afternoon, with routing, form parsing
(python-multipart), exception handlers and middleware and nothing we would have to switch off. uvicorn, by the
same team, is the reference ASGI server: HTTP/1.1 parsing, keep-alive, graceful shutdown on SIGINT/SIGTERM and
bounded header sizes come from it. Tests drive the app in-process with Starlette's TestClient (httpx, a dev
dependency) and over real sockets with uvicorn.

Layout: :mod:`.tokens` verifies Auth0 access tokens (RS256 via JWKS), :mod:`.policy` decides which channels a
caller may join, :mod:`.profiles` finds the caller's name and email (chat messages and the tenant log go out
through :mod:`desktop.signing.pusher_http`, the one Pusher HTTP API client), :mod:`.params` reads request
bodies (bounded, with a deadline), :mod:`.ratelimit` holds the per-user token buckets, :mod:`.app` is the ASGI
application, :mod:`.listener` is uvicorn with limits for slow and idle clients, and :mod:`.server` builds the
application from the configuration and serves it.
"""
