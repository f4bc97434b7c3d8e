"""Auth0 sign-in cores (device flow, discovery, ID token checks, session policy).

Pure: no Qt, sockets, threads, clock or keyring. The IO drivers around them pass ``now`` in and carry the
answers back, so every rule here can be tested with plain values.
"""
