"""The search index on PostgreSQL: a table with a weighted tsvector, kept current by triggers.

What 0004 does with FTS5 on SQLite, done with PostgreSQL's own full-text search. One table,
`search_index`, holds one row per searchable thing, exactly as 0004 indexes them: a record
(title; notes), a file (name; the text of its PDF), an opinion (diagnosis; stage, plan and
notes), a question (text; answer) and a doctor (name; specialty, institution and notes),
keyed by (kind, item_id), with the patient it belongs to. Its `document` column, computed
by the database from title and body, weighs the title A and the body B; a GIN index serves
`document @@ query`, and an index on patient_id keeps a search within one patient.

One PL/pgSQL trigger function per table keeps it right on insert, update (only of the
columns the index reads, as in 0004: a file's text arriving with `record read-text` is one)
and delete, whoever writes and whatever cascades. Existing rows are indexed by the upgrade.

Words are read as FTS5's `porter unicode61 remove_diacritics 2` reads them, so that a
search finds the same things on both databases:
- Every punctuation character counts as a space (`search_index_words`), as in unicode61.
  PostgreSQL's own parser would keep `pathology.pdf` or `ER+/PR+` as one token (a host
  name, a file path), and `pathology` would not find the file.
- Accents on Latin letters are removed ("Adán" is read "Adan"), by Unicode decomposition.
  No extension is needed: `unaccent` would have to be created by a user allowed to create
  extensions, once per database and outside the binder's schema, which a navigator's
  database user may not be allowed to do (and which the test suite's schema per test
  would drop under the next test). Everything here lives in the binder's own schema.
- English stemming (the Snowball stemmer, Porter's successor) without a stop-word list:
  FTS5 finds "the" and "is", so this does too.
Both changes are one character for one (punctuation becomes a space; the binder's text is
kept in NFC, where an accented Latin letter is one character), so a snippet made from the
words can be mapped back to the original text, accents and punctuation included.

A tsvector holds at most 1 MB: for a text too large for one (a PDF of well over a million
characters), `search_index_document` indexes the largest start of it that fits.

On SQLite this revision does nothing (0004 made the FTS5 index there).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "search_index"
CONFIG = "search_index_english"  # the text search configuration
STEMMER = "search_index_stem"  # its dictionary: English Snowball, no stop words

# (table = kind, title column, body columns, patient expression, columns that name the
# patient). `{row}` is `NEW.` in a trigger and the table's name when the upgrade fills the
# index; a file's patient is its record's. The same things 0004 indexes.
RECORD_PATIENT = "(SELECT patient_id FROM record WHERE record.id = {row}record_id)"
SOURCES = (
    ("record", "title", ("notes",), "{row}patient_id", "patient_id"),
    ("file", "original_name", ("text",), RECORD_PATIENT, "record_id"),
    ("opinion", "diagnosis", ("stage", "plan", "notes"), "{row}patient_id", "patient_id"),
    ("question", "text", ("answer",), "{row}patient_id", "patient_id"),
    ("doctor", "name", ("specialty", "institution", "notes"), "{row}patient_id", "patient_id"),
)

# Punctuation and symbols, which unicode61 treats as separators: ASCII's (! to /, : to @,
# [ to `, { to ~), Latin-1's (but not its letters and numbers: ª ² ³ µ ¹ º ¼ ½ ¾), × and
# ÷, and the General Punctuation block (dashes, curly quotes, bullets, ellipsis).
PUNCTUATION = (
    r"[\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E"
    r"\u00A0-\u00A9\u00AB-\u00B1\u00B4\u00B6-\u00B8\u00BB\u00BF\u00D7\u00F7\u2000-\u206F]"
)
ASCII_PUNCTUATION = r"[!-/:-@[-`{-~]"
# A Latin letter with an accent, precomposed or followed by combining marks.
ACCENTED = r"[\u00C0-\u024F\u1E00-\u1EFF\u0300-\u036F]"
UNACCENT = (
    r"normalize(regexp_replace(normalize(words, NFD), '([A-Za-z])[\u0300-\u036F]+', '\1',"
    r" 'g'), NFC)"
)


def _unicode() -> bool:
    """Whether the database holds Unicode (normalize() needs it; other encodings, rare, get
    ASCII punctuation only and keep their accents)."""
    encoding = op.get_bind().exec_driver_sql("SHOW server_encoding").scalar()
    return encoding == "UTF8"


def _functions(unicode: bool) -> list[str]:
    if unicode:
        kept = "CASE WHEN words IS NFC NORMALIZED THEN words ELSE normalize(words, NFC) END"
        unaccented = f"CASE WHEN words ~ '{ACCENTED}' THEN {UNACCENT} ELSE words END"
        punctuation = PUNCTUATION
    else:
        kept, unaccented, punctuation = "words", "words", ASCII_PUNCTUATION
    return [
        # The text the index keeps (NFC: one character per accented letter).
        f"CREATE FUNCTION {INDEX}_text(words text) RETURNS text"
        f" LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT {kept} $$",
        # What the parser reads: no accents, punctuation as spaces, one character for one.
        f"CREATE FUNCTION {INDEX}_words(words text) RETURNS text"
        " LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS"
        f" $$ SELECT regexp_replace({unaccented}, '{punctuation}', ' ', 'g') $$",
        # SET search_path: pg_restore runs with an empty search path, and the functions
        # and text search configuration named inside must still be found (in this schema).
        f"""CREATE FUNCTION {INDEX}_document(title text, body text) RETURNS tsvector
        LANGUAGE plpgsql IMMUTABLE STRICT SET search_path FROM CURRENT AS $$
        DECLARE
            heading tsvector := setweight(to_tsvector('{CONFIG}', {INDEX}_words(title)), 'A');
            size integer := length(body);
        BEGIN
            LOOP
                BEGIN
                    RETURN heading || setweight(
                        to_tsvector('{CONFIG}', {INDEX}_words(left(body, size))), 'B');
                EXCEPTION WHEN program_limit_exceeded THEN
                    size := size / 2;  -- over 1 MB of tsvector: index the start of the text
                END;
            END LOOP;
        END $$""",
    ]


def _row(source: tuple[str, str, tuple[str, ...], str, str], row: str) -> str:
    """The index row of `source`'s row, as a SELECT list."""
    table, title, body, patient, _ = source
    fields = ", ".join(f"{row}{column}" for column in body)
    return (
        f"'{table}', {row}id, {patient.format(row=row)}, {INDEX}_text({row}{title}),"
        f" {INDEX}_text(concat_ws(' — ', {fields}))"
    )


