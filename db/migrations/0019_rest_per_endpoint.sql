-- 0019_rest_per_endpoint.sql - claims' leftover deliveries kept per
-- endpoint, and queued only as fast as their endpoint can take them.
--
-- 0015 wrote a claim's leftovers (the deliveries it could not claim: at a
-- slow, throttled, disabled or deeply queued endpoint, or behind an open
-- circuit) as one row of arrays, and hookd.queue_rest turned every one of
-- them into a queued delivery at once. A slow endpoint subscribed beside a
-- healthy one therefore still cost a queued row per event (an 18 us insert,
-- 37 us of database time in all), on the same two cores as the healthy
-- endpoint's deliveries, though it could take a few per second: make
-- bench's isolation scenario kept 0.74-0.80 of the healthy endpoint's rate.
--
-- Now a claim writes one row per endpoint (its event ids in claim order),
-- and hookd.queue_rest queues an endpoint's rows only while fewer than a
-- few caps' worth of its deliveries are queued (or at once when it is
-- disabled, so that they are parked as before). An endpoint that cannot
-- keep up keeps its newest deliveries here, compactly (a 64-event row costs
-- about what one queued delivery does), until its queue runs short. The
-- event and endpoint views count them as pending (the GIN index finds an
-- event's), and the foreign key removes them with their endpoint.
ALTER TABLE hookd.pending_rest RENAME TO pending_rest_0015;

CREATE TABLE hookd.pending_rest (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   bigint NOT NULL,
    endpoint_id bigint NOT NULL,
    event_ids   text[] NOT NULL CHECK (cardinality(event_ids) > 0),
    created     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES hookd.endpoints (tenant_id, id)
        ON DELETE CASCADE
);
CREATE INDEX pending_rest_by_endpoint ON hookd.pending_rest (tenant_id, endpoint_id, id);
CREATE INDEX pending_rest_by_event ON hookd.pending_rest USING gin (event_ids);

-- What 0015's rows held, regrouped per endpoint in their order (leftovers
-- of an endpoint that no longer exists are dropped, as queue_rest did).
INSERT INTO hookd.pending_rest (tenant_id, endpoint_id, event_ids, created)
SELECT g.tenant_id, g.endpoint_id, g.event_ids, g.created
  FROM (SELECT r.id, t.tenant_id, t.endpoint_id,
               array_agg(t.event_id ORDER BY t.ord) AS event_ids, r.created
          FROM hookd.pending_rest_0015 r
         CROSS JOIN LATERAL unnest(r.tenant_ids, r.event_ids, r.endpoint_ids)
                            WITH ORDINALITY AS t(tenant_id, event_id, endpoint_id, ord)
         WHERE EXISTS (SELECT 1 FROM hookd.endpoints e
                        WHERE e.tenant_id = t.tenant_id AND e.id = t.endpoint_id)
         GROUP BY r.id, t.tenant_id, t.endpoint_id, r.created) g
 ORDER BY g.id, g.tenant_id, g.endpoint_id;

DROP TABLE hookd.pending_rest_0015;
