//! Headless Chromium driven through WebDriver (chromedriver + fantoccini).
//!
//! One chromedriver per test run, started on first use on a port it picks itself
//! (`--port=0`, read back from its banner) and in a process group of its own, so
//! every browser it starts belongs to that group. A watchdog kills the group and
//! removes the browser profiles once this test process is gone, however it ends.
//! Each `Browser` is one WebDriver session (one independent browser with a fresh
//! profile, so its own cookies); dropping it ends the session and its Chromium.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use super::TestApp;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

const ROOT_PREFIX: &str = "concord-browser-";

/// Flags for headless Chromium as root on a machine without network access: no
/// sandbox, no GPU, and nothing that phones home (it would keep retrying).
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
];

struct Driver {
    port: u16,
    /// Holds one profile folder per session.
    root: PathBuf,
}

static DRIVER: OnceLock<Result<Driver, String>> = OnceLock::new();

fn driver() -> &'static Driver {
    match DRIVER.get_or_init(start_driver) {
        Ok(driver) => driver,
        Err(message) => panic!("{message}"),
    }
}

fn start_driver() -> Result<Driver, String> {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|path| !Path::new(path).exists())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the browser tests need Chromium and chromedriver, but {} is missing: \
             install them with `apt-get install chromium chromium-driver`",
            missing.join(" and ")
        ));
    }
    remove_leftovers();
    let root = std::env::temp_dir().join(format!("{ROOT_PREFIX}{}", std::process::id()));
    std::fs::create_dir_all(&root).map_err(|e| format!("creating {}: {e}", root.display()))?;
    let mut child = Command::new(CHROMEDRIVER)
        .arg("--port=0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("starting {CHROMEDRIVER}: {e}"))?;
    spawn_watchdog(child.id(), &root);
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout);
    let mut banner = String::new();
    let port = loop {
        let mut line = String::new();
        match lines.read_line(&mut line) {
            Ok(0) | Err(_) => {
                return Err(format!(
                    "{CHROMEDRIVER} exited before it was ready; it said:\n{banner}"
                ));
            }
            Ok(_) => {}
        }
        // "ChromeDriver was started successfully on port 43567."
        if let Some(rest) = line.split("started successfully on port ").nth(1) {
            break rest
                .trim()
                .trim_end_matches('.')
                .parse::<u16>()
                .map_err(|e| format!("chromedriver's port in {line:?}: {e}"))?;
        }
        banner.push_str(&line);
    };
    // Keep reading, so that chromedriver never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    Ok(Driver { port, root })
}

/// Kills chromedriver and every browser it started, and removes the profiles,
/// once this test process is gone.
fn spawn_watchdog(driver_pid: u32, root: &Path) {
    let cleanup = format!(
        "kill -KILL -{driver_pid} 2>/dev/null; rm -rf '{}'",
        root.display()
    );
    super::after_this_process("browser", &cleanup);
}

/// Profiles of runs that ended before their watchdog could clean up.
fn remove_leftovers() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(ROOT_PREFIX) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// One browser (a WebDriver session with its own profile) pointed at one `TestApp`.
pub struct Browser {
    pub client: Client,
    base: String,
    session_id: String,
    profile: PathBuf,
}

