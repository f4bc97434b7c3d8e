"""Diagnostic: sizes and times of the batches the engine hands to FeedPipe.on_batch (printed at exit)."""
import atexit
import sys
import time

from desktop.feed import pipe

_log = []
_orig = pipe.FeedPipe.on_batch


def on_batch(self, events):
    _log.append((time.time(), len(events)))
    return _orig(self, events)


pipe.FeedPipe.on_batch = on_batch


@atexit.register
def _dump():
    big = [(t, n) for t, n in _log if n >= 1000]
    sizes = sorted(n for _, n in _log)
    print(f"ENGINE-BATCHES count={len(sizes)} max={sizes[-1] if sizes else 0} "
          f"p50={sizes[len(sizes)//2] if sizes else 0} big={[(round(t, 2), n) for t, n in big][:40]}",
          file=sys.stderr, flush=True)
