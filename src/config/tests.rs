//! The settings read from variables: defaults, every variable, and errors that name it.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use super::*;

fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::from_lookup(|name| vars.get(name).cloned())
}

fn jwks(vars: &[(&str, &str)]) -> JwksSettings {
    settings(vars).unwrap().auth.jwks.unwrap()
}

fn failing_variable(vars: &[(&str, &str)]) -> String {
    settings(vars).unwrap_err().variable
}

#[test]
fn nothing_configured_is_development_mode() {
    let auth = settings(&[]).unwrap().auth;
    assert!(auth.is_development());
}

#[test]
fn better_auth_url_alone_turns_on_jwks_mode_with_better_auths_defaults() {
    let origin = jwks(&[("BETTER_AUTH_URL", "https://app.example.com")]);
    assert_eq!(origin.url.as_str(), "https://app.example.com/api/auth/jwks");
    assert_eq!(origin.issuer, "https://app.example.com");
    assert_eq!(origin.audiences, ["https://app.example.com"]);
    assert_eq!(origin.fetch_timeout, JwksSettings::FETCH_TIMEOUT);

    // A trailing slash changes nothing: Better Auth uses the origin.
    let slash = jwks(&[("BETTER_AUTH_URL", "http://localhost:3000/")]);
    assert_eq!(slash.url.as_str(), "http://localhost:3000/api/auth/jwks");
    assert_eq!(slash.issuer, "http://localhost:3000");
}

#[test]
fn a_better_auth_url_with_a_path_is_the_auth_base() {
    let jwks = jwks(&[("BETTER_AUTH_URL", "https://example.com/api/auth/")]);
    assert_eq!(jwks.url.as_str(), "https://example.com/api/auth/jwks");
    assert_eq!(jwks.issuer, "https://example.com");
    assert_eq!(jwks.audiences, ["https://example.com"]);
}

#[test]
fn the_overrides_win() {
    let jwks = jwks(&[
        ("BETTER_AUTH_URL", "https://app.example.com"),
        (
            "AUTH_JWKS_URL",
            "https://keys.example.com/.well-known/jwks.json",
        ),
        ("AUTH_ISSUER", "https://issuer.example.com"),
        ("AUTH_AUDIENCE", " https://api.example.com , todo-api,,"),
    ]);
    assert_eq!(
        jwks.url.as_str(),
        "https://keys.example.com/.well-known/jwks.json"
    );
    assert_eq!(jwks.issuer, "https://issuer.example.com");
    assert_eq!(jwks.audiences, ["https://api.example.com", "todo-api"]);
}

#[test]
fn issuer_and_audience_apply_to_shared_secret_tokens_without_better_auth_url() {
    let auth = settings(&[
        (
            "BETTER_AUTH_SECRET",
            "a-shared-secret-that-is-long-enough-for-hs256",
        ),
        ("AUTH_ISSUER", " https://auth.example.com "),
        ("AUTH_AUDIENCE", "todo-api, other"),
    ])
    .unwrap()
    .auth;
    assert!(auth.jwks.is_none());
    assert_eq!(auth.issuer.as_deref(), Some("https://auth.example.com"));
    assert_eq!(auth.audiences.unwrap(), ["todo-api", "other"]);
    // Unset, HS256 tokens need neither (and Better Auth's defaults apply to its own tokens only).
    let auth = settings(&[("BETTER_AUTH_URL", "https://app.example.com")])
        .unwrap()
        .auth;
    assert_eq!((auth.issuer, auth.audiences), (None, None));
}

#[test]
fn both_modes_can_be_on_together() {
    let auth = settings(&[
        ("BETTER_AUTH_URL", "https://app.example.com"),
        (
            "BETTER_AUTH_SECRET",
            "a-shared-secret-that-is-long-enough-for-hs256",
        ),
    ])
    .unwrap()
    .auth;
    assert!(auth.shared_secret.is_some());
    assert!(auth.jwks.is_some());
    assert!(!auth.is_development());
}

#[test]
fn bad_values_name_their_variable() {
    for bad in [
        "app.example.com",
        "ftp://app.example.com",
        "https://",
        "https://app.example.com/?x=1",
        "https://user:pass@app.example.com",
    ] {
        assert_eq!(
            failing_variable(&[("BETTER_AUTH_URL", bad)]),
            "BETTER_AUTH_URL",
            "{bad}"
        );
    }
    assert_eq!(
        failing_variable(&[
            ("BETTER_AUTH_URL", "https://app.example.com"),
            ("AUTH_JWKS_URL", "/api/auth/jwks"),
        ]),
        "AUTH_JWKS_URL"
    );
    assert_eq!(
        failing_variable(&[
            ("BETTER_AUTH_URL", "https://app.example.com"),
            ("AUTH_AUDIENCE", " , "),
        ]),
        "AUTH_AUDIENCE"
    );
    assert_eq!(
        failing_variable(&[("AUTH_JWKS_URL", "https://keys.example.com")]),
        "AUTH_JWKS_URL",
        "a key set location means nothing without BETTER_AUTH_URL"
    );
    let message = settings(&[("BETTER_AUTH_URL", "https://user:hunter2@app.example.com")])
        .unwrap_err()
        .to_string();
    assert!(!message.contains("hunter2"), "{message}");
}