def _trigger(source: tuple[str, str, tuple[str, ...], str, str]) -> list[str]:
    table, title, body, _, owner = source
    function = f"{INDEX}_{table}"
    watched = ", ".join((title, *body, owner))
    return [
        f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                DELETE FROM {INDEX} WHERE kind = '{table}' AND item_id = OLD.id;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                INSERT INTO {INDEX} (kind, item_id, patient_id, title, body)
                SELECT {_row(source, "NEW.")};
            END IF;
            RETURN NULL;
        END $$""",  # noqa: S608 - constants, not data
        f"CREATE TRIGGER {function} AFTER INSERT OR DELETE OR UPDATE OF {watched} ON {table}"
        f" FOR EACH ROW EXECUTE FUNCTION {function}()",
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE TEXT SEARCH DICTIONARY {STEMMER} (TEMPLATE = snowball, LANGUAGE = english)")
    op.execute(f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = english)")
    op.execute(
        f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} ALTER MAPPING REPLACE english_stem WITH {STEMMER}"
    )
    for statement in _functions(_unicode()):
        op.execute(statement)
    op.execute(
        f"CREATE TABLE {INDEX} ("
        " kind text NOT NULL, item_id integer NOT NULL, patient_id integer NOT NULL,"
        " title text NOT NULL, body text NOT NULL,"
        f" document tsvector GENERATED ALWAYS AS ({INDEX}_document(title, body)) STORED,"
        f" CONSTRAINT {INDEX}_pkey PRIMARY KEY (kind, item_id))"
    )
    for source in SOURCES:
        table = source[0]
        # The trigger first: creating it locks the table against writes until this
        # transaction ends, so no row can slip in between the fill and the trigger.
        for statement in _trigger(source):
            op.execute(statement)
        fill = f"INSERT INTO {INDEX} (kind, item_id, patient_id, title, body) SELECT"
        op.execute(f"{fill} {_row(source, f'{table}.')} FROM {table}")
    # Built after the fill: one pass over the rows instead of one insert at a time.
    op.execute(f"CREATE INDEX {INDEX}_document ON {INDEX} USING gin (document)")
    op.execute(f"CREATE INDEX {INDEX}_patient ON {INDEX} (patient_id)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, *_ in SOURCES:
        op.execute(f"DROP TRIGGER IF EXISTS {INDEX}_{table} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {INDEX}_{table}()")
    op.execute(f"DROP TABLE IF EXISTS {INDEX}")
    op.execute(f"DROP FUNCTION IF EXISTS {INDEX}_document(text, text)")
    op.execute(f"DROP FUNCTION IF EXISTS {INDEX}_words(text)")
    op.execute(f"DROP FUNCTION IF EXISTS {INDEX}_text(text)")
    op.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}")
    op.execute(f"DROP TEXT SEARCH DICTIONARY IF EXISTS {STEMMER}")
