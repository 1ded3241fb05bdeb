//! Reads a migrated database's schema from the engine's own catalog and normalises it into [`Fact`]s
//! that can be compared across engines.
//!
//! Normalisation rules (each one erases a difference of engines, not of schemas):
//! - Column types are compared as a family (`text`, `integer`, `bigint`, `timestamp`, `boolean`, ...):
//!   SQLite keeps the declared type name, PostgreSQL its canonical one. `integer` and `bigint` stay
//!   apart because `schema.rs` maps them to different Rust types, which PostgreSQL enforces.
//! - A PRIMARY KEY column counts as NOT NULL: PostgreSQL implies it, SQLite (a legacy quirk) does not
//!   unless the key is an INTEGER; the store never writes a NULL id.
//! - PRIMARY KEY and UNIQUE constraints are compared by table and columns, not by the name of the
//!   index behind them: SQLite names those `sqlite_autoindex_<table>_<n>` whatever the SQL said.
//!   Every other index is compared by name.
//! - Index expressions, predicates and defaults are compared as SQL text made lower case, with
//!   identifier quotes, `::type` casts and grouping parentheses removed, and spaces kept only between
//!   words.
//! - Bookkeeping is not schema: SQLite's `sqlite_*` tables are skipped, and diesel's
//!   `__diesel_schema_migrations` only contributes the list of applied versions.

use std::collections::BTreeSet;
use std::fmt;

use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text};
use diesel::{QueryableByName, SqliteConnection, sql_query};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tidings_store::Backend;
use tidings_store::test_db::TestDb;

/// One normalised statement about a schema; a schema is the set of them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fact {
    /// An applied migration, by version.
    Migration(String),
    /// A table (SQLite's virtual tables included).
    Table(String),
    /// A view.
    View(String),
    /// A column with its type family, nullability and normalised default.
    Column { table: String, name: String, family: String, nullable: bool, default: Option<String> },
    /// A table's primary key.
    PrimaryKey { table: String, columns: Vec<String> },
    /// A UNIQUE constraint (as opposed to a unique index, which has a name of its own).
    Unique { table: String, columns: Vec<String> },
    /// An index created by name, with its normalised keys and predicate.
    Index { table: String, name: String, unique: bool, keys: Vec<String>, predicate: Option<String> },
    /// A foreign key and what deleting the referenced row does.
    ForeignKey {
        table: String,
        columns: Vec<String>,
        target: String,
        target_columns: Vec<String>,
        on_delete: String,
    },
    /// A trigger (PostgreSQL's internal ones, which implement foreign keys, are not listed).
    Trigger { table: String, name: String },
}

impl Fact {
    /// The table the fact is about (empty for migrations), to group a diff by table.
    pub fn table(&self) -> &str {
        match self {
            Fact::Migration(_) => "",
            Fact::Table(table) | Fact::View(table) => table,
            Fact::Column { table, .. }
            | Fact::PrimaryKey { table, .. }
            | Fact::Unique { table, .. }
            | Fact::Index { table, .. }
            | Fact::ForeignKey { table, .. }
            | Fact::Trigger { table, .. } => table,
        }
    }
}

impl fmt::Display for Fact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fact::Migration(version) => write!(f, "migration {version}"),
            Fact::Table(name) => write!(f, "table {name}"),
            Fact::View(name) => write!(f, "view {name}"),
            Fact::Column { table, name, family, nullable, default } => {
                write!(f, "column {table}.{name} {family} {}", if *nullable { "null" } else { "not null" })?;
                match default {
                    Some(default) => write!(f, " default {default}"),
                    None => Ok(()),
                }
            }
            Fact::PrimaryKey { table, columns } => write!(f, "primary key {table} ({})", columns.join(", ")),
            Fact::Unique { table, columns } => {
                write!(f, "unique constraint {table} ({})", columns.join(", "))
            }
            Fact::Index { table, name, unique, keys, predicate } => {
                let kind = if *unique { "unique index" } else { "index" };
                write!(f, "{kind} {name} on {table} ({})", keys.join(", "))?;
                match predicate {
                    Some(predicate) => write!(f, " where {predicate}"),
                    None => Ok(()),
                }
            }
            Fact::ForeignKey { table, columns, target, target_columns, on_delete } => write!(
                f,
                "foreign key {table} ({}) references {target} ({}) on delete {on_delete}",
                columns.join(", "),
                target_columns.join(", ")
            ),
            Fact::Trigger { table, name } => write!(f, "trigger {name} on {table}"),
        }
    }
}

