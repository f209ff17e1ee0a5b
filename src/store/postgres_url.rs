//! Reads a PostgreSQL `DATABASE_URL` as libpq (and so Neon's dashboard) writes it, and turns it
//! into connection options the driver (sqlx) understands.
//!
//! sqlx does not know libpq's `channel_binding` parameter: it would ignore it with a warning and
//! authenticate with plain SCRAM-SHA-256, silently dropping the protection the user asked for.
//! Channel binding exists to stop a man in the middle when the server's certificate is not
//! checked, so `channel_binding=require` is honoured the other way round: the certificate is
//! verified (`sslmode=verify-full`), which Neon's publicly trusted certificates pass as they are.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

/// A parsed PostgreSQL URL.
pub(crate) struct PostgresTarget {
    /// What sqlx connects with.
    pub(crate) options: PgConnectOptions,
    /// Whether the host is Neon's pooled endpoint (`…-pooler.…`).
    pub(crate) pooler_host: bool,
    /// Said once at start-up: how the URL was read, when that is not obvious.
    pub(crate) notes: Vec<String>,
    /// Whether `sslmode` was raised to `verify-full` for `channel_binding=require` (a TLS error
    /// then gets a hint on how to fix it).
    pub(crate) upgraded_for_channel_binding: bool,
}

/// What to do when the server certificate cannot be verified after the upgrade.
pub(crate) const CHANNEL_BINDING_HINT: &str = "DATABASE_URL has channel_binding=require, which the \
    PostgreSQL driver cannot do; the server's certificate is verified instead (as with \
    sslmode=verify-full) and that failed. Add sslrootcert=/path/to/ca.pem naming the CA that \
    signed the server's certificate, or remove channel_binding=require to connect without \
    verifying the server";

/// Parses `url`; the error says what to change.
pub(crate) fn parse(url: &str) -> Result<PostgresTarget, String> {
    let mut parsed =
        url::Url::parse(url).map_err(|err| format!("invalid PostgreSQL URL: {err}"))?;
    let mut notes = Vec::new();
    let mut channel_binding = None;
    let mut ssl_mode = None;
    let mut kept = Vec::new();
    for (key, value) in parsed.query_pairs() {
        match &*key {
            "channel_binding" => channel_binding = Some(value.to_ascii_lowercase()),
            // libpq 16's "use the system's trusted roots": sqlx does that when no file is given.
            "sslrootcert" if value == "system" => {}
            "sslmode" | "ssl-mode" => ssl_mode = Some(value.to_ascii_lowercase()),
            _ => kept.push((key.into_owned(), value.into_owned())),
        }
    }

    let mut upgraded = false;
    match channel_binding.as_deref() {
        None | Some("disable") => {}
        Some("prefer") => notes.push(
            "channel_binding=prefer: the PostgreSQL driver does not do channel binding, so \
             authentication uses SCRAM-SHA-256 without it"
                .into(),
        ),
        Some("require") => match ssl_mode.as_deref() {
            Some("disable" | "allow") => {
                return Err(format!(
                    "channel_binding=require needs TLS, but sslmode={}: use \
                     sslmode=verify-full (or sslmode=require)",
                    ssl_mode.as_deref().unwrap_or_default()
                ));
            }
            Some("verify-full" | "verify-ca") => notes.push(
                "channel_binding=require: the PostgreSQL driver does not do channel binding; \
                 the server is authenticated by its certificate (sslmode) instead"
                    .into(),
            ),
            _ => {
                ssl_mode = Some("verify-full".into());
                upgraded = true;
                notes.push(
                    "channel_binding=require: the PostgreSQL driver does not do channel \
                     binding, so the server is authenticated by its certificate instead: \
                     sslmode is raised to verify-full"
                        .into(),
                );
            }
        },
        Some(other) => {
            return Err(format!(
                "channel_binding={other} is not disable, prefer or require"
            ));
        }
    }

    {
        let mut query = parsed.query_pairs_mut();
        query.clear();
        if let Some(mode) = &ssl_mode {
            query.append_pair("sslmode", mode);
        }
        for (key, value) in &kept {
            query.append_pair(key, value);
        }
    }
    if parsed.query() == Some("") {
        parsed.set_query(None);
    }
    let options = PgConnectOptions::from_str(parsed.as_str())
        .map_err(|err| format!("invalid PostgreSQL URL: {err}"))?;
    let pooler_host = parsed
        .host_str()
        .is_some_and(|host| host.contains("-pooler."));
    Ok(PostgresTarget {
        options,
        pooler_host,
        notes,
        upgraded_for_channel_binding: upgraded,
    })
}

/// `url` with Neon's pooled host (`ep-…-pooler.region…`) replaced by its direct host
/// (`ep-….region…`), which `LISTEN` works on.
pub(crate) fn without_pooler(url: &str) -> Result<String, String> {
    let mut parsed =
        url::Url::parse(url).map_err(|err| format!("invalid PostgreSQL URL: {err}"))?;
    let host = parsed
        .host_str()
        .unwrap_or_default()
        .replacen("-pooler.", ".", 1);
    parsed
        .set_host(Some(&host))
        .map_err(|err| format!("invalid PostgreSQL URL: {err}"))?;
    Ok(parsed.into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use sqlx::postgres::PgSslMode;

    use super::*;

    const NEON: &str = "postgresql://alex:AbC123dEf@ep-cool-darkness-123456-pooler.us-east-2.\
                        aws.neon.tech/dbname?sslmode=require&channel_binding=require";

    #[test]
    fn a_neon_url_works_as_copied() {
        let target = parse(NEON).unwrap();
        assert!(target.pooler_host);
        assert!(target.upgraded_for_channel_binding);
        assert!(matches!(
            target.options.get_ssl_mode(),
            PgSslMode::VerifyFull
        ));
        assert_eq!(
            target.options.get_host(),
            "ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech"
        );
        assert_eq!(target.options.get_database(), Some("dbname"));
        assert_eq!(target.options.get_username(), "alex");
    }

    #[test]
    fn neons_direct_host_is_the_pooled_one_without_pooler() {
        let direct = without_pooler(NEON).unwrap();
        assert_eq!(
            direct,
            "postgresql://alex:AbC123dEf@ep-cool-darkness-123456.us-east-2.aws.neon.tech/dbname\
             ?sslmode=require&channel_binding=require"
        );
        assert!(!parse(&direct).unwrap().pooler_host);
    }

    #[test]
    fn channel_binding_without_tls_is_refused_with_what_to_change() {
        let err = parse("postgres://u@h/db?sslmode=disable&channel_binding=require")
            .err()
            .unwrap();
        assert!(err.contains("sslmode=verify-full"), "{err}");
        let err = parse("postgres://u@h/db?channel_binding=sometimes")
            .err()
            .unwrap();
        assert!(err.contains("channel_binding"), "{err}");
    }

    #[test]
    fn other_urls_are_left_as_they_are() {
        let target = parse("postgres://u:p@db.internal:5433/app?sslmode=verify-ca&sslrootcert=/ca.pem&application_name=x")
            .unwrap();
        assert!(!target.pooler_host);
        assert!(!target.upgraded_for_channel_binding);
        assert!(matches!(target.options.get_ssl_mode(), PgSslMode::VerifyCa));
        assert_eq!(target.options.get_port(), 5433);
        let target = parse(
            "postgres://u@h/db?sslmode=verify-full&sslrootcert=system&channel_binding=prefer",
        )
        .unwrap();
        assert!(matches!(
            target.options.get_ssl_mode(),
            PgSslMode::VerifyFull
        ));
        assert_eq!(target.notes.len(), 1);
    }
}
