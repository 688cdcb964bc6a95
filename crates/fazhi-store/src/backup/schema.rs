//! What the database holds, read from its own catalogue: the application's tables in an
//! order that inserts every referenced row before the rows that reference it, their
//! columns with the portable kind of each, primary keys and self-references.

use std::collections::{BTreeMap, BTreeSet};

use crate::db::Db;
use crate::{Result, StoreError};

/// The portable kind of a column: what the two engines' migrations agree on (BIGINT ids and
/// times, TEXT, BOOLEAN, BLOB/BYTEA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
    Bool,
    Bytes,
}

/// A column that holds data (generated columns are left out: the database computes them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// `None` for a declared type this module cannot carry between engines.
    pub kind: Option<Kind>,
    /// The declared type, for messages.
    pub declared: String,
}

/// A table of the application (migration bookkeeping and full-text index internals excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// Primary-key columns, in key order (empty when the table has none).
    pub key: Vec<String>,
    /// (referencing column, referenced column) pairs of foreign keys into the table itself.
    pub self_refs: Vec<(String, String)>,
}

impl Table {
    /// The position of a column.
    pub fn index_of(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == column)
    }
}

/// The tables the migrations never copy: their own bookkeeping.
const SKIPPED: &[&str] = &["_sqlx_migrations"];

/// Double-quotes an identifier (the names come from the catalogue).
pub(crate) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn sqlite_kind(declared: &str) -> Option<Kind> {
    // SQLite's own affinity rules, with BOOLEAN (stored 0/1) told apart from integers.
    let t = declared.to_ascii_uppercase();
    if t.contains("BOOL") {
        Some(Kind::Bool)
    } else if t.contains("INT") {
        Some(Kind::Int)
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        Some(Kind::Text)
    } else if t.contains("BLOB") {
        Some(Kind::Bytes)
    } else {
        None
    }
}

fn pg_kind(data_type: &str) -> Option<Kind> {
    match data_type {
        "bigint" | "integer" | "smallint" => Some(Kind::Int),
        "text" | "character varying" | "character" => Some(Kind::Text),
        "boolean" => Some(Kind::Bool),
        "bytea" => Some(Kind::Bytes),
        _ => None,
    }
}

/// The application's tables in dependency order (a referenced table before the tables that
/// reference it; ties by name).
///
/// # Errors
/// [`StoreError`] when the catalogue cannot be read, or [`StoreError::Corrupt`] when foreign
/// keys form a cycle between tables.
pub async fn tables(db: &Db) -> Result<Vec<Table>> {
    let (mut tables, edges) = match db {
        Db::Sqlite(p) => sqlite_tables(p).await?,
        Db::Postgres(p) => pg_tables(p).await?,
    };
    // Kahn's algorithm over "table depends on referenced table".
    let names: BTreeSet<String> = tables.keys().cloned().collect();
    let mut deps: BTreeMap<String, BTreeSet<String>> = names.iter().map(|n| (n.clone(), BTreeSet::new())).collect();
    for (from, to) in edges {
        if from != to && names.contains(&from) && names.contains(&to) {
            deps.entry(from).or_default().insert(to);
        }
    }
    let mut ordered = Vec::new();
    while !deps.is_empty() {
        let ready: Vec<String> = deps.iter().filter(|(_, d)| d.is_empty()).map(|(n, _)| n.clone()).collect();
        if ready.is_empty() {
            let rest: Vec<&str> = deps.keys().map(String::as_str).collect();
            return Err(StoreError::Corrupt(format!("这些表的外键相互引用，无法排定复制顺序：{}", rest.join("、"))));
        }
        for n in &ready {
            deps.remove(n);
            for d in deps.values_mut() {
                d.remove(n);
            }
            if let Some(t) = tables.remove(n) {
                ordered.push(t);
            }
        }
    }
    Ok(ordered)
}

type Catalogue = (BTreeMap<String, Table>, Vec<(String, String)>);

