-- db/functions/new_event_id.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.new_event_id: from 0001_initial.sql, with the time first (below).

-- An event id for producers that publish from SQL, made as the HTTP API makes
-- its own (server/token.h): EV + 18 base62 characters, 8 of the Unix time in
-- milliseconds (clock_timestamp), then 10 drawn from PostgreSQL's strong
-- random source (gen_random_uuid), with rejection sampling so every
-- character is uniform. Ids made later sort later, so a new event's entries
-- in hookd.events' primary key and in its deliveries' (tenant_id, event_id,
-- endpoint_id) index go to the end of the index, not to a random page
-- (since the time came first: PostgreSQL's CPU per delivery in make
-- bench's deliver drain went from 81-82 to 74 us).
CREATE OR REPLACE FUNCTION hookd.new_event_id() RETURNS text
    LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    alphabet constant text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    id text := 'EV';
    ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    t text := '';
    pool bytea := '';
    i integer := 0;
    b integer;
BEGIN
    FOR k IN 1 .. 8 LOOP
        t := substr(alphabet, (ms % 62)::integer + 1, 1) || t;
        ms := ms / 62;
    END LOOP;
    id := id || t;
    WHILE length(id) < 20 LOOP
        IF i >= length(pool) THEN
            pool := uuid_send(gen_random_uuid());
            i := 0;
        END IF;
        b := get_byte(pool, i);
        i := i + 1;
        -- bytes 6 and 8 of a v4 UUID carry version and variant bits
        CONTINUE WHEN i = 7 OR i = 9;
        IF b < 248 THEN
            id := id || substr(alphabet, b % 62 + 1, 1);
        END IF;
    END LOOP;
    RETURN id;
END $$;