/// The schema of `db`, read from its catalog over a connection of its own.
pub async fn read_schema(db: &TestDb) -> BTreeSet<Fact> {
    match db.store().backend() {
        Backend::Postgres => {
            let mut conn = AsyncPgConnection::establish(db.url()).await.expect("connect to PostgreSQL");
            read_postgres(&mut conn).await
        }
        Backend::Sqlite => {
            let path = db.url().strip_prefix("sqlite://").expect("a sqlite:// URL");
            let mut conn =
                SyncConnectionWrapper::<SqliteConnection>::establish(path).await.expect("open SQLite");
            read_sqlite(&mut conn).await
        }
    }
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = Text)]
    version: String,
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: pg_catalog and information_schema, limited to the current schema.

#[derive(QueryableByName)]
struct PgRelation {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
    #[diesel(sql_type = Nullable<Text>)]
    default_value: Option<String>,
}

#[derive(QueryableByName)]
struct PgConstraint {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Array<Text>)]
    columns: Vec<String>,
    #[diesel(sql_type = Nullable<Text>)]
    target: Option<String>,
    #[diesel(sql_type = Array<Text>)]
    target_columns: Vec<String>,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

#[derive(QueryableByName)]
struct PgIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Bool)]
    is_unique: bool,
    #[diesel(sql_type = Array<Text>)]
    keys: Vec<String>,
    #[diesel(sql_type = Nullable<Text>)]
    predicate: Option<String>,
}

#[derive(QueryableByName)]
struct PgTrigger {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    table_name: String,
}

const PG_RELATIONS: &str = "SELECT c.relname::text AS name, c.relkind::text AS kind \
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm') \
    AND c.relname <> '__diesel_schema_migrations'";

const PG_COLUMNS: &str = "SELECT table_name::text AS table_name, column_name::text AS name, \
    data_type::text AS data_type, is_nullable = 'YES' AS nullable, column_default::text AS default_value \
    FROM information_schema.columns \
    WHERE table_schema = current_schema() AND table_name <> '__diesel_schema_migrations'";

// Key columns by name, in key order, for primary keys, UNIQUE constraints and foreign keys.
const PG_CONSTRAINTS: &str = "SELECT c.contype::text AS kind, t.relname::text AS table_name, \
    ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) \
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns, \
    r.relname::text AS target, \
    ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord) \
          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord) \
        AS target_columns, \
    CASE c.confdeltype WHEN 'c' THEN 'cascade' WHEN 'n' THEN 'set null' WHEN 'd' THEN 'set default' \
        WHEN 'r' THEN 'restrict' ELSE 'no action' END AS on_delete \
    FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
    JOIN pg_namespace n ON n.oid = t.relnamespace LEFT JOIN pg_class r ON r.oid = c.confrelid \
    WHERE n.nspname = current_schema() AND c.contype IN ('p', 'u', 'f') \
    AND t.relname <> '__diesel_schema_migrations'";

// Indexes other than those behind a PRIMARY KEY, UNIQUE or EXCLUDE constraint.
const PG_INDEXES: &str = "SELECT i.relname::text AS name, t.relname::text AS table_name, \
    x.indisunique AS is_unique, \
    ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true) FROM generate_series(1, x.indnkeyatts::int) AS k \
          ORDER BY k) AS keys, \
    pg_get_expr(x.indpred, x.indrelid, true) AS predicate \
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
    JOIN pg_namespace n ON n.oid = t.relnamespace \
    WHERE n.nspname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
        WHERE c.conindid = x.indexrelid AND c.contype IN ('p', 'u', 'x'))";

const PG_TRIGGERS: &str = "SELECT g.tgname::text AS name, t.relname::text AS table_name \
    FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
    WHERE n.nspname = current_schema() AND NOT g.tgisinternal";

