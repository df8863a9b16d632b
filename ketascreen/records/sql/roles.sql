-- ketascreen records on PostgreSQL: the rights of the application role.
--
-- Two roles: the OWNER of the records tables runs the migrations (`ketascreen db init`,
-- `ketascreen db upgrade`); the APPLICATION role is what every workstation connects as
-- (KETASCREEN_DATABASE_URL). The application role owns nothing, so it cannot
-- ALTER TABLE ... DISABLE TRIGGER, DROP TRIGGER, DROP or ALTER a table, and it is granted no
-- UPDATE, DELETE or TRUNCATE on the append-only tables (the audit trail, signed documents,
-- signing certificates, clinic files, and the courses, course_infusions and infusion_records
-- of courses of infusions).
--
-- `ketascreen db init --owner-url URL --app-role NAME` and `ketascreen db upgrade` run this
-- script for you after the migrations. To run it by hand, as the owner, in the records schema:
--
--   PGOPTIONS='-c ketascreen.app_role=ketascreen_app' \
--     psql 'postgresql://ketascreen_owner@dbhost/ketascreen' -v ON_ERROR_STOP=1 -f roles.sql
--
-- The application role must exist first (a database administrator creates it):
--
--   CREATE ROLE ketascreen_app LOGIN PASSWORD '...' NOSUPERUSER NOCREATEDB NOCREATEROLE;
--
-- What the application role gets, in the current schema (the first of the search path):
--   USAGE on the schema (never CREATE);
--   SELECT on every table; INSERT on every table except alembic_version;
--   UPDATE only on users, patients, screenings, user_settings, audit_head, login_throttle
--     (drafts are edited; signed screenings are refused by triggers even so);
--   no DELETE, TRUNCATE, REFERENCES or TRIGGER on any table;
--   USAGE and SELECT on the sequences (new row ids).
-- A table that a later migration adds gets SELECT and INSERT from the default privileges set
-- here until this script runs again (every migration by the owner runs it again).
-- The script refuses an application role that is the owner, a member of it, or a superuser.
-- Running it again is harmless: it revokes everything first, then grants the list above.

DO $ketascreen_roles$
DECLARE
    app text := current_setting('ketascreen.app_role', true);
    target text := current_schema();
    updatable text[] := ARRAY['users', 'patients', 'screenings', 'user_settings', 'audit_head',
                              'login_throttle'];
    entry record;
BEGIN
    IF app IS NULL OR app = '' THEN
        RAISE EXCEPTION 'ketascreen: name the application role in the setting ketascreen.app_role';
    END IF;
    IF target IS NULL THEN
        RAISE EXCEPTION 'ketascreen: no schema: the search path names none that exists';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app) THEN
        RAISE EXCEPTION 'ketascreen: the role % does not exist: a database administrator creates it first (CREATE ROLE % LOGIN PASSWORD ...)', app, app;
    END IF;
    IF app = current_user THEN
        RAISE EXCEPTION 'ketascreen: the application role % is the owner running this script: give the application its own role', app;
    END IF;
    IF (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = app) THEN
        RAISE EXCEPTION 'ketascreen: the application role % is a superuser (or bypasses row security): it could disable the triggers', app;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = target
               AND pg_has_role(app, tableowner, 'MEMBER'))
       OR pg_has_role(app, current_user, 'MEMBER') THEN
        RAISE EXCEPTION 'ketascreen: the application role % is (a member of) the owner of the records tables: it could disable the triggers', app;
    END IF;

    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', target, app);
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM %I', target, app);
    EXECUTE format('REVOKE ALL ON SCHEMA %I FROM %I', target, app);
    IF (SELECT pg_has_role(current_user, nspowner, 'USAGE') FROM pg_namespace
        WHERE nspname = target) THEN
        EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', target);
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', target, app);
    FOR entry IN SELECT tablename FROM pg_tables WHERE schemaname = target LOOP
        EXECUTE format('GRANT SELECT ON %I.%I TO %I', target, entry.tablename, app);
        IF entry.tablename <> 'alembic_version' THEN
            EXECUTE format('GRANT INSERT ON %I.%I TO %I', target, entry.tablename, app);
        END IF;
        IF entry.tablename = ANY (updatable) THEN
            EXECUTE format('GRANT UPDATE ON %I.%I TO %I', target, entry.tablename, app);
        END IF;
    END LOOP;
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I', target, app);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT ON TABLES TO %I',
                   target, app);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO %I',
                   target, app);
END
$ketascreen_roles$;
