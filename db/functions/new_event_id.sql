-- db/functions/new_event_id.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.new_event_id: from 0001_initial.sql.

-- An event id for producers that publish from SQL: EV + 18 base62 characters
-- drawn from PostgreSQL's strong random source (gen_random_uuid), with
-- rejection sampling so every character is uniform. The HTTP API passes ids
-- drawn from libsodium instead.
CREATE OR REPLACE FUNCTION hookd.new_event_id() RETURNS text
    LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    alphabet constant text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    id text := 'EV';
    pool bytea := '';
    i integer := 0;
    b integer;
BEGIN
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
