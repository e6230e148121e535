-- ---------------------------------------------------------------------------
-- Text features (src/text): the tokenizer every text feature column uses
-- ---------------------------------------------------------------------------

CREATE FUNCTION galaxy.tokenize(document text, config regconfig DEFAULT 'english') RETURNS text[]
    AS 'MODULE_PATHNAME', 'galaxy_tokenize' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.tokenize(text, regconfig) IS
    'The lexemes of a text, in order, as galaxy''s text features see them: the parser and dictionaries of a text search configuration (the lexemes to_tsvector indexes)';