const MIGRATIONS: &str = "SELECT version FROM __diesel_schema_migrations ORDER BY version";

async fn read_postgres(conn: &mut AsyncPgConnection) -> BTreeSet<Fact> {
    let mut facts = BTreeSet::new();
    let relations: Vec<PgRelation> = sql_query(PG_RELATIONS).load(conn).await.expect(PG_RELATIONS);
    for r in relations {
        facts.insert(if r.kind == "v" || r.kind == "m" { Fact::View(r.name) } else { Fact::Table(r.name) });
    }
    let columns: Vec<PgColumn> = sql_query(PG_COLUMNS).load(conn).await.expect(PG_COLUMNS);
    for c in columns {
        facts.insert(Fact::Column {
            table: c.table_name,
            name: c.name,
            family: pg_family(&c.data_type),
            nullable: c.nullable,
            default: c.default_value.as_deref().map(normalise_sql),
        });
    }
    let constraints: Vec<PgConstraint> = sql_query(PG_CONSTRAINTS).load(conn).await.expect(PG_CONSTRAINTS);
    for c in constraints {
        facts.insert(match c.kind.as_str() {
            "p" => Fact::PrimaryKey { table: c.table_name, columns: c.columns },
            "u" => Fact::Unique { table: c.table_name, columns: c.columns },
            _ => Fact::ForeignKey {
                table: c.table_name,
                columns: c.columns,
                target: c.target.unwrap_or_default(),
                target_columns: c.target_columns,
                on_delete: c.on_delete,
            },
        });
    }
    let indexes: Vec<PgIndex> = sql_query(PG_INDEXES).load(conn).await.expect(PG_INDEXES);
    for i in indexes {
        facts.insert(Fact::Index {
            table: i.table_name,
            name: i.name,
            unique: i.is_unique,
            keys: i.keys.iter().map(|k| normalise_sql(k)).collect(),
            predicate: i.predicate.as_deref().map(normalise_sql),
        });
    }
    let triggers: Vec<PgTrigger> = sql_query(PG_TRIGGERS).load(conn).await.expect(PG_TRIGGERS);
    for t in triggers {
        facts.insert(Fact::Trigger { table: t.table_name, name: t.name });
    }
    let versions: Vec<Version> = sql_query(MIGRATIONS).load(conn).await.expect(MIGRATIONS);
    facts.extend(versions.into_iter().map(|v| Fact::Migration(v.version)));
    facts
}

/// The type family of a PostgreSQL `information_schema.columns.data_type`.
fn pg_family(data_type: &str) -> String {
    match data_type {
        "text" | "character varying" | "character" => "text",
        "smallint" => "smallint",
        "integer" => "integer",
        "bigint" => "bigint",
        "timestamp without time zone" => "timestamp",
        "timestamp with time zone" => "timestamptz",
        "date" => "date",
        "time without time zone" => "time",
        "boolean" => "boolean",
        "real" | "double precision" => "float",
        "bytea" => "binary",
        other => other,
    }
    .to_owned()
}

// ---------------------------------------------------------------------------------------------
// SQLite: sqlite_master and the table-valued pragmas.

#[derive(QueryableByName)]
struct SqliteObject {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    sql: Option<String>,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    declared: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
    #[diesel(sql_type = Nullable<Text>)]
    default_value: Option<String>,
    #[diesel(sql_type = BigInt)]
    pk: i64,
}

#[derive(QueryableByName)]
struct SqliteIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    is_unique: bool,
    #[diesel(sql_type = Text)]
    origin: String,
}

#[derive(QueryableByName)]
struct SqliteIndexColumn {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}

