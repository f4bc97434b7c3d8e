"""Candidate fix E2: PusherBridge hands the chat panel only batches that carry a non-feed event."""
from desktop.pusher import qtbridge

FEED = "private-login-feed"


def _on_batch(self, events):
    other = [e for e in events if e.channel != FEED]
    if other:
        self.events_received.emit(other)


qtbridge.PusherBridge._on_batch = _on_batch
