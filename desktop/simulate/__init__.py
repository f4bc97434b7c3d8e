"""``login-feed simulate``: sample people and events, pacing, the Pusher and log-stream sources, the command.

``people.py`` (+ ``data.py``, the names and places) makes the sample people and their v1 events; ``publisher.py``
sends batches through the one Pusher HTTP API client (:mod:`desktop.signing.pusher_http`) with retries;
``pacing.py`` paces them and keeps requests in flight; ``logstream.py`` is the ``--source log-stream`` source
(Auth0 tenant-log deliveries POSTed to a login-feed server); ``command.py`` is the command line.
"""
