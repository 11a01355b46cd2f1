//! Every setting is a command-line flag and an environment variable; defaults live here.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "CONCORD_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// The URL users reach Concord at; used in invitation links and to mark cookies Secure.
    /// Without it, links use the address each request came to (its Host), else --bind.
    #[arg(long, env = "CONCORD_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// PostgreSQL server to use. Without it Concord runs its own private cluster under --data-dir.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Folder of the private PostgreSQL cluster (used only without DATABASE_URL).
    #[arg(long, env = "CONCORD_DATA_DIR", default_value = "./concord-data")]
    pub data_dir: PathBuf,

    /// Folder of the static files (CSS, JavaScript).
    #[arg(long, env = "CONCORD_STATIC_DIR", default_value = default_static_dir())]
    pub static_dir: PathBuf,

    /// Log filter, in tracing's EnvFilter syntax.
    #[arg(
        long,
        env = "CONCORD_LOG",
        default_value = "concord=info,tower_http=info"
    )]
    pub log: String,

    /// Log as JSON lines instead of text.
    #[arg(long, env = "CONCORD_LOG_JSON", default_value_t = false)]
    pub log_json: bool,

    /// Largest request body accepted, in bytes (uploads have their own limit).
    #[arg(long, env = "CONCORD_MAX_BODY_BYTES", default_value_t = 2 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Largest file accepted for import (transcripts, participant tables), in bytes.
    #[arg(long, env = "CONCORD_MAX_UPLOAD_BYTES", default_value_t = 20 * 1024 * 1024)]
    pub max_upload_bytes: usize,

    /// Seconds a request may take before it is answered with 408.
    #[arg(long, env = "CONCORD_REQUEST_TIMEOUT_SECS", default_value_t = 60)]
    pub request_timeout_secs: u64,

    /// Hours a session stays valid without use.
    #[arg(long, env = "CONCORD_SESSION_HOURS", default_value_t = 24 * 14)]
    pub session_hours: i64,

    /// Hours an invitation or password-reset link stays valid.
    #[arg(long, env = "CONCORD_INVITE_HOURS", default_value_t = 24 * 7)]
    pub invite_hours: i64,

    /// Failed sign-ins per account allowed within the throttle window.
    #[arg(long, env = "CONCORD_LOGIN_MAX_FAILURES_ACCOUNT", default_value_t = 5)]
    pub login_max_failures_account: i64,

    /// Failed sign-ins per client address allowed within the throttle window.
    #[arg(long, env = "CONCORD_LOGIN_MAX_FAILURES_ADDRESS", default_value_t = 20)]
    pub login_max_failures_address: i64,

    /// Length of the sign-in throttle window, in minutes.
    #[arg(long, env = "CONCORD_LOGIN_WINDOW_MINUTES", default_value_t = 15)]
    pub login_window_minutes: i64,

    /// Take the client address from X-Forwarded-For (only behind a trusted proxy).
    #[arg(long, env = "CONCORD_TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,

    /// Most database connections this instance opens.
    #[arg(long, env = "CONCORD_DB_MAX_CONNECTIONS", default_value_t = 20)]
    pub db_max_connections: u32,

    /// Seconds a client may take to send a request's headers (also from the
    /// end of its previous response on a kept-alive connection).
    #[arg(long, env = "CONCORD_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub header_read_timeout_secs: u64,

    /// Seconds a connection may stay open with no request in flight.
    #[arg(long, env = "CONCORD_IDLE_TIMEOUT_SECS", default_value_t = 5)]
    pub idle_timeout_secs: u64,

    /// Seconds requests in flight get to finish after SIGTERM or Ctrl+C; then
    /// the remaining connections are closed and the database is stopped.
    #[arg(long, env = "CONCORD_SHUTDOWN_TIMEOUT_SECS", default_value_t = 10)]
    pub shutdown_timeout_secs: u64,
}

fn default_static_dir() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/static")
}

impl Config {
    /// Settings for tests: everything default but the database.
    pub fn for_tests(database_url: String) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            database_url: Some(database_url),
            data_dir: PathBuf::from("./concord-data"),
            static_dir: PathBuf::from(default_static_dir()),
            log: "concord=info".into(),
            log_json: false,
            max_body_bytes: 2 * 1024 * 1024,
            max_upload_bytes: 20 * 1024 * 1024,
            request_timeout_secs: 60,
            session_hours: 24 * 14,
            invite_hours: 24 * 7,
            login_max_failures_account: 5,
            login_max_failures_address: 20,
            login_window_minutes: 15,
            trust_proxy: false,
            db_max_connections: 5,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            shutdown_timeout_secs: 10,
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    pub fn server_timeouts(&self) -> crate::web::server::Timeouts {
        use std::time::Duration;
        crate::web::server::Timeouts {
            header_read: Duration::from_secs(self.header_read_timeout_secs.max(1)),
            idle: Duration::from_secs(self.idle_timeout_secs.max(1)),
            shutdown: Duration::from_secs(self.shutdown_timeout_secs),
        }
    }

    /// Where users reach Concord, for links made outside a request (the
    /// command line): --public-url, else the address to bind, with a wildcard
    /// address (`0.0.0.0`, `::`) shown as this machine's loopback.
    pub fn base_url(&self) -> String {
        self.base_url_for(None)
    }

    /// Where users reach Concord, for links made in a request: --public-url,
    /// else the host (and port) the request was sent to, else [`Self::base_url`].
    pub fn base_url_for(&self, host: Option<&str>) -> String {
        if let Some(url) = &self.public_url {
            return url.trim_end_matches('/').to_owned();
        }
        if let Some(host) = host.filter(|h| is_host(h)) {
            return format!("http://{host}");
        }
        let mut bind = self.bind;
        if bind.ip().is_unspecified() {
            bind.set_ip(match bind.ip() {
                std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        format!("http://{bind}")
    }

    /// An absolute URL of a path, for links made outside a request.
    pub fn public_url(&self, path: &str) -> String {
        format!("{}{}", self.base_url(), path)
    }
}

/// A Host header worth putting in a link: a name or address and a port,
/// nothing that could end the authority or start a path.
fn is_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_use_the_public_url_else_the_request_host_else_the_bound_address() {
        let mut config = Config::for_tests(String::new());
        config.bind = "0.0.0.0:3000".parse().unwrap();
        assert_eq!(config.base_url(), "http://127.0.0.1:3000");
        assert_eq!(
            config.base_url_for(Some("lab.example:3000")),
            "http://lab.example:3000"
        );
        assert_eq!(
            config.base_url_for(Some("evil.example/x?")),
            "http://127.0.0.1:3000"
        );
        config.bind = "[::]:3000".parse().unwrap();
        assert_eq!(config.base_url(), "http://[::1]:3000");
        config.bind = "192.168.1.20:8000".parse().unwrap();
        assert_eq!(
            config.public_url("/invite/x"),
            "http://192.168.1.20:8000/invite/x"
        );
        config.public_url = Some("https://concord.example.org/".into());
        assert_eq!(
            config.base_url_for(Some("other:1")),
            "https://concord.example.org"
        );
        assert!(config.secure_cookies());
    }
}
