-- 0021_leftovers_by_time.sql - an event's leftovers found by time, however
-- long an endpoint's compact backlog grows.
--
-- hookd.event_leftovers (0020) read every hookd.pending_rest row of the
-- tenant and kept those whose range of occurrence times holds the event's:
-- cheap for a short backlog, but a slow endpoint that keeps answering is
-- never disabled, and its rows (one per claim) grow with its backlog: at
-- 100,000 rows an event-list page of 50 events would have read 5 million.
-- A GiST index of the rows' time ranges (one entry per row, not one per
-- event as 0019's GIN index was) finds the few rows that can hold an
-- event. Rows from before 0020 have no bounds: their range is unbounded
-- and every lookup still finds them.
CREATE INDEX pending_rest_by_time ON hookd.pending_rest
    USING gist (tstzrange(first_occurred, last_occurred, '[]'));
