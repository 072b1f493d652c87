//! A batch's rows as the parameters of one statement.
//!
//! SQLite takes them row by row: a `VALUES (?, ?), (?, ?), …` list, whose
//! text grows with the batch (bare `?`, see [`Rows::select`]). Postgres takes
//! them column by column, one array per column (`UNNEST($1::int8[],
//! $2::text[])`), so every batch of one shape is one statement text, however
//! many rows it has: sqlx prepares it once per connection and Postgres parses
//! it once, instead of once per batch size. (With 64 posters in one room,
//! parsing and planning a statement per batch size took 12 points of
//! Postgres's 47 % of the core, and the batch sizes cycled sqlx's statement
//! cache.)

use sqlx::Postgres;
use sqlx::Sqlite;
use sqlx::postgres::PgArguments;
use sqlx::query::{Query, QueryAs};
use sqlx::sqlite::SqliteArguments;

use super::Backend;
use crate::model::{RoomId, UserId};

/// A column's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Int,
    Text,
}

use Kind::{Int, Text};

/// One value of a row.
#[derive(Clone, Copy, Debug)]
pub(super) enum Value<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}

impl From<RoomId> for Value<'_> {
    fn from(v: RoomId) -> Self {
        Value::Int(Some(v.0))
    }
}

impl From<UserId> for Value<'_> {
    fn from(v: UserId) -> Self {
        Value::Int(Some(v.0))
    }
}

impl From<Option<UserId>> for Value<'_> {
    fn from(v: Option<UserId>) -> Self {
        Value::Int(v.map(|u| u.0))
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Value::Text(v)
    }
}

/// Rows of one shape, the only parameters of the statement they go into.
pub(super) struct Rows<'a> {
    kinds: &'static [Kind],
    values: Vec<Value<'a>>,
}

impl<'a> Rows<'a> {
    pub(super) fn new(kinds: &'static [Kind]) -> Self {
        Self { kinds, values: Vec::new() }
    }

    /// Adds a row: one value per column, of the column's kind.
    pub(super) fn push<const N: usize>(&mut self, row: [Value<'a>; N]) {
        debug_assert_eq!(N, self.kinds.len(), "a row of the wrong width");
        debug_assert!(
            row.iter().zip(self.kinds).all(|(v, k)| matches!((v, k), (Value::Int(_), Int) | (Value::Text(_), Text))),
            "a value of the wrong kind"
        );
        self.values.extend(row);
    }

    pub(super) fn len(&self) -> usize {
        self.values.len() / self.kinds.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The rows as a query: `VALUES (?, ?), …` on SQLite, `SELECT * FROM
    /// UNNEST($1::int8[], …)` on Postgres.
    pub(super) fn select(&self, backend: Backend) -> String {
        match backend {
            Backend::Sqlite => format!("VALUES {}", self.sqlite_values()),
            Backend::Postgres => format!("SELECT * FROM {}", self.unnest()),
        }
    }

    /// The rows as table `v`, its columns `column1`, `column2`, … (for
    /// `UPDATE … FROM {table} WHERE … = v.column1`).
    pub(super) fn table(&self, backend: Backend) -> String {
        match backend {
            Backend::Sqlite => format!("(VALUES {}) AS v", self.sqlite_values()),
            Backend::Postgres => {
                let names: Vec<String> = (1..=self.kinds.len()).map(|c| format!("column{c}")).collect();
                format!("{} AS v({})", self.unnest(), names.join(", "))
            }
        }
    }

    /// Of one column of ints: the test that a value is one of them, `IN (?,
    /// ?, …)` on SQLite, `= ANY($1::int8[])` on Postgres.
    pub(super) fn in_list(&self, backend: Backend) -> String {
        debug_assert_eq!(self.kinds, [Int], "a list is one column of ints");
        match backend {
            Backend::Sqlite => format!("IN ({})", vec!["?"; self.len()].join(", ")),
            Backend::Postgres => "= ANY($1::int8[])".to_owned(),
        }
    }

    /// How many parameters the rows are on Postgres: one array per column.
    pub(super) fn postgres_params(&self) -> usize {
        self.kinds.len()
    }

    /// `(?, ?), (?, ?), …`: a row of bare `?` per row (binding a named
    /// parameter, `$n` or `?n`, makes SQLite look its name up in a list, so
    /// a batch of thousands bound in time quadratic in their number: 3 % of
    /// a post's time in `perf`).
    fn sqlite_values(&self) -> String {
        let row = format!("({})", vec!["?"; self.kinds.len()].join(", "));
        vec![row; self.len()].join(", ")
    }

    /// `UNNEST($1::int8[], $2::text[], …)`, one array per column.
    fn unnest(&self) -> String {
        let arrays: Vec<String> = self
            .kinds
            .iter()
            .enumerate()
            .map(|(i, kind)| {
                let n = i + 1;
                match kind {
                    Int => format!("${n}::int8[]"),
                    Text => format!("${n}::text[]"),
                }
            })
            .collect();
        format!("UNNEST({})", arrays.join(", "))
    }

    /// Column `c`'s values, top to bottom.
    fn column(&self, c: usize) -> impl Iterator<Item = &Value<'a>> {
        self.values.iter().skip(c).step_by(self.kinds.len())
    }

    fn ints(&self, c: usize) -> Vec<Option<i64>> {
        self.column(c).map(|v| if let Value::Int(v) = v { *v } else { None }).collect()
    }

    fn texts(&self, c: usize) -> Vec<Option<&'a str>> {
        self.column(c).map(|v| if let Value::Text(v) = v { *v } else { None }).collect()
    }
}

