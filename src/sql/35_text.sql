-- ---------------------------------------------------------------------------
-- Text features (src/text): the tokenizer every text feature column uses
-- ---------------------------------------------------------------------------

CREATE FUNCTION galaxy.tokenize(document text, config regconfig DEFAULT 'english') RETURNS text[]
    AS 'MODULE_PATHNAME', 'galaxy_tokenize' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.tokenize(text, regconfig) IS
    'The lexemes of a text, in order, as galaxy''s text features see them: the parser and dictionaries of a text search configuration (the lexemes to_tsvector indexes)';

-- galaxy's own word parser (src/text/words.c): words of two or more letters,
-- digits or underscores, as scikit-learn's default token pattern finds them;
-- galaxy.words lower-cases them with the 'simple' dictionary (no stemming, no
-- stop words).
CREATE FUNCTION galaxy_internal.words_start(internal, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'galaxy_words_start' LANGUAGE C STRICT;
CREATE FUNCTION galaxy_internal.words_token(internal, internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'galaxy_words_token' LANGUAGE C STRICT;
CREATE FUNCTION galaxy_internal.words_end(internal) RETURNS void
    AS 'MODULE_PATHNAME', 'galaxy_words_end' LANGUAGE C STRICT;
CREATE FUNCTION galaxy_internal.words_lextype(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'galaxy_words_lextype' LANGUAGE C STRICT;
COMMENT ON FUNCTION galaxy_internal.words_start(internal, integer) IS 'Start of the text search parser galaxy_internal.words (called by PostgreSQL''s text search only)';
COMMENT ON FUNCTION galaxy_internal.words_token(internal, internal, internal) IS 'The next word of the text search parser galaxy_internal.words (called by PostgreSQL''s text search only)';
COMMENT ON FUNCTION galaxy_internal.words_end(internal) IS 'End of the text search parser galaxy_internal.words (called by PostgreSQL''s text search only)';
COMMENT ON FUNCTION galaxy_internal.words_lextype(internal) IS 'Token types of the text search parser galaxy_internal.words: word';
CREATE TEXT SEARCH PARSER galaxy_internal.words (
    START = galaxy_internal.words_start,
    GETTOKEN = galaxy_internal.words_token,
    END = galaxy_internal.words_end,
    LEXTYPES = galaxy_internal.words_lextype);
COMMENT ON TEXT SEARCH PARSER galaxy_internal.words IS
    'galaxy''s word parser: runs of two or more letters, digits or underscores (scikit-learn''s default token pattern), token type "word"';
CREATE TEXT SEARCH CONFIGURATION galaxy.words (PARSER = galaxy_internal.words);
ALTER TEXT SEARCH CONFIGURATION galaxy.words ADD MAPPING FOR word WITH pg_catalog.simple;
COMMENT ON TEXT SEARCH CONFIGURATION galaxy.words IS
    'Words of two or more letters, digits or underscores, lower-cased, no stemming, no stop words: the tokens of scikit-learn''s TfidfVectorizer; galaxy''s fastest configuration for text features';
