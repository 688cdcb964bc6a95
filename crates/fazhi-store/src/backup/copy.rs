//! Copying rows between databases of either engine, read generically by the kind of each
//! column: integers, text, booleans (0/1 on SQLite, native on PostgreSQL) and bytes (BLOB /
//! BYTEA). Generated columns are recomputed by the target; full-text indexes are rebuilt.

use std::collections::HashSet;

use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::query_builder::Separated;
use sqlx::{AssertSqlSafe, QueryBuilder, Row};

use super::schema::{Column, Kind, Table, quoted};
use crate::db::Tx;
use crate::db::TxInner;
use crate::{Result, StoreError};

/// One stored value, as both engines can hold it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
    Bytes(Vec<u8>),
}

fn unsupported(table: &str, c: &Column) -> StoreError {
    StoreError::Corrupt(format!("表 {table} 的列 {} 类型为 {}，无法在两种数据库之间复制", c.name, c.declared))
}

/// The kinds of `cols`, or which column has none.
fn kinds(table: &Table) -> Result<Vec<Kind>> {
    table.columns.iter().map(|c| c.kind.ok_or_else(|| unsupported(&table.name, c))).collect()
}

fn decode_sqlite(row: &sqlx::sqlite::SqliteRow, kinds: &[Kind]) -> Result<Vec<Value>> {
    // Unchecked: SQLite types values, not columns; the declared kind says what to read.
    let mut out = Vec::with_capacity(kinds.len());
    for (i, k) in kinds.iter().enumerate() {
        let v = match k {
            Kind::Int => row.try_get_unchecked::<Option<i64>, _>(i)?.map(Value::Int),
            Kind::Bool => row.try_get_unchecked::<Option<i64>, _>(i)?.map(|b| Value::Bool(b != 0)),
            Kind::Text => row.try_get_unchecked::<Option<String>, _>(i)?.map(Value::Text),
            Kind::Bytes => row.try_get_unchecked::<Option<Vec<u8>>, _>(i)?.map(Value::Bytes),
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(out)
}

fn decode_pg(row: &sqlx::postgres::PgRow, kinds: &[Kind]) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(kinds.len());
    for (i, k) in kinds.iter().enumerate() {
        let v = match k {
            // Narrower integer columns are widened by the select (`::bigint`).
            Kind::Int => row.try_get::<Option<i64>, _>(i)?.map(Value::Int),
            Kind::Bool => row.try_get::<Option<bool>, _>(i)?.map(Value::Bool),
            Kind::Text => row.try_get::<Option<String>, _>(i)?.map(Value::Text),
            Kind::Bytes => row.try_get::<Option<Vec<u8>>, _>(i)?.map(Value::Bytes),
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(out)
}

/// `v` as a value of kind `k`, when it can be one without loss.
fn convert(v: Value, k: Kind) -> Option<Value> {
    Some(match (v, k) {
        (Value::Null, _) => Value::Null,
        (Value::Int(i), Kind::Int) => Value::Int(i),
        (Value::Int(i), Kind::Bool) => Value::Bool(i != 0),
        (Value::Bool(b), Kind::Bool) => Value::Bool(b),
        (Value::Bool(b), Kind::Int) => Value::Int(i64::from(b)),
        (Value::Text(s), Kind::Text) => Value::Text(s),
        (Value::Text(s), Kind::Bytes) => Value::Bytes(s.into_bytes()),
        (Value::Bytes(b), Kind::Bytes) => Value::Bytes(b),
        (Value::Bytes(b), Kind::Text) => Value::Text(String::from_utf8(b).ok()?),
        _ => return None,
    })
}

macro_rules! bind_value {
    ($s:expr, $v:expr, $k:expr) => {
        match ($v, $k) {
            (Value::Null, Kind::Int) => $s.push_bind(None::<i64>),
            (Value::Null, Kind::Bool) => $s.push_bind(None::<bool>),
            (Value::Null, Kind::Text) => $s.push_bind(None::<String>),
            (Value::Null, Kind::Bytes) => $s.push_bind(None::<Vec<u8>>),
            (Value::Int(i), _) => $s.push_bind(i),
            (Value::Bool(b), _) => $s.push_bind(b),
            (Value::Text(t), _) => $s.push_bind(t),
            (Value::Bytes(b), _) => $s.push_bind(b),
        }
    };
}

fn push_row_sqlite(mut s: Separated<'_, sqlx::Sqlite, &'static str>, row: Vec<Value>, kinds: &[Kind]) {
    for (v, k) in row.into_iter().zip(kinds) {
        bind_value!(s, v, *k);
    }
}

fn push_row_pg(mut s: Separated<'_, sqlx::Postgres, &'static str>, row: Vec<Value>, kinds: &[Kind]) {
    for (v, k) in row.into_iter().zip(kinds) {
        bind_value!(s, v, *k);
    }
}

/// Inserts `rows` (already converted to `kinds`) into `table` on `dst` with one statement.
async fn insert(dst: &mut Tx, table: &Table, kinds: &[Kind], rows: Vec<Vec<Value>>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let cols: Vec<String> = table.columns.iter().map(|c| quoted(&c.name)).collect();
    let head = format!("insert into {} ({}) ", quoted(&table.name), cols.join(", "));
    match dst.inner_mut() {
        TxInner::Sqlite(t) => {
            let mut qb = QueryBuilder::<sqlx::Sqlite>::new(head);
            qb.push_values(rows, |s, row| push_row_sqlite(s, row, kinds));
            qb.build().execute(&mut **t).await?;
        }
        TxInner::Postgres(t) => {
            let mut qb = QueryBuilder::<sqlx::Postgres>::new(head);
            qb.push_values(rows, |s, row| push_row_pg(s, row, kinds));
            qb.build().execute(&mut **t).await?;
        }
    }
    Ok(())
}

/// The rows of `from` (in key order), as a stream of values in `order` of its columns.
fn rows<'a>(src: &'a mut Tx, from: &Table, order: &[usize], kinds: Vec<Kind>) -> BoxStream<'a, Result<Vec<Value>>> {
    let pg = src.engine() == crate::Engine::Postgres;
    let cols: Vec<String> = order
        .iter()
        .map(|&i| {
            let c = &from.columns[i];
            let q = quoted(&c.name);
            if pg && c.kind == Some(Kind::Int) { format!("{q}::bigint") } else { q }
        })
        .collect();
    let mut sql = format!("select {} from {}", cols.join(", "), quoted(&from.name));
    if !from.key.is_empty() {
        let key: Vec<String> = from.key.iter().map(|k| quoted(k)).collect();
        sql.push_str(&format!(" order by {}", key.join(", ")));
    }
    match src.inner_mut() {
        TxInner::Sqlite(t) => sqlx::query(AssertSqlSafe(sql))
            .fetch(&mut **t)
            .map(move |r| r.map_err(StoreError::from).and_then(|r| decode_sqlite(&r, &kinds)))
            .boxed(),
        TxInner::Postgres(t) => sqlx::query(AssertSqlSafe(sql))
            .fetch(&mut **t)
            .map(move |r| r.map_err(StoreError::from).and_then(|r| decode_pg(&r, &kinds)))
            .boxed(),
    }
}

/// Orders rows of a table that references itself so that every referenced row comes first
/// (an org node moved under a newer node has a parent with a larger id).
fn parents_first(table: &Table, rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    let refs: Vec<(usize, usize)> =
        table.self_refs.iter().filter_map(|(from, to)| Some((table.index_of(from)?, table.index_of(to)?))).collect();
    let mut done: HashSet<(usize, Value)> = HashSet::new();
    let mut out = Vec::with_capacity(rows.len());
    let mut pending = rows;
    loop {
        let before = pending.len();
        let mut later = Vec::new();
        for row in pending {
            let ready = refs.iter().all(|&(f, t)| {
                let v = &row[f];
                *v == Value::Null || *v == row[t] || done.contains(&(t, v.clone()))
            });
            if ready {
                for &(_, t) in &refs {
                    done.insert((t, row[t].clone()));
                }
                out.push(row);
            } else {
                later.push(row);
            }
        }
        pending = later;
        if pending.is_empty() || pending.len() == before {
            // Whatever is left references rows that do not exist: the target refuses it.
            out.extend(pending);
            return out;
        }
    }
}

/// Copies every row of table `from` on `src` into table `to` on `dst`, in batches;
/// returns the number of rows. Both tables must have the same columns (the same schema
/// version); the order of columns may differ.
///
/// # Errors
/// [`StoreError::Corrupt`] when the columns differ or a value cannot be carried over;
/// [`StoreError`] for database failures (the target refuses a row).
pub async fn copy_table(src: &mut Tx, dst: &mut Tx, from: &Table, to: &Table) -> Result<u64> {
    let mismatch = |what: &str| {
        StoreError::Corrupt(format!("表 {} 的列在两个数据库中不同（{what}）：两边的程序版本不一致？", to.name))
    };
    if from.columns.len() != to.columns.len() {
        return Err(mismatch("列数不同"));
    }
    let order: Vec<usize> =
        to.columns.iter().map(|c| from.index_of(&c.name).ok_or_else(|| mismatch(&c.name))).collect::<Result<_>>()?;
    let to_kinds = kinds(to)?;
    let src_kinds: Vec<Kind> = order
        .iter()
        .map(|&i| from.columns[i].kind.ok_or_else(|| unsupported(&from.name, &from.columns[i])))
        .collect::<Result<_>>()?;
    let batch = (30_000 / to.columns.len().max(1)).clamp(1, 1_000);
    let mut stream = rows(src, from, &order, src_kinds);
    let mut pending: Vec<Vec<Value>> = Vec::new();
    let mut all: Vec<Vec<Value>> = Vec::new();
    let mut n = 0u64;
    while let Some(row) = stream.try_next().await? {
        let row = row
            .into_iter()
            .zip(&to_kinds)
            .enumerate()
            .map(|(i, (v, k))| {
                convert(v, *k).ok_or_else(|| {
                    StoreError::Corrupt(format!("表 {} 的列 {} 有一个值无法转换", to.name, to.columns[i].name))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        n += 1;
        if to.self_refs.is_empty() {
            pending.push(row);
            if pending.len() >= batch {
                insert(dst, to, &to_kinds, std::mem::take(&mut pending)).await?;
            }
        } else {
            all.push(row);
        }
    }
    drop(stream);
    if !all.is_empty() {
        pending = parents_first(to, all);
    }
    while !pending.is_empty() {
        let rest = pending.split_off(pending.len().min(batch));
        insert(dst, to, &to_kinds, std::mem::replace(&mut pending, rest)).await?;
    }
    Ok(n)
}

/// After rows were copied into `dst`: PostgreSQL identity sequences continue after the
/// largest copied id; SQLite full-text indexes are rebuilt from their content and checked.
///
/// # Errors
/// [`StoreError`] for database failures (a full-text index that fails its check).
pub async fn finish_copy(dst: &mut Tx, tables: &[Table]) -> Result<()> {
    match dst.inner_mut() {
        TxInner::Postgres(t) => {
            for table in tables {
                for k in &table.key {
                    let seq: Option<String> = sqlx::query_scalar("select pg_get_serial_sequence($1, $2)")
                        .bind(quoted(&table.name))
                        .bind(k)
                        .fetch_one(&mut **t)
                        .await?;
                    let Some(seq) = seq else { continue };
                    let sql = format!(
                        "select setval($1::regclass, m) from (select max({}) as m from {}) x where m is not null",
                        quoted(k),
                        quoted(&table.name)
                    );
                    sqlx::query(AssertSqlSafe(sql)).bind(seq).execute(&mut **t).await?;
                }
            }
        }
        TxInner::Sqlite(t) => {
            let fts: Vec<(String,)> = sqlx::query_as(
                "select name from sqlite_master where type = 'table' and sql like 'CREATE VIRTUAL TABLE%' \
                 and lower(sql) like '%using fts5%' order by name",
            )
            .fetch_all(&mut **t)
            .await?;
            for (name,) in fts {
                let q = quoted(&name);
                for cmd in ["rebuild", "integrity-check"] {
                    let sql = format!("insert into {q}({q}) values ('{cmd}')");
                    sqlx::query(AssertSqlSafe(sql)).execute(&mut **t).await?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(convert(Value::Int(1), Kind::Bool), Some(Value::Bool(true)));
        assert_eq!(convert(Value::Bool(false), Kind::Int), Some(Value::Int(0)));
        assert_eq!(convert(Value::Null, Kind::Bytes), Some(Value::Null));
        assert_eq!(convert(Value::Bytes(vec![0xff]), Kind::Text), None);
        assert_eq!(convert(Value::Text("x".into()), Kind::Int), None);
    }

    #[test]
    fn parents_come_first() {
        let col = |n: &str| Column { name: n.into(), kind: Some(Kind::Int), declared: "BIGINT".into() };
        let t = Table {
            name: "org_node".into(),
            columns: vec![col("id"), col("parent_id")],
            key: vec!["id".into()],
            self_refs: vec![("parent_id".into(), "id".into())],
        };
        let rows = vec![
            vec![Value::Int(1), Value::Null],
            vec![Value::Int(2), Value::Int(3)],
            vec![Value::Int(3), Value::Int(1)],
        ];
        let ids: Vec<Value> = parents_first(&t, rows).into_iter().map(|r| r[0].clone()).collect();
        assert_eq!(ids, vec![Value::Int(1), Value::Int(3), Value::Int(2)]);
    }
}
