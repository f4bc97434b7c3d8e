"""The tenant log: Auth0's log stream received, normalised to event v2, kept and served back.

Pure core (no sockets, no clock: time is passed in): :mod:`.body` parses what the Custom Webhook log stream POSTs,
:mod:`.codes` maps Auth0's event codes to a kind, an outcome and a label, :mod:`.normalize` builds event v2 with
exactly the contract's fields. :mod:`.enrich` looks up the device (user agent) and the place (IP, offline GeoIP
database); :mod:`.store` keeps the events (SQLite) behind a small interface; :mod:`.publisher` sends them to Pusher
after the commit.
"""