#[derive(QueryableByName)]
struct SqliteForeignKey {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    target: String,
    #[diesel(sql_type = Text)]
    source: String,
    #[diesel(sql_type = Nullable<Text>)]
    target_column: Option<String>,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

const SQLITE_OBJECTS: &str = "SELECT type AS kind, name, tbl_name AS table_name, sql FROM sqlite_master \
    WHERE type IN ('table', 'view', 'index', 'trigger') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
    AND name <> '__diesel_schema_migrations'";
const SQLITE_COLUMNS: &str = "SELECT name, type AS declared, \"notnull\" AS not_null, \
    dflt_value AS default_value, pk FROM pragma_table_info(?)";
const SQLITE_INDEXES: &str = "SELECT name, \"unique\" AS is_unique, origin FROM pragma_index_list(?)";
const SQLITE_INDEX_COLUMNS: &str = "SELECT name FROM pragma_index_info(?) ORDER BY seqno";
const SQLITE_FOREIGN_KEYS: &str = "SELECT id, \"table\" AS target, \"from\" AS source, \"to\" AS target_column, \
    on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq";

type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

async fn read_sqlite(conn: &mut SqliteConn) -> BTreeSet<Fact> {
    let mut facts = BTreeSet::new();
    let objects: Vec<SqliteObject> = sql_query(SQLITE_OBJECTS).load(conn).await.expect(SQLITE_OBJECTS);
    let tables: Vec<&str> = objects.iter().filter(|o| o.kind == "table").map(|o| o.name.as_str()).collect();
    for object in &objects {
        match object.kind.as_str() {
            "table" => {
                facts.insert(Fact::Table(object.name.clone()));
            }
            "view" => {
                facts.insert(Fact::View(object.name.clone()));
            }
            "trigger" => {
                facts.insert(Fact::Trigger { table: object.table_name.clone(), name: object.name.clone() });
            }
            _ => {}
        }
    }
    for table in tables.iter().copied() {
        let columns = sqlite_columns(conn, table).await;
        let mut key: Vec<(i64, String)> = Vec::new();
        for c in columns {
            if c.pk > 0 {
                key.push((c.pk, c.name.clone()));
            }
            facts.insert(Fact::Column {
                table: table.to_owned(),
                family: sqlite_family(&c.declared),
                nullable: !c.not_null && c.pk == 0,
                default: c.default_value.as_deref().map(normalise_sql),
                name: c.name,
            });
        }
        if !key.is_empty() {
            key.sort();
            let columns = key.into_iter().map(|(_, name)| name).collect();
            facts.insert(Fact::PrimaryKey { table: table.to_owned(), columns });
        }
        let indexes: Vec<SqliteIndex> =
            sql_query(SQLITE_INDEXES).bind::<Text, _>(table).load(conn).await.expect(SQLITE_INDEXES);
        for index in indexes {
            match index.origin.as_str() {
                // The primary key was read from the columns above.
                "pk" => {}
                "u" => {
                    let columns = sqlite_index_columns(conn, &index.name).await;
                    let columns = columns.into_iter().map(|c| c.unwrap_or_default()).collect();
                    facts.insert(Fact::Unique { table: table.to_owned(), columns });
                }
                _ => {
                    let sql = objects
                        .iter()
                        .find(|o| o.kind == "index" && o.name == index.name)
                        .and_then(|o| o.sql.as_deref())
                        .unwrap_or_else(|| panic!("no SQL for index {}", index.name));
                    let (keys, predicate) = parse_create_index(sql);
                    facts.insert(Fact::Index {
                        table: table.to_owned(),
                        name: index.name,
                        unique: index.is_unique,
                        keys,
                        predicate,
                    });
                }
            }
        }
        let foreign_keys: Vec<SqliteForeignKey> = sql_query(SQLITE_FOREIGN_KEYS)
            .bind::<Text, _>(table)
            .load(conn)
            .await
            .expect(SQLITE_FOREIGN_KEYS);
        let mut ids: Vec<i64> = foreign_keys.iter().map(|k| k.id).collect();
        ids.dedup();
        for id in ids {
            let parts: Vec<&SqliteForeignKey> = foreign_keys.iter().filter(|k| k.id == id).collect();
            let target = parts[0].target.clone();
            let mut target_columns: Vec<String> =
                parts.iter().filter_map(|k| k.target_column.clone()).collect();
            if target_columns.is_empty() {
                // `REFERENCES t` without columns means t's primary key.
                target_columns = sqlite_columns(conn, &target)
                    .await
                    .into_iter()
                    .filter(|c| c.pk > 0)
                    .map(|c| c.name)
                    .collect();
            }
            facts.insert(Fact::ForeignKey {
                table: table.to_owned(),
                columns: parts.iter().map(|k| k.source.clone()).collect(),
                target,
                target_columns,
                on_delete: parts[0].on_delete.to_lowercase(),
            });
        }
    }
    let versions: Vec<Version> = sql_query(MIGRATIONS).load(conn).await.expect(MIGRATIONS);
    facts.extend(versions.into_iter().map(|v| Fact::Migration(v.version)));
    facts
}

async fn sqlite_columns(conn: &mut SqliteConn, table: &str) -> Vec<SqliteColumn> {
    sql_query(SQLITE_COLUMNS).bind::<Text, _>(table).load(conn).await.expect(SQLITE_COLUMNS)
}

async fn sqlite_index_columns(conn: &mut SqliteConn, index: &str) -> Vec<Option<String>> {
    let columns: Vec<SqliteIndexColumn> =
        sql_query(SQLITE_INDEX_COLUMNS).bind::<Text, _>(index).load(conn).await.expect(SQLITE_INDEX_COLUMNS);
    columns.into_iter().map(|c| c.name).collect()
}

/// The type family of a type name as declared in SQLite (which keeps it verbatim).
fn sqlite_family(declared: &str) -> String {
    let declared = declared.to_ascii_uppercase();
    let base = declared.split('(').next().unwrap_or_default().trim();
    match base {
        "BIGINT" | "INT8" => "bigint",
        "SMALLINT" | "INT2" => "smallint",
        "INTEGER" | "INT" | "INT4" => "integer",
        "TIMESTAMP" | "DATETIME" => "timestamp",
        "TIMESTAMPTZ" => "timestamptz",
        "DATE" => "date",
        "TIME" => "time",
        "BOOLEAN" | "BOOL" => "boolean",
        "REAL" | "FLOAT" | "DOUBLE" | "DOUBLE PRECISION" => "float",
        "BLOB" | "BINARY" => "binary",
        // FTS5 columns, for one, have no declared type.
        "" => "untyped",
        _ if base.contains("CHAR") || base.contains("CLOB") || base.contains("TEXT") => "text",
        _ => return declared.to_lowercase(),
    }
    .to_owned()
}

/// The normalised keys and predicate of a `CREATE [UNIQUE] INDEX name ON table (keys) [WHERE p]`.
fn parse_create_index(sql: &str) -> (Vec<String>, Option<String>) {
    let lower = sql.to_ascii_lowercase();
    let on = lower.find(" on ").unwrap_or_else(|| panic!("not a CREATE INDEX: {sql}"));
    let open = on + lower[on..].find('(').unwrap_or_else(|| panic!("no key list: {sql}"));
    let (mut depth, mut close, mut start, mut keys) = (0, open, open + 1, Vec::new());
    for (i, ch) in sql.char_indices().skip_while(|(i, _)| *i < open) {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    close = i;
                    break;
                }
            }
            ',' if depth == 1 => {
                keys.push(normalise_sql(&sql[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    keys.push(normalise_sql(&sql[start..close]));
    let rest = sql[close + 1..].trim();
    let predicate = match rest.get(..5) {
        Some(word) if word.eq_ignore_ascii_case("where") => Some(normalise_sql(&rest[5..])),
        _ => None,
    };
    (keys, predicate)
}

// ---------------------------------------------------------------------------------------------
// SQL text.

/// `sql` (an expression, predicate or default) in a form both engines print alike: lower case outside
/// string literals, no identifier quotes, no `::type` casts, no grouping parentheses, and a space only
/// between two words. Grouping is dropped rather than compared because PostgreSQL adds its own when
/// it prints an expression back.
pub fn normalise_sql(sql: &str) -> String {
    let tokens = tokenize(sql);
    let mut out = String::new();
    let mut previous: Option<&Token> = None;
    // Per open parenthesis: whether it is a call's (kept) or grouping (dropped with its match).
    let mut calls = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        i += 1;
        match token {
            Token::Punct(':') if matches!(tokens.get(i), Some(Token::Punct(':'))) => {
                // A cast: `::` then the type name, which PostgreSQL may print in several words.
                i += 2;
                while let Some(Token::Word(w)) = tokens.get(i)
                    && ["varying", "precision", "without", "with", "time", "zone"].contains(&w.as_str())
                {
                    i += 1;
                }
                while matches!(tokens.get(i), Some(Token::Punct('[' | ']'))) {
                    i += 1;
                }
                continue;
            }
            Token::Punct('(') => {
                let call = matches!(previous, Some(Token::Word(w)) if !OPERATOR_WORDS.contains(&w.as_str()));
                calls.push(call);
                if !call {
                    continue;
                }
            }
            // The match of a dropped grouping parenthesis.
            Token::Punct(')') if !calls.pop().unwrap_or(true) => continue,
            _ => {}
        }
        if token.is_word() && previous.is_some_and(Token::is_word) {
            out.push(' ');
        }
        match token {
            Token::Word(text) | Token::Literal(text) => out.push_str(text),
            Token::Punct(ch) => out.push(*ch),
        }
        previous = Some(token);
    }
    out
}

/// Words after which a parenthesis groups (or lists) rather than calls a function.
const OPERATOR_WORDS: &[&str] =
    &["and", "or", "not", "in", "is", "like", "between", "when", "then", "else", "where", "exists", "on"];

/// A piece of SQL text.
enum Token {
    /// A keyword or identifier, lower case, unquoted.
    Word(String),
    /// A string literal, quotes included, as written.
    Literal(String),
    /// Any other character but white space.
    Punct(char),
}

impl Token {
    fn is_word(&self) -> bool {
        matches!(self, Token::Word(_) | Token::Literal(_))
    }
}

fn tokenize(sql: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\'' => {
                let mut literal = String::from(ch);
                while let Some(inner) = chars.next() {
                    literal.push(inner);
                    if inner == '\'' {
                        // A doubled quote is a quote inside the literal.
                        match chars.next_if_eq(&'\'') {
                            Some(quote) => literal.push(quote),
                            None => break,
                        }
                    }
                }
                tokens.push(Token::Literal(literal));
            }
            '"' => {
                let quoted: String = chars.by_ref().take_while(|&c| c != '"').collect();
                tokens.push(Token::Word(quoted.to_lowercase()));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut word: String = c.to_lowercase().collect();
                while let Some(next) = chars.next_if(|c| c.is_alphanumeric() || *c == '_') {
                    word.extend(next.to_lowercase());
                }
                tokens.push(Token::Word(word));
            }
            c if c.is_whitespace() => {}
            c => tokens.push(Token::Punct(c)),
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::{normalise_sql, parse_create_index};

    #[test]
    fn both_engines_print_alike() {
        assert_eq!(normalise_sql("(status <> 'resolved'::text)"), normalise_sql("status <> 'resolved'"));
        assert_eq!(normalise_sql("COALESCE(app_id, platform)"), "coalesce(app_id,platform)");
        assert_eq!(normalise_sql("'{}'::text"), "'{}'");
        assert_eq!(normalise_sql("'A  b'::character varying"), "'A  b'");
        assert_eq!(normalise_sql("\"External_Id\" IS NOT NULL"), "external_id is not null");
        assert_eq!(normalise_sql("(a > 0) AND (b = 'it''s')"), "a>0 and b='it''s'");
        assert_eq!(normalise_sql("now()::timestamp without time zone"), "now()");
    }

    #[test]
    fn create_index_is_split_into_keys_and_predicate() {
        let (keys, predicate) = parse_create_index(
            "CREATE UNIQUE INDEX x ON conversations (contact_id, COALESCE(app_id, platform))\n    WHERE status <> 'resolved'",
        );
        assert_eq!(keys, ["contact_id", "coalesce(app_id,platform)"]);
        assert_eq!(predicate.as_deref(), Some("status<>'resolved'"));
        assert_eq!(parse_create_index("CREATE INDEX y ON t (a, b)"), (vec!["a".into(), "b".into()], None));
    }
}
