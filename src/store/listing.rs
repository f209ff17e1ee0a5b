//! The SQL of a listing, shared by both backends: they accept the same `$N` placeholders.

use chrono::{DateTime, Utc};

use super::statements::Texts;
use crate::domain::UserId;
use crate::domain::listing::{ListQuery, Order, Position, SortKey, SortValue};

/// A bound value of a dynamically built query.
#[derive(Clone, Debug)]
pub(super) enum Param {
    Text(String),
    Int(i64),
    Bool(bool),
    Time(DateTime<Utc>),
}

/// A query text and its parameters, in placeholder order.
#[derive(Default)]
pub(super) struct Sql {
    pub text: String,
    pub params: Vec<Param>,
}

impl Sql {
    /// Appends a placeholder for `param`.
    fn bind(&mut self, param: Param) -> String {
        self.params.push(param);
        format!("${}", self.params.len())
    }
}

/// Escapes `%`, `_` and `\\` for `LIKE … ESCAPE '\\'`.
fn like_pattern(keyword: &str) -> String {
    let mut pattern = String::from("%");
    for c in keyword.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// `WHERE …` for the filters of `query` (not the keyset position); `tag_key_in` is the
/// dialect's [`super::dialect::Dialect::TAG_KEY_IN`].
fn push_filters(sql: &mut Sql, owner: &UserId, query: &ListQuery, tag_key_in: &str) {
    let user = sql.bind(Param::Text(owner.as_str().to_owned()));
    sql.text.push_str(&format!(" WHERE user_id = {user}"));
    if let Some(completed) = query.status.completed() {
        let p = sql.bind(Param::Bool(completed));
        sql.text.push_str(&format!(" AND completed = {p}"));
    }
    if !query.priorities.is_empty() {
        let ranks: Vec<String> = query
            .priorities
            .iter()
            .map(|p| sql.bind(Param::Int(i64::from(p.rank()))))
            .collect();
        sql.text
            .push_str(&format!(" AND priority IN ({})", ranks.join(", ")));
    }
    if !query.tag_keys.is_empty() {
        // One statement whatever the number of tags: the tasks carrying all of them.
        let mut keys = query.tag_keys.clone();
        keys.sort();
        keys.dedup();
        let count = i64::try_from(keys.len()).unwrap_or(i64::MAX);
        let keys = sql.bind(Param::Text(
            serde_json::to_string(&keys).unwrap_or_else(|_| "[]".into()),
        ));
        let count = sql.bind(Param::Int(count));
        let key_in = tag_key_in.replace("{keys}", &keys);
        sql.text.push_str(&format!(
            " AND id IN (SELECT task_id FROM task_tags WHERE user_id = {user} AND {key_in} \
             GROUP BY task_id HAVING count(*) = {count})"
        ));
    }
    if let Some(search) = &query.search {
        let p = sql.bind(Param::Text(like_pattern(search)));
        sql.text
            .push_str(&format!(" AND search_text LIKE {p} ESCAPE '\\'"));
    }
    if let Some(before) = query.due_before {
        let p = sql.bind(Param::Time(before));
        sql.text.push_str(&format!(" AND due_at < {p}"));
    }
    if let Some(after) = query.due_after {
        let p = sql.bind(Param::Time(after));
        sql.text.push_str(&format!(" AND due_at >= {p}"));
    }
    // The same expressions as the sibling index (`tasks_sibling_position_key`), which serves
    // them (0: the inbox, the top level).
    if let Some(list) = query.list {
        let p = sql.bind(Param::Int(list.unwrap_or(0)));
        sql.text
            .push_str(&format!(" AND coalesce(list_id, 0) = {p}"));
    }
    if let Some(parent) = query.parent {
        let p = sql.bind(Param::Int(parent.unwrap_or(0)));
        sql.text
            .push_str(&format!(" AND coalesce(parent_id, 0) = {p}"));
    }
    if query.overdue {
        let p = sql.bind(Param::Time(query.now));
        sql.text
            .push_str(&format!(" AND completed = FALSE AND due_at < {p}"));
    }
}

fn sort_column(key: SortKey) -> &'static str {
    match key {
        SortKey::Created => "created_at",
        SortKey::Updated => "updated_at",
        SortKey::Title => "title_key",
        SortKey::DueDate => "due_at",
        SortKey::Priority => "priority",
        SortKey::Position => "position",
    }
}

fn value_param(value: &SortValue) -> Option<Param> {
    match value {
        SortValue::Time(t) => Some(Param::Time(*t)),
        SortValue::Text(s) => Some(Param::Text(s.clone())),
        SortValue::Rank(r) => Some(Param::Int(*r)),
        SortValue::Null => None,
    }
}

/// `AND …` selecting the rows after `position` in the listing's order.
fn push_keyset(sql: &mut Sql, key: SortKey, order: Order, position: &Position) {
    let column = sort_column(key);
    let cmp = match order {
        Order::Asc => ">",
        Order::Desc => "<",
    };
    let id = sql.bind(Param::Int(position.id));
    match value_param(&position.value) {
        // Rows without a due date come last: after one of them, only others like it follow.
        None => sql
            .text
            .push_str(&format!(" AND ({column} IS NULL AND id {cmp} {id})")),
        Some(value) => {
            let v = sql.bind(value);
            let nulls_follow = if key == SortKey::DueDate {
                format!("{column} IS NULL OR ")
            } else {
                String::new()
            };
            sql.text.push_str(&format!(
                " AND ({nulls_follow}{column} {cmp} {v} OR ({column} = {v} AND id {cmp} {id}))"
            ));
        }
    }
}

/// The page query: one row more than the limit, to know whether another page follows. It
/// begins with the dialect's `texts.select`: `SELECT` what each row holds `FROM tasks`.
pub(super) fn page_sql(owner: &UserId, query: &ListQuery, texts: &Texts) -> Sql {
    let mut sql = Sql {
        text: texts.select.clone(),
        params: Vec::new(),
    };
    push_filters(&mut sql, owner, query, texts.tag_key_in);
    let order = query.order();
    if let Some(position) = &query.after {
        push_keyset(&mut sql, query.sort, order, position);
    }
    let dir = match order {
        Order::Asc => "ASC",
        Order::Desc => "DESC",
    };
    let column = sort_column(query.sort);
    let nulls_last = if query.sort == SortKey::DueDate {
        format!("({column} IS NULL), ")
    } else {
        String::new()
    };
    let limit = sql.bind(Param::Int(i64::from(query.limit) + 1));
    sql.text.push_str(&format!(
        " ORDER BY {nulls_last}{column} {dir}, id {dir} LIMIT {limit}"
    ));
    sql
}

/// How many tasks match the filters.
pub(super) fn count_sql(owner: &UserId, query: &ListQuery, texts: &Texts) -> Sql {
    let mut sql = Sql {
        text: "SELECT count(*) FROM tasks".to_owned(),
        params: Vec::new(),
    };
    push_filters(&mut sql, owner, query, texts.tag_key_in);
    sql
}
