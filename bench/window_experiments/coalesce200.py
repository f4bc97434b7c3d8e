"""Candidate fix E5: the feed pipe delivers at most every 200 ms instead of 50 ms."""
from desktop.feed import pipe

pipe.COALESCE_MS = 200
