//! The pgbench scripts of `bench/` run exactly the SQL the server sends: the benchmark's
//! database ceiling means something only if they do.

use super::listing::{Param, page_sql};
use super::postgres::{PostgresDialect, lock_user};
use super::statements::{INSERT_TASK, Texts};
use super::tree::{Siblings, take_revisions_and_last_sql};
use crate::domain::UserId;
use crate::domain::listing::ListQuery;

/// White space collapsed to single spaces.
fn squash(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Each pgbench `:name` as a `$N` placeholder, numbered by first appearance (`::` casts kept).
fn placeholders(sql: &str) -> String {
    let mut names: Vec<String> = Vec::new();
    let mut out = String::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            // A cast (`::text`), which pgbench leaves alone too.
            out.push_str("::");
            chars.next();
            continue;
        }
        if c != ':' || !chars.peek().is_some_and(char::is_ascii_alphabetic) {
            out.push(c);
            continue;
        }
        let mut name = String::new();
        while let Some(&next) = chars
            .peek()
            .filter(|n| n.is_ascii_alphanumeric() || **n == '_')
        {
            name.push(next);
            chars.next();
        }
        let index = match names.iter().position(|known| *known == name) {
            Some(i) => i + 1,
            None => {
                names.push(name);
                names.len()
            }
        };
        out.push_str(&format!("${index}"));
    }
    out
}

/// `$N` placeholders renumbered by first appearance, as [`placeholders`] numbers pgbench's
/// variables (a statement whose parameters are bound out of their textual order).
fn by_appearance(sql: &str) -> String {
    let mut seen: Vec<String> = Vec::new();
    let mut out = String::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' || !chars.peek().is_some_and(char::is_ascii_digit) {
            out.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(d);
            chars.next();
        }
        let index = match seen.iter().position(|known| *known == digits) {
            Some(i) => i + 1,
            None => {
                seen.push(digits);
                seen.len()
            }
        };
        out.push_str(&format!("${index}"));
    }
    out
}

/// The SQL statements of a pgbench script (comments and meta-commands left out; `\gset`, which
/// ends a query as `;` does, counts as `;`).
fn statements(script: &str) -> Vec<String> {
    let sql: Vec<&str> = script
        .lines()
        .filter(|line| {
            let line = line.trim_start();
            !line.starts_with("--") && !line.starts_with('\\')
        })
        .collect();
    sql.join(" ")
        .replace("\\gset", ";")
        .split(';')
        .map(str::trim)
        .filter(|statement| !statement.is_empty())
        .map(|statement| placeholders(&squash(statement)))
        .collect()
}

#[test]
fn the_list_script_runs_what_a_plain_list_sends() {
    // A listing without parameters: every task, newest first, the API's default page size (500).
    let query = ListQuery {
        limit: 500,
        ..ListQuery::default()
    };
    let owner = UserId::parse("user1").expect("a valid user id");
    let page = page_sql(&owner, &query, &Texts::new::<PostgresDialect>());
    // 50 tasks fit in the first page, so there is no count query, and the tags come with the
    // tasks (src/store/sql.rs: list): one statement.
    assert_eq!(
        statements(include_str!("../../bench/sql/list.sql")),
        [squash(&page.text)]
    );
    // bench/run.sh binds the user id and 501 (the default page size plus one).
    assert!(
        matches!(page.params.as_slice(), [Param::Text(user), Param::Int(501)] if user == "user1"),
        "{:?}",
        page.params
    );
}

#[test]
fn the_create_script_runs_the_create_transaction() {
    assert_eq!(
        statements(include_str!("../../bench/sql/create.sql")),
        [
            "BEGIN".to_owned(),
            // The user's lock: the server sends it with `BEGIN` (one simple query, the key in
            // hexadecimal), pgbench in the same pipeline (the key a parameter).
            lock_user(&UserId::parse("20001").expect("a valid user id"))
                .replace("'3230303031'", "$1"),
            // The revision and the inbox's last top-level position, in one statement.
            by_appearance(&squash(&take_revisions_and_last_sql(Siblings::Tasks {
                list: None,
                parent: None
            }))),
            // pgbench cannot bind NULL: the script writes the list and parent the server binds
            // for a task in the inbox at the top level.
            squash(INSERT_TASK)
                .replace("$15, $16, $17, $18 WHERE", "NULL, NULL, $15, $16 WHERE")
                .replace("< $19", "< $17"),
            "COMMIT".to_owned()
        ]
    );
}
