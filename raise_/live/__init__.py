"""Live tables (PRD §12): analyses kept materialized in the offline store, refreshed on change
(the change feed, :mod:`raise_.changes`), on a schedule (the scheduler) or on demand.

- :mod:`.service`: the doors and the refresh; :mod:`.incremental`: merging appended rows into a
  decomposable aggregation; :mod:`.follower`: the change feed's consumer, coalescing bursts;
  :mod:`.refresh`: a refresh as a run; :mod:`.models`/:mod:`.records`: catalog rows and values.
"""