/// Binds a batch's rows as the statement's parameters, the way its backend
/// takes them ([`Rows`]).
pub(super) trait BindRows<'a> {
    fn bind_rows(self, rows: &Rows<'a>) -> Self;
}

macro_rules! by_rows {
    ($query:ident, $rows:expr) => {{
        let mut query = $query;
        for value in &$rows.values {
            query = match *value {
                Value::Int(v) => query.bind(v),
                Value::Text(v) => query.bind(v),
            };
        }
        query
    }};
}

macro_rules! by_columns {
    ($query:ident, $rows:expr) => {{
        let mut query = $query;
        for (c, kind) in $rows.kinds.iter().enumerate() {
            query = match kind {
                Int => query.bind($rows.ints(c)),
                Text => query.bind($rows.texts(c)),
            };
        }
        query
    }};
}

impl<'a> BindRows<'a> for Query<'a, Sqlite, SqliteArguments<'a>> {
    fn bind_rows(self, rows: &Rows<'a>) -> Self {
        by_rows!(self, rows)
    }
}

impl<'a, O> BindRows<'a> for QueryAs<'a, Sqlite, O, SqliteArguments<'a>> {
    fn bind_rows(self, rows: &Rows<'a>) -> Self {
        by_rows!(self, rows)
    }
}

impl<'a> BindRows<'a> for Query<'a, Postgres, PgArguments> {
    fn bind_rows(self, rows: &Rows<'a>) -> Self {
        by_columns!(self, rows)
    }
}

impl<'a, O> BindRows<'a> for QueryAs<'a, Postgres, O, PgArguments> {
    fn bind_rows(self, rows: &Rows<'a>) -> Self {
        by_columns!(self, rows)
    }
}

/// A Postgres statement with each parameter `$n` numbered `$(n + by)`, for
/// a statement that goes into one text after others' parameters. Our
/// statements have no `$` but their parameters.
pub(super) fn shift_params(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        match rest[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_rows() -> Rows<'static> {
        let mut rows = Rows::new(&[Int, Text]);
        rows.push([1i64.into(), "a".into()]);
        rows.push([None::<i64>.into(), None::<&str>.into()]);
        rows
    }

    #[test]
    fn sqlite_gets_a_values_list_that_grows_and_postgres_one_text_per_shape() {
        let rows = two_rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows.select(Backend::Sqlite), "VALUES (?, ?), (?, ?)");
        assert_eq!(rows.table(Backend::Sqlite), "(VALUES (?, ?), (?, ?)) AS v");
        assert_eq!(rows.select(Backend::Postgres), "SELECT * FROM UNNEST($1::int8[], $2::text[])");
        assert_eq!(rows.table(Backend::Postgres), "UNNEST($1::int8[], $2::text[]) AS v(column1, column2)");
        let mut more = two_rows();
        more.push([3i64.into(), "c".into()]);
        assert_eq!(more.select(Backend::Postgres), rows.select(Backend::Postgres));
        assert_ne!(more.select(Backend::Sqlite), rows.select(Backend::Sqlite));
    }

    #[test]
    fn columns_keep_their_rows_order_and_their_nulls() {
        let rows = two_rows();
        assert_eq!(rows.ints(0), vec![Some(1), None]);
        assert_eq!(rows.texts(1), vec![Some("a"), None]);
    }

    #[test]
    fn parameters_are_numbered_on_after_earlier_statements() {
        let rows = two_rows();
        let sql = format!("UPDATE t SET a = v.column2 FROM {} WHERE t.id = v.column1", rows.table(Backend::Postgres));
        assert_eq!(
            shift_params(&sql, 9),
            "UPDATE t SET a = v.column2 FROM UNNEST($10::int8[], $11::text[]) AS v(column1, column2) WHERE t.id = v.column1"
        );
        assert_eq!(shift_params("$1, $12 and $9", 3), "$4, $15 and $12");
        assert_eq!(shift_params("no parameters", 3), "no parameters");
        assert_eq!(rows.postgres_params(), 2);
    }

    #[test]
    fn a_list_of_ids_is_an_in_list_or_an_array() {
        let mut ids = Rows::new(&[Int]);
        for id in [4i64, 5, 6] {
            ids.push([id.into()]);
        }
        assert_eq!(ids.in_list(Backend::Sqlite), "IN (?, ?, ?)");
        assert_eq!(ids.in_list(Backend::Postgres), "= ANY($1::int8[])");
    }
}