async fn sqlite_tables(p: &sqlx::SqlitePool) -> Result<Catalogue> {
    let listed: Vec<(String, String)> =
        sqlx::query_as("select name, type from pragma_table_list where schema = 'main'").fetch_all(p).await?;
    let virtuals: Vec<String> = listed.iter().filter(|(_, t)| t == "virtual").map(|(n, _)| format!("{n}_")).collect();
    let mut tables = BTreeMap::new();
    let mut edges = Vec::new();
    for (name, kind) in listed {
        if kind != "table"
            || name.starts_with("sqlite_")
            || SKIPPED.contains(&name.as_str())
            || virtuals.iter().any(|v| name.starts_with(v.as_str()))
        {
            continue;
        }
        let cols: Vec<(String, String, i64, i64)> =
            sqlx::query_as("select name, type, pk, hidden from pragma_table_xinfo(?) order by cid")
                .bind(&name)
                .fetch_all(p)
                .await?;
        let mut key: Vec<(i64, String)> = cols.iter().filter(|c| c.2 > 0).map(|c| (c.2, c.0.clone())).collect();
        key.sort();
        let columns = cols
            .into_iter()
            .filter(|c| c.3 == 0)
            .map(|(n, t, _, _)| Column { name: n, kind: sqlite_kind(&t), declared: t })
            .collect();
        let fks: Vec<(String, String, Option<String>)> =
            sqlx::query_as("select \"table\", \"from\", \"to\" from pragma_foreign_key_list(?)")
                .bind(&name)
                .fetch_all(p)
                .await?;
        let mut self_refs = Vec::new();
        for (to_table, from, to) in fks {
            if to_table == name {
                // A reference without a column names the primary key.
                let to = to.or_else(|| key.first().map(|k| k.1.clone())).unwrap_or_default();
                self_refs.push((from, to));
            }
            edges.push((name.clone(), to_table));
        }
        let key = key.into_iter().map(|k| k.1).collect();
        tables.insert(name.clone(), Table { name, columns, key, self_refs });
    }
    Ok((tables, edges))
}

const PG_TABLES: &str = "select table_name::text from information_schema.tables \
    where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1";
const PG_COLUMNS: &str = "select column_name::text, data_type::text, is_generated::text \
    from information_schema.columns where table_schema = current_schema() and table_name = $1 \
    order by ordinal_position";
const PG_KEY: &str = "select a.attname::text from pg_index i \
    join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey) \
    where i.indrelid = (quote_ident(current_schema()) || '.' || quote_ident($1))::regclass and i.indisprimary \
    order by array_position(i.indkey::int2[], a.attnum)";
const PG_FKS: &str = "select c1.relname::text, a1.attname::text, c2.relname::text, a2.attname::text \
    from pg_constraint k \
    join pg_class c1 on c1.oid = k.conrelid join pg_namespace n on n.oid = c1.relnamespace \
    join pg_class c2 on c2.oid = k.confrelid \
    join pg_attribute a1 on a1.attrelid = k.conrelid and a1.attnum = k.conkey[1] \
    join pg_attribute a2 on a2.attrelid = k.confrelid and a2.attnum = k.confkey[1] \
    where k.contype = 'f' and n.nspname = current_schema()";

async fn pg_tables(p: &sqlx::PgPool) -> Result<Catalogue> {
    let names: Vec<(String,)> = sqlx::query_as(PG_TABLES).fetch_all(p).await?;
    let fks: Vec<(String, String, String, String)> = sqlx::query_as(PG_FKS).fetch_all(p).await?;
    let mut tables = BTreeMap::new();
    for (name,) in names {
        if SKIPPED.contains(&name.as_str()) {
            continue;
        }
        let cols: Vec<(String, String, String)> = sqlx::query_as(PG_COLUMNS).bind(&name).fetch_all(p).await?;
        let columns = cols
            .into_iter()
            .filter(|c| c.2 != "ALWAYS")
            .map(|(n, t, _)| Column { name: n, kind: pg_kind(&t), declared: t })
            .collect();
        let key: Vec<(String,)> = sqlx::query_as(PG_KEY).bind(&name).fetch_all(p).await?;
        let self_refs = fks.iter().filter(|f| f.0 == name && f.2 == name).map(|f| (f.1.clone(), f.3.clone())).collect();
        tables.insert(name.clone(), Table { name, columns, key: key.into_iter().map(|k| k.0).collect(), self_refs });
    }
    let edges = fks.into_iter().map(|(from, _, to, _)| (from, to)).collect();
    Ok((tables, edges))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(sqlite_kind("BIGINT"), Some(Kind::Int));
        assert_eq!(sqlite_kind("INTEGER"), Some(Kind::Int));
        assert_eq!(sqlite_kind("BOOLEAN"), Some(Kind::Bool));
        assert_eq!(sqlite_kind("TEXT"), Some(Kind::Text));
        assert_eq!(sqlite_kind("BLOB"), Some(Kind::Bytes));
        assert_eq!(sqlite_kind("REAL"), None);
        assert_eq!(pg_kind("bytea"), Some(Kind::Bytes));
        assert_eq!(pg_kind("tsvector"), None);
        assert_eq!(quoted("a\"b"), "\"a\"\"b\"");
    }
}
