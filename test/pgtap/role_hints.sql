-- test/pgtap/role_hints.sql — where galaxy itself checks a role (beyond
-- PostgreSQL's EXECUTE privilege, which a DBA may widen), its error names
-- the role to grant in a HINT.  PostgreSQL's own "permission denied for
-- function" cannot carry one (docs/troubleshooting.md explains it).
BEGIN;
SELECT plan(6);

CREATE ROLE rh_tess LOGIN IN ROLE galaxy_trainer;
-- a DBA let the trainer call two functions meant for other roles
GRANT EXECUTE ON FUNCTION galaxy.set_require_approval(text, boolean) TO rh_tess;
GRANT EXECUTE ON FUNCTION galaxy.approve(bigint, text) TO rh_tess;

CREATE FUNCTION pg_temp.error_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text;
    hint text;
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, hint = PG_EXCEPTION_HINT;
    RETURN st || ' | ' || hint;
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.error_of(text) TO rh_tess;

SET LOCAL ROLE rh_tess;
SELECT is(pg_temp.error_of($$SELECT galaxy.approve(1, 'fine')$$),
          '42501 | An administrator can run GRANT galaxy_approver TO rh_tess.',
          'approving without galaxy_approver: the hint names the role to grant');
SELECT matches(pg_temp.error_of($$SELECT galaxy.set_require_approval('p', false)$$),
               '^42501 \| .*GRANT galaxy_admin TO rh_tess',
               'changing the approval policy without galaxy_admin: the hint names the role to grant');
RESET ROLE;

-- without the extra grants, PostgreSQL refuses first; galaxy adds the hint
-- to that error too (registry/role_hint.c)
REVOKE EXECUTE ON FUNCTION galaxy.approve(bigint, text) FROM rh_tess;
SET LOCAL ROLE rh_tess;
SELECT is(pg_temp.error_of($$SELECT galaxy.approve(1, 'fine')$$),
          '42501 | galaxy.approve is for galaxy_approver: an administrator can run GRANT galaxy_approver TO rh_tess.',
          'PostgreSQL''s own EXECUTE check comes first, and galaxy adds the role to grant to it');
RESET ROLE;
SELECT ok(NOT has_function_privilege('rh_tess', 'galaxy.approve(bigint, text)', 'EXECUTE'),
          'the trainer holds no EXECUTE on approve by galaxy''s grants');

-- whole-row predict runs as galaxy_internal.predict_columns (the planner's
-- rewrite, found without a name lookup): a role without galaxy's roles and
-- without USAGE on galaxy_internal gets the EXECUTE error with its hint, and
-- a galaxy_reader predicts
CREATE TABLE public.rh_pts AS SELECT i::float8 AS x, (2 * i + 1)::float8 AS y FROM generate_series(1, 40) i;
SET LOCAL client_min_messages = warning;
SELECT galaxy.train('rh_lin', 'public.rh_pts', 'y', 'linear_regression');
RESET client_min_messages;
CREATE ROLE rh_nemo LOGIN;
CREATE ROLE rh_rita LOGIN IN ROLE galaxy_reader;
GRANT SELECT ON public.rh_pts TO rh_nemo, rh_rita;
SELECT galaxy.grant_project('rh_lin', 'rh_rita', 'read');
SET LOCAL ROLE rh_nemo;
SELECT is(pg_temp.error_of($$SELECT galaxy.predict('rh_lin', p) FROM public.rh_pts p$$),
          '42501 | galaxy_internal.predict_columns is for galaxy_reader: an administrator can run GRANT galaxy_reader TO rh_nemo.',
          'whole-row predict without galaxy_reader: the EXECUTE error of the rewritten call, with the role to grant');
RESET ROLE;
SET LOCAL ROLE rh_rita;
SELECT is((SELECT round(galaxy.predict('rh_lin', p)::numeric, 6) FROM public.rh_pts p WHERE x = 3), 7.000000,
          'a galaxy_reader predicts from a whole row (the rewrite into galaxy_internal)');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
