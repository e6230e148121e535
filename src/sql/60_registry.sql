-- ---------------------------------------------------------------------------
-- Registry governance (src/registry/audit.c, chain.c, governance.c):
-- the audit hash chain, project grants, approvals, model immutability.
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- Audit chain.  Ids are assigned by the chain trigger under the chain lock,
-- so id order is chain order.
-- ---------------------------------------------------------------------------
ALTER TABLE galaxy.audit_log ALTER COLUMN id DROP DEFAULT;

CREATE TABLE galaxy.audit_purges (
    id           bigserial PRIMARY KEY,
    purged_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    purged_by    name NOT NULL,
    before       timestamptz NOT NULL,
    deleted_rows bigint NOT NULL CHECK (deleted_rows >= 0),
    anchor_id    bigint NOT NULL,
    anchor_hash  bytea NOT NULL CHECK (length(anchor_hash) = 32)
);
COMMENT ON TABLE galaxy.audit_purges IS 'Append-only record of galaxy.purge_audit() runs; the newest anchor_hash is the hash the oldest remaining audit row chains to';
SELECT pg_catalog.pg_extension_config_dump('galaxy.audit_purges', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.audit_purges_id_seq', '');

CREATE FUNCTION galaxy.audit_log_chain() RETURNS trigger
    AS 'MODULE_PATHNAME', 'galaxy_audit_log_chain' LANGUAGE C;
COMMENT ON FUNCTION galaxy.audit_log_chain() IS 'Trigger: assigns id, time, session identity and txid of a new audit row and links it into the SHA-256 chain';

CREATE FUNCTION galaxy.append_only_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'galaxy_append_only_guard' LANGUAGE C;
COMMENT ON FUNCTION galaxy.append_only_guard() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE on append-only tables, for every role (galaxy.purge_audit() excepted)';

CREATE TRIGGER audit_log_chain BEFORE INSERT ON galaxy.audit_log
    FOR EACH ROW EXECUTE FUNCTION galaxy.audit_log_chain();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON galaxy.audit_log
    FOR EACH ROW EXECUTE FUNCTION galaxy.append_only_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON galaxy.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION galaxy.append_only_guard();
CREATE TRIGGER audit_purges_append_only BEFORE UPDATE OR DELETE ON galaxy.audit_purges
    FOR EACH ROW EXECUTE FUNCTION galaxy.append_only_guard();
CREATE TRIGGER audit_purges_no_truncate BEFORE TRUNCATE ON galaxy.audit_purges
    FOR EACH STATEMENT EXECUTE FUNCTION galaxy.append_only_guard();

CREATE FUNCTION galaxy.verify_audit(
    OUT ok boolean, OUT checked bigint, OUT first_broken_id bigint, OUT detail text)
    AS 'MODULE_PATHNAME', 'galaxy_verify_audit' LANGUAGE C STABLE;
COMMENT ON FUNCTION galaxy.verify_audit() IS 'Recompute the audit hash chain; ok = false names the first row whose link or content does not hold';

CREATE FUNCTION galaxy.audit_canonical(entry galaxy.audit_log) RETURNS bytea
    AS 'MODULE_PATHNAME', 'galaxy_audit_canonical' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION galaxy.audit_canonical(galaxy.audit_log) IS 'Canonical bytes of an audit row: hash = sha256(prev_hash || galaxy.audit_canonical(row))';

CREATE FUNCTION galaxy.audit_head(OUT id bigint, OUT hash bytea)
    AS 'MODULE_PATHNAME', 'galaxy_audit_head' LANGUAGE C STABLE;
COMMENT ON FUNCTION galaxy.audit_head() IS 'Id and hash of the newest audit row: record it outside the database to detect a rewritten or truncated chain later';

CREATE FUNCTION galaxy.purge_audit(before timestamptz) RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_purge_audit' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION galaxy.purge_audit(timestamptz) IS 'Superuser retention: delete audit rows older than "before", keeping the chain verifiable through an anchor in galaxy.audit_purges; audited';