mod operational {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_lookup(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    fn fails(name: &str, value: &str) {
        let err = settings(&[(name, value)]).expect_err(value);
        assert_eq!(err.variable, name, "{err}");
        assert!(err.to_string().contains(name), "{err}");
    }

    #[test]
    fn defaults_suit_a_serverless_database() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database, DatabaseSettings::default());
        assert_eq!(s.database.pool_max, 10);
        assert_eq!(s.database.acquire_timeout, Duration::from_secs(3));
        assert_eq!(s.http, HttpSettings::default());
        assert_eq!(s.http.max_body_bytes, 65536);
        assert_eq!(s.http.rate_limit_per_minute, None);
        assert_eq!(s.database.quotas, crate::store::Quotas::default());
        assert_eq!(s.database.quotas.max_tasks_per_user, 10_000);
        assert_eq!(s.database.quotas.max_tags_per_user, 1_000);
        assert_eq!(s.database.quotas.max_lists_per_user, 500);
        assert_eq!(s.telemetry, TelemetrySettings::default());
    }

    #[test]
    fn every_variable_is_read() {
        let s = settings(&[
            ("DB_POOL_MAX", "12"),
            ("DB_ACQUIRE_TIMEOUT", "750ms"),
            ("DB_STATEMENT_TIMEOUT", "0"),
            ("DB_IDLE_TIMEOUT", "2m"),
            ("DB_MAX_LIFETIME", "600"),
            ("DB_TRANSACTION_POOLER", "true"),
            ("LOG_FORMAT", "JSON"),
            ("METRICS_ENABLED", "false"),
            (
                "CORS_ORIGINS",
                "https://app.example.com, http://localhost:3000",
            ),
            ("MAX_BODY_BYTES", "2048"),
            ("REQUEST_TIMEOUT", "5s"),
            ("BODY_READ_TIMEOUT", "2s"),
            ("HEADER_READ_TIMEOUT", "3s"),
            ("IDLE_TIMEOUT", "4s"),
            ("MAX_TASKS_PER_USER", "50"),
            ("MAX_TAGS_PER_USER", "7"),
            ("MAX_LISTS_PER_USER", "9"),
            ("RATE_LIMIT_PER_MINUTE", "120"),
            ("SHUTDOWN_GRACE", "20s"),
        ])
        .unwrap();
        assert_eq!(s.database.pool_max, 12);
        assert_eq!(s.database.acquire_timeout, Duration::from_millis(750));
        assert_eq!(s.database.statement_timeout, None);
        assert_eq!(s.database.idle_timeout, Duration::from_secs(120));
        assert_eq!(s.database.max_lifetime, Duration::from_secs(600));
        assert_eq!(s.database.transaction_pooler, PoolerMode::On);
        assert_eq!(s.telemetry.log_format, LogFormat::Json);
        assert!(!s.telemetry.metrics_enabled);
        assert_eq!(
            s.http.cors_origins,
            ["https://app.example.com", "http://localhost:3000"]
        );
        assert_eq!(s.http.max_body_bytes, 2048);
        assert_eq!(s.http.request_timeout, Duration::from_secs(5));
        assert_eq!(s.http.body_read_timeout, Duration::from_secs(2));
        assert_eq!(s.http.header_read_timeout, Duration::from_secs(3));
        assert_eq!(s.http.idle_timeout, Duration::from_secs(4));
        assert_eq!(s.database.quotas.max_tasks_per_user, 50);
        assert_eq!(s.database.quotas.max_tags_per_user, 7);
        assert_eq!(s.database.quotas.max_lists_per_user, 9);
        assert_eq!(s.http.rate_limit_per_minute.map(NonZeroU32::get), Some(120));
        assert_eq!(s.http.shutdown_grace, Duration::from_secs(20));
    }

    #[test]
    fn bad_values_name_their_variable() {
        fails("DB_POOL_MAX", "0");
        fails("DB_POOL_MAX", "many");
        fails("DB_ACQUIRE_TIMEOUT", "0");
        fails("DB_ACQUIRE_TIMEOUT", "soon");
        fails("DB_STATEMENT_TIMEOUT", "-1");
        fails("DB_IDLE_TIMEOUT", "3 parsecs");
        fails("DB_MAX_LIFETIME", "0");
        fails("DB_TRANSACTION_POOLER", "sometimes");
        fails("LOG_FORMAT", "xml");
        fails("METRICS_ENABLED", "maybe");
        fails("CORS_ORIGINS", "*");
        fails("CORS_ORIGINS", "https://app.example.com/");
        fails("CORS_ORIGINS", "app.example.com");
        fails("CORS_ORIGINS", "ftp://files.example.com");
        fails("MAX_BODY_BYTES", "10");
        fails("MAX_BODY_BYTES", "1e6");
        fails("REQUEST_TIMEOUT", "0");
        fails("REQUEST_TIMEOUT", "2d");
        fails("RATE_LIMIT_PER_MINUTE", "-5");
        fails("HEADER_READ_TIMEOUT", "0");
        fails("IDLE_TIMEOUT", "never");
        fails("BODY_READ_TIMEOUT", "0");
        fails("MAX_TASKS_PER_USER", "0");
        fails("MAX_TAGS_PER_USER", "lots");
        fails("MAX_LISTS_PER_USER", "0");
        fails("SHUTDOWN_GRACE", "forever");
    }
}

