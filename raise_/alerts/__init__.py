"""Analytics alerts (PRD §14): an analysis, a condition on its value, checked on an interval or
after a commit, notifying through the channels of :mod:`raise_.notifications` on each transition."""