impl std::ops::Deref for Browser {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Browser {
    pub async fn open(app: &TestApp) -> Browser {
        let driver = driver();
        // Chromium may be slow to come up on a loaded machine: a session that
        // could not start is tried again, twice, with a fresh profile.
        let mut attempt = 0;
        let (client, profile) = loop {
            attempt += 1;
            let profile = driver
                .root
                .join(format!("profile-{}", uuid::Uuid::new_v4().simple()));
            let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
            args.push(format!("--user-data-dir={}", profile.display()));
            // Downloads go into the profile, removed with it, not the home folder.
            let downloads = profile.join("downloads");
            let capabilities = json!({
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": args,
                    "prefs": {
                        "download.default_directory": downloads,
                        "download.prompt_for_download": false,
                    },
                },
            });
            let Value::Object(capabilities) = capabilities else {
                unreachable!("a JSON object literal")
            };
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities)
                .connect(&format!("http://127.0.0.1:{}", driver.port))
                .await
            {
                Ok(client) => break (client, profile),
                Err(error) if attempt < 3 => {
                    eprintln!("starting a Chromium session failed ({error}); trying again");
                }
                Err(error) => panic!("starting a Chromium session through chromedriver: {error:?}"),
            }
        };
        let session_id = client
            .session_id()
            .await
            .expect("session id")
            .expect("a session");
        Browser {
            client,
            base: format!("http://{}", app.address),
            session_id,
            profile,
        }
    }

    /// Where this browser saves the files it downloads.
    pub fn downloads(&self) -> PathBuf {
        self.profile.join("downloads")
    }

    /// Loads a page of the app; WebDriver returns once it has loaded.
    pub async fn visit(&self, path: &str) {
        let url = format!("{}{}", self.base, path);
        self.client.goto(&url).await.expect("loading a page");
    }

    /// The path of the page shown.
    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("current URL")
            .path()
            .to_owned()
    }

    /// The first element matching `css`, waiting until there is one.
    pub async fn element(&self, css: &str) -> Element {
        match self.client.wait().for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(error) => {
                let path = self.path().await;
                panic!("no element matches {css:?} on {path}: {error}")
            }
        }
    }

    /// Waits until the XPath `condition` selects something: for states CSS can't
    /// express, such as a count or an element's text.
    pub async fn wait_until(&self, what: &str, condition: &str) {
        if let Err(error) = self
            .client
            .wait()
            .for_element(Locator::XPath(condition))
            .await
        {
            let path = self.path().await;
            panic!("waited in vain for {what} on {path}: {error}")
        }
    }

    /// Marks the page in the browser, for [`Browser::assert_not_reloaded`].
    pub async fn mark_page(&self) {
        self.execute("window.concordMark = true;", Vec::new())
            .await
            .expect("marking the page");
    }

    /// The page marked by [`Browser::mark_page`] is still the one shown: what
    /// changed on it changed in place.
    pub async fn assert_not_reloaded(&self) {
        let kept = self
            .execute("return window.concordMark === true;", Vec::new())
            .await
            .expect("reading the mark");
        assert_eq!(kept, serde_json::json!(true), "the page was reloaded");
    }

    /// The value of `attribute` of every element matching `css`.
    pub async fn attrs(&self, css: &str, attribute: &str) -> Vec<String> {
        let mut values = Vec::new();
        for element in self
            .client
            .find_all(Locator::Css(css))
            .await
            .expect("find_all")
        {
            values.extend(element.attr(attribute).await.expect("attribute"));
        }
        values
    }

    /// The rendered text of every element matching `css` (none is fine: no waiting).
    /// A page that redraws between finding the elements and reading them (a live
    /// update, the answer to a write) is read again.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut attempts = 0;
        'read: loop {
            attempts += 1;
            let mut texts = Vec::new();
            for element in self
                .client
                .find_all(Locator::Css(css))
                .await
                .expect("find_all")
            {
                match element.text().await {
                    Ok(text) => texts.push(text.trim().to_owned()),
                    Err(fantoccini::error::CmdError::Standard(e))
                        if e.error == fantoccini::error::ErrorStatus::StaleElementReference
                            && attempts < 10 =>
                    {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue 'read;
                    }
                    Err(e) => panic!("text of {css}: {e:?}"),
                }
            }
            return texts;
        }
    }

    /// Types `fields` (by input name) into the form `form` and submits it with its
    /// button, as a user would. Wait for an element of the next page afterwards.
    pub async fn submit(&self, form: &str, fields: &[(&str, &str)]) {
        self.element(form).await;
        for (name, value) in fields {
            let input = self.element(&format!("{form} [name=\"{name}\"]")).await;
            input.clear().await.expect("clearing a field");
            input.send_keys(value).await.expect("typing into a field");
        }
        self.element(&format!("{form} button[type=submit]"))
            .await
            .click()
            .await
            .expect("submitting a form");
    }

    /// Signs in through the login form and waits for the projects page.
    pub async fn sign_in(&self, email: &str, password: &str) {
        self.visit("/login").await;
        self.submit("#login-form", &[("email", email), ("password", password)])
            .await;
        self.element("#projects").await;
    }

    /// Signs out with the button in the top bar and waits for the login page.
    pub async fn sign_out(&self) {
        self.element(".topbar form[action=\"/logout\"] button")
            .await
            .click()
            .await
            .expect("signing out");
        self.element("#login-form").await;
    }
}

impl Drop for Browser {
    /// Ends the session (chromedriver then quits this Chromium) synchronously:
    /// the test's runtime may already be gone, panicking or not, and fantoccini's
    /// own close needs it.
    fn drop(&mut self) {
        if let Some(Ok(driver)) = DRIVER.get() {
            end_session(driver.port, &self.session_id);
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// `DELETE /session/{id}` over a plain socket, waiting for the answer (so the
/// browser is gone when it returns).
fn end_session(port: u16, session_id: &str) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let request = format!(
        "DELETE /session/{session_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return;
    }
    // chromedriver keeps the connection open: read the answer's length, not to EOF.
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n @ 1..) = stream.read(&mut chunk) {
        answer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&answer);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            continue;
        };
        let length = head
            .lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if body.len() >= length {
            return;
        }
    }
}

/// A file the browser downloads, once it is complete.
pub async fn wait_for_file(path: &std::path::Path) -> Vec<u8> {
    // Chromium writes `name.crdownload` and renames it when done; the rename is
    // not always what a test sees first on a loaded machine, so the file is
    // taken once it is there, has no `.crdownload` beside it, and is the same
    // on two reads in a row.
    let partial = path.with_extension(format!(
        "{}.crdownload",
        path.extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
    ));
    let mut last: Option<Vec<u8>> = None;
    for _ in 0..150 {
        if let Ok(bytes) = std::fs::read(path) {
            if !partial.exists() && !bytes.is_empty() && last.as_ref() == Some(&bytes) {
                return bytes;
            }
            last = Some(bytes);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{} was not downloaded", path.display())
}