mod sync {
    use super::*;
    use crate::store::ListenSetting;

    #[test]
    fn the_feed_and_streams_default_to_the_issues_numbers() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.sync, SyncSettings::default());
        assert_eq!(s.sync.retention, Duration::from_secs(30 * 24 * 3600));
        assert_eq!(s.sync.heartbeat, Duration::from_secs(15));
        assert_eq!(s.sync.max_lag, 1000);
        assert_eq!(s.database.feed_pool_max, 8);
        assert_eq!(s.database.listen, ListenSetting::Auto);
    }

    #[test]
    fn every_sync_variable_is_read() {
        let s = settings(&[
            ("CHANGES_RETENTION", "2h"),
            ("EVENTS_HEARTBEAT", "500ms"),
            ("EVENTS_MAX_LAG", "20"),
            ("DATABASE_LISTEN_URL", "postgres://u:p@db.internal/app"),
            ("DB_FEED_POOL_MAX", "4"),
        ])
        .unwrap();
        assert_eq!(s.database.feed_pool_max, 4);
        assert_eq!(s.sync.retention, Duration::from_secs(7200));
        assert_eq!(s.sync.heartbeat, Duration::from_millis(500));
        assert_eq!(s.sync.max_lag, 20);
        assert_eq!(
            s.database.listen,
            ListenSetting::Url("postgres://u:p@db.internal/app".into())
        );
        let off = settings(&[("DATABASE_LISTEN_URL", "OFF")]).unwrap();
        assert_eq!(off.database.listen, ListenSetting::Off);
    }

    #[test]
    fn bad_sync_values_name_their_variable_and_never_a_password() {
        for (name, value) in [
            ("CHANGES_RETENTION", "0"),
            ("CHANGES_RETENTION", "forever"),
            ("EVENTS_HEARTBEAT", "0"),
            ("EVENTS_HEARTBEAT", "30s"),
            ("EVENTS_MAX_LAG", "0"),
            ("DB_FEED_POOL_MAX", "0"),
            ("DATABASE_LISTEN_URL", "mysql://u:hunter2@db/app"),
        ] {
            let err = settings(&[(name, value)]).expect_err(value);
            assert_eq!(err.variable, name, "{err}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
    }
}

#[test]
fn empty_values_count_as_unset_and_values_are_trimmed() {
    let s = settings(&[("PORT", "  "), ("DB_POOL_MAX", ""), ("HOST", " 0.0.0.0 ")]).unwrap();
    assert_eq!(s.port, 8080);
    assert_eq!(s.database.pool_max, 10);
    assert_eq!(s.host, "0.0.0.0");
}

#[test]
fn every_variable_is_documented_with_its_name() {
    let mut command = Environment::augment_args(Command::new("todo-api"));
    let help = command.render_long_help().to_string();
    for arg in Environment::augment_args(Command::new("todo-api")).get_arguments() {
        let name = env_name(arg).unwrap();
        assert!(help.contains(&name), "{name} is in --help");
        assert!(
            arg.get_long_help().or(arg.get_help()).is_some(),
            "{name} has a description"
        );
    }
}

#[test]
fn a_rejected_secret_is_never_repeated() {
    let err = settings(&[("BETTER_AUTH_SECRET", "hunter2-too-short")]).unwrap_err();
    assert_eq!(err.variable, "BETTER_AUTH_SECRET");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}
