-- test/pgtap/comments.sql — every column of every galaxy table and view has a
-- COMMENT (src/sql/95_comments.sql), as every table, view and function does
-- (catalog.sql): \d+ in psql and BI tools show them.
BEGIN;
SELECT plan(3);

SELECT is_empty($$
    SELECT c.relname || '.' || a.attname
      FROM pg_class c
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE c.relnamespace = 'galaxy'::regnamespace
       AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND col_description(c.oid, a.attnum) IS NULL
     ORDER BY 1
$$, 'every column of every galaxy table and view has a COMMENT');

SELECT cmp_ok((SELECT count(*)::int FROM pg_class c
                JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
               WHERE c.relnamespace = 'galaxy'::regnamespace AND c.relkind IN ('r', 'p', 'v')),
              '>=', 200, 'the check above saw the catalog (at least 200 columns)');

-- a column comment says something: not empty, not just the column's name
SELECT is_empty($$
    SELECT c.relname || '.' || a.attname
      FROM pg_class c
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE c.relnamespace = 'galaxy'::regnamespace
       AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND (length(btrim(col_description(c.oid, a.attnum))) < 4
            OR lower(btrim(col_description(c.oid, a.attnum))) = lower(a.attname))
$$, 'no column comment is empty or merely repeats the column name');

SELECT * FROM finish();
ROLLBACK;
