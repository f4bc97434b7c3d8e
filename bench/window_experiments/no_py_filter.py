"""Experiment E6: no Python filterAcceptsRow on the feed proxy (C++ accepts every row, as when unfiltered).

Filtering by type/country/search stops working: this only measures what the per-row Python override costs
under a burst; the real fix keeps the filters (see the report)."""
from desktop.feed.filters import FeedFilterProxy

del FeedFilterProxy.filterAcceptsRow
