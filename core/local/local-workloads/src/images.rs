//! The images `strait local` can run, read from a container's image,
//! command and arguments: bb's `terminus` server and slow_cooker, the two
//! the pod-to-pod guide deploys, jmalloc/echo-server (HTTP and WebSocket
//! echo), and the proxy image as a multicluster gateway, as the gateway
//! guide deploys it. Anything else is named as unsupported.

use std::fmt;
use std::time::Duration;

use k8s_openapi::api::core::v1::Container;

mod reason;

pub use reason::UnsupportedReason;

/// The repository of bb, which `strait local` runs as its `terminus` server.
const BB: &str = "buoyantio/bb";
/// The repository of slow_cooker, the guide's load generator.
const SLOW_COOKER: &str = "buoyantio/slow_cooker";
/// The HTTP and WebSocket echo server Kubernetes users deploy to try
/// upgrades through a mesh.
const ECHO_SERVER: &str = "jmalloc/echo-server";
/// The variable echo-server reads its port from.
const ECHO_PORT_ENV: &str = "PORT";
/// echo-server's port when [`ECHO_PORT_ENV`] is unset.
const ECHO_DEFAULT_PORT: u16 = 8080;
/// Linkerd's proxy image, which `strait local` runs as a gateway.
const LINKERD_PROXY: &str = "cr.l5d.io/linkerd/proxy";
/// strait's own image, whose `proxy` command is the proxy.
const STRAIT: &str = strait_api::image::DEFAULT_REPOSITORY;
/// The proxy's variable that makes it a multicluster gateway.
const GATEWAY_ENV: &str = strait_mesh::env::GATEWAY;
/// What an unsupported image is told it could be instead.
const WHAT_RUNS: &str = "strait local runs only buoyantio/bb (as `terminus \
     --h1-server-port=PORT --response-text=TEXT`), buoyantio/slow_cooker \
     (`[--qps N] [--concurrency C] URL`, directly or from a `/bin/sh -c` \
     script of `sleep` lines and one slow_cooker invocation), \
     jmalloc/echo-server (its own entrypoint, PORT in the environment), and \
     cr.l5d.io/linkerd/proxy or ghcr.io/strait-mesh/strait (`proxy`) with \
     STRAIT_PROXY_GATEWAY=true, as a multicluster gateway";

/// A container's program, as the built-in images run it.
#[derive(Clone, Debug, PartialEq)]
pub enum Program {
    /// bb's `terminus`: an HTTP/1.1 server.
    Terminus(Terminus),
    /// slow_cooker: an HTTP/1.1 load generator (boxed: its flags make it
    /// the largest program by far).
    SlowCooker(Box<SlowCooker>),
    /// jmalloc/echo-server: echoes HTTP requests and WebSocket messages.
    EchoServer(EchoServer),
    /// The proxy as a multicluster gateway: the Pod runs a strait proxy in
    /// gateway mode on its address and no application, as the gateway
    /// Deployment of `linkerd multicluster install` does.
    Gateway,
}

/// bb's `terminus` mode: answers every request with a fixed text.
#[derive(Clone, Debug, PartialEq)]
pub struct Terminus {
    /// The port it serves HTTP/1.1 on (`--h1-server-port`).
    pub port: u16,
    /// The body of every answer (`--response-text`).
    pub response_text: String,
    /// The share of requests answered 500, in percent (`--percentage-failure`).
    pub percentage_failure: u8,
    /// How long each answer is delayed (`--sleep-in-millis`).
    pub delay: Duration,
}

/// jmalloc/echo-server: answers every request with the request itself,
/// and echoes the messages of every WebSocket it accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EchoServer {
    /// The port it serves HTTP/1.1 on (`PORT`, 8080 unset).
    pub port: u16,
}

impl Program {
    /// The port the program serves on, if it is a server: what the Pod
    /// binds, and what its proxy forwards to.
    pub fn server_port(&self) -> Option<u16> {
        match self {
            Program::Terminus(terminus) => Some(terminus.port),
            Program::EchoServer(echo) => Some(echo.port),
            Program::SlowCooker(_) | Program::Gateway => None,
        }
    }
}

/// slow_cooker: sends requests to one URL at a fixed rate.
#[derive(Clone, Debug, PartialEq)]
pub struct SlowCooker {
    /// How long the container waits first (the `sleep` lines of its script).
    pub start_delay: Duration,
    /// Requests per second of each connection (`-qps`).
    pub qps: u32,
    /// Connections sending in parallel (`-concurrency`); the total rate is
    /// `qps * concurrency`, as slow_cooker's.
    pub concurrency: u32,
    /// The request method (`-method`).
    pub method: String,
    /// Where requests go.
    pub url: Url,
    /// The Host header, when `-host` overrides the URL's.
    pub host_header: Option<String>,
    /// Extra headers (`-header 'name: value'`).
    pub headers: Vec<(String, String)>,
    /// Stop after this many requests (`-totalRequests`).
    pub total_requests: Option<u64>,
    /// A new connection per request (`-noreuse`).
    pub no_reuse: bool,
    /// How often it prints a line of counts and latencies (`-interval`,
    /// 10s by default, as slow_cooker's).
    pub interval: Duration,
    /// How long one request may take before it counts as failed
    /// (`-timeout`, 10s by default, as slow_cooker's).
    pub timeout: Duration,
}

/// An `http://` URL, split the way the client needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    /// The host: a Service name (short or qualified) or an IP address.
    pub host: String,
    /// The port (80 when the URL has none).
    pub port: u16,
    /// The authority as written in the URL, sent as the Host header.
    pub authority: String,
    /// The path and query (`/` when the URL has none).
    pub path: String,
    /// The URL as written, as slow_cooker prints it.
    pub text: String,
}

/// Why a container cannot run: the image and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct UnsupportedImage {
    /// The container's image.
    pub image: String,
    /// What strait cannot do with it.
    pub reason: UnsupportedReason,
}

impl fmt::Display for UnsupportedImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot run image {:?}: {}; {WHAT_RUNS}",
            self.image, self.reason
        )
    }
}

/// The program `container` runs, or why `strait local` cannot run it.
pub fn program_of(container: &Container) -> Result<Program, UnsupportedImage> {
    let image = container.image.clone().unwrap_or_default();
    let unsupported = |reason: UnsupportedReason| UnsupportedImage {
        image: image.clone(),
        reason,
    };
    let command = container.command.clone().unwrap_or_default();
    let args = container.args.clone().unwrap_or_default();
    match repository(&image).as_str() {
        BB => {
            let argv = match command.split_first() {
                None => args,
                Some((first, rest)) if basename(first) == "bb" => {
                    rest.iter().chain(&args).cloned().collect()
                }
                Some((first, _)) => {
                    return Err(unsupported(UnsupportedReason::NotBb(first.clone())));
                }
            };
            terminus(&argv).map(Program::Terminus).map_err(unsupported)
        }
        SLOW_COOKER => {
            let argv: Vec<String> = command.iter().chain(&args).cloned().collect();
            slow_cooker_argv(&argv, command.is_empty())
                .map(|cooker| Program::SlowCooker(Box::new(cooker)))
                .map_err(unsupported)
        }
        ECHO_SERVER => echo_server(container, &command, &args)
            .map(Program::EchoServer)
            .map_err(unsupported),
        LINKERD_PROXY | STRAIT => gateway(container, &image, &command, &args)
            .map(|()| Program::Gateway)
            .map_err(unsupported),
        "" => Err(unsupported(UnsupportedReason::NoImage)),
        other => Err(unsupported(UnsupportedReason::NotBuiltIn(
            other.to_string(),
        ))),
    }
}

/// The repository of an image reference, without registry defaults, tag
/// or digest: `docker.io/buoyantio/bb:v0.0.6` is `buoyantio/bb`.
fn repository(image: &str) -> String {
    let without_digest = image.split('@').next().unwrap_or("");
    let last_slash = without_digest.rfind('/').map_or(0, |i| i + 1);
    let without_tag = match without_digest[last_slash..].find(':') {
        Some(colon) => &without_digest[..last_slash + colon],
        None => without_digest,
    };
    let mut repo = without_tag;
    for prefix in ["docker.io/", "index.docker.io/", "registry-1.docker.io/"] {
        repo = repo.strip_prefix(prefix).unwrap_or(repo);
    }
    repo.strip_prefix("library/").unwrap_or(repo).to_string()
}

/// Whether a proxy container is a gateway: strait's image must be started
/// as its proxy, and either image needs `STRAIT_PROXY_GATEWAY=true`, since a
/// meshed Pod's sidecar comes from `linkerd.io/inject`, not from its spec.
fn gateway(
    container: &Container,
    image: &str,
    command: &[String],
    args: &[String],
) -> Result<(), UnsupportedReason> {
    if repository(image) == STRAIT {
        let argv: Vec<&str> = command.iter().chain(args).map(String::as_str).collect();
        // `strait-proxy` (what `strait multicluster install` runs), or
        // `strait proxy`: the same proxy.
        let argv = match argv.split_first() {
            Some((first, _)) if basename(first) == "strait-proxy" => &["proxy"][..],
            Some((first, rest)) if basename(first) == "strait" => rest,
            _ => &argv[..],
        };
        if argv.first() != Some(&"proxy") {
            return Err(UnsupportedReason::NotStraitProxy(
                argv.iter().map(|a| a.to_string()).collect(),
            ));
        }
    }
    let setting = container
        .env
        .iter()
        .flatten()
        .find(|v| v.name == GATEWAY_ENV)
        .and_then(|v| v.value.as_deref())
        .map(str::trim);
    match setting {
        Some("true") => Ok(()),
        _ => Err(UnsupportedReason::NotAGateway),
    }
}

/// echo-server as its image starts it: its own entrypoint (or
/// `echo-server` named), no arguments, the port from `PORT`.
fn echo_server(
    container: &Container,
    command: &[String],
    args: &[String],
) -> Result<EchoServer, UnsupportedReason> {
    if let Some(first) = command.first().filter(|c| basename(c) != "echo-server") {
        return Err(UnsupportedReason::NotEchoServer(first.clone()));
    }
    if let Some(extra) = command.iter().skip(1).chain(args).next() {
        return Err(UnsupportedReason::UnexpectedArgument(extra.clone()));
    }
    let port = container
        .env
        .iter()
        .flatten()
        .find(|v| v.name == ECHO_PORT_ENV)
        .map(|v| {
            let value = v.value.clone().unwrap_or_default();
            value.trim().parse::<u16>().ok().filter(|p| *p != 0).ok_or(
                UnsupportedReason::EnvNotAPort {
                    name: ECHO_PORT_ENV.to_string(),
                    value,
                },
            )
        })
        .transpose()?
        .unwrap_or(ECHO_DEFAULT_PORT);
    Ok(EchoServer { port })
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Splits `--name=value` / `--name value` / `-name` flags (Go's and
/// cobra's forms alike) from positional arguments.
struct Flags<'a> {
    args: std::iter::Peekable<std::slice::Iter<'a, String>>,
}

enum Arg<'a> {
    Flag(&'a str, Option<&'a str>),
    Positional(&'a str),
}

impl<'a> Flags<'a> {
    fn new(args: &'a [String]) -> Self {
        Flags {
            args: args.iter().peekable(),
        }
    }

    fn next_arg(&mut self) -> Option<Arg<'a>> {
        let arg = self.args.next()?;
        let Some(flag) = arg
            .strip_prefix("--")
            .or_else(|| arg.strip_prefix('-'))
            .filter(|f| !f.is_empty())
        else {
            return Some(Arg::Positional(arg));
        };
        Some(match flag.split_once('=') {
            Some((name, value)) => Arg::Flag(name, Some(value)),
            None => Arg::Flag(flag, None),
        })
    }

    /// The value of a flag given without `=`: the next argument.
    fn value(&mut self, name: &str, inline: Option<&'a str>) -> Result<&'a str, UnsupportedReason> {
        match inline {
            Some(v) => Ok(v),
            None => self
                .args
                .next()
                .map(String::as_str)
                .ok_or_else(|| UnsupportedReason::FlagWithoutValue(name.to_string())),
        }
    }
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, UnsupportedReason> {
    value
        .trim()
        .parse()
        .map_err(|_| UnsupportedReason::NotANumber {
            flag: name.to_string(),
            value: value.to_string(),
        })
}

/// bb's arguments: only the `terminus` mode with an HTTP/1.1 port.
fn terminus(argv: &[String]) -> Result<Terminus, UnsupportedReason> {
    let mut flags = Flags::new(argv);
    let mut mode = None;
    let mut port = None;
    let mut text = String::new();
    let mut percentage_failure = 0u8;
    let mut delay = Duration::ZERO;
    while let Some(arg) = flags.next_arg() {
        match arg {
            Arg::Positional(word) if mode.is_none() => mode = Some(word),
            Arg::Positional(word) => {
                return Err(UnsupportedReason::UnexpectedArgument(word.to_string()));
            }
            Arg::Flag(name, inline) => {
                let value = flags.value(name, inline)?;
                match name {
                    "h1-server-port" => port = Some(number::<u16>(name, value)?),
                    "response-text" => text = value.replace("\\n", "\n"),
                    "percentage-failure" => {
                        percentage_failure = number::<u8>(name, value)?.min(100);
                    }
                    "sleep-in-millis" => {
                        delay = Duration::from_millis(number(name, value)?);
                    }
                    "log-level" | "id" => {}
                    other => return Err(UnsupportedReason::BbFlag(other.to_string())),
                }
            }
        }
    }
    match mode {
        Some("terminus") => {}
        Some(other) => return Err(UnsupportedReason::BbMode(other.to_string())),
        None => return Err(UnsupportedReason::BbWithoutMode),
    }
    let port = port
        .filter(|p| *p != 0)
        .ok_or(UnsupportedReason::BbWithoutPort)?;
    Ok(Terminus {
        port,
        response_text: text,
        percentage_failure,
        delay,
    })
}

/// slow_cooker started directly (`bare`: the image's entrypoint with the
/// container's args) or through a shell script.
fn slow_cooker_argv(argv: &[String], bare: bool) -> Result<SlowCooker, UnsupportedReason> {
    if bare {
        return slow_cooker(argv, Duration::ZERO);
    }
    let Some((first, rest)) = argv.split_first() else {
        return Err(UnsupportedReason::NoCommand);
    };
    match basename(first) {
        "slow_cooker" => slow_cooker(rest, Duration::ZERO),
        "sh" | "bash" | "ash" | "dash" => match rest {
            [c, script] if c == "-c" => script_of(script),
            _ => Err(UnsupportedReason::ShellForm {
                shell: first.clone(),
                args: rest.to_vec(),
            }),
        },
        other => Err(UnsupportedReason::NotSlowCooker(other.to_string())),
    }
}

/// A shell script of `sleep N` lines followed by one slow_cooker invocation.
fn script_of(script: &str) -> Result<SlowCooker, UnsupportedReason> {
    let mut delay = Duration::ZERO;
    let mut found = None;
    for statement in script.lines().flat_map(|l| {
        let code = strip_comment(l);
        code.split(';').map(str::to_string).collect::<Vec<_>>()
    }) {
        let words = shell_words(&statement)?;
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let words = match words.split_first() {
            Some((&"exec", rest)) => rest.to_vec(),
            _ => words,
        };
        let Some((first, rest)) = words.split_first() else {
            continue;
        };
        if found.is_some() {
            return Err(UnsupportedReason::AfterSlowCooker(statement));
        }
        match (*first, rest) {
            ("sleep", [seconds]) => {
                let secs: f64 = seconds
                    .trim_end_matches('s')
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| UnsupportedReason::Sleep(seconds.to_string()))?;
                delay += Duration::from_secs_f64(secs);
            }
            (cmd, args) if basename(cmd) == "slow_cooker" => {
                let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
                found = Some(args);
            }
            _ => {
                return Err(UnsupportedReason::ScriptCommand(
                    statement.trim().to_string(),
                ));
            }
        }
    }
    let args = found.ok_or(UnsupportedReason::NoSlowCooker)?;
    slow_cooker(&args, delay)
}

/// A line without its `#` comment (a `#` starting a word).
fn strip_comment(line: &str) -> &str {
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        if c == '#' && previous.is_whitespace() {
            return &line[..i];
        }
        previous = c;
    }
    line
}

/// Words of one shell statement, with single and double quotes; anything
/// needing a real shell (pipes, redirects, variables, `&&`) is refused.
fn shell_words(statement: &str) -> Result<Vec<String>, UnsupportedReason> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote = None;
    for c in statement.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, '|' | '&' | '>' | '<' | '$' | '`' | '(' | ')') => {
                return Err(UnsupportedReason::NeedsShell(statement.trim().to_string()));
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(UnsupportedReason::UnterminatedQuote(
            statement.trim().to_string(),
        ));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// slow_cooker's flags and its URL.
fn slow_cooker(args: &[String], start_delay: Duration) -> Result<SlowCooker, UnsupportedReason> {
    let mut flags = Flags::new(args);
    let mut cooker = SlowCooker {
        start_delay,
        qps: 1,
        concurrency: 1,
        method: "GET".into(),
        url: Url {
            host: String::new(),
            port: 80,
            authority: String::new(),
            path: "/".into(),
            text: String::new(),
        },
        host_header: None,
        headers: Vec::new(),
        total_requests: None,
        no_reuse: false,
        interval: Duration::from_secs(10),
        timeout: Duration::from_secs(10),
    };
    let mut url = None;
    while let Some(arg) = flags.next_arg() {
        match arg {
            Arg::Positional(word) if url.is_none() => url = Some(parse_url(word)?),
            Arg::Positional(word) => {
                return Err(UnsupportedReason::UnexpectedArgument(word.to_string()));
            }
            Arg::Flag("noreuse", None) => cooker.no_reuse = true,
            Arg::Flag(name, inline) => {
                let value = flags.value(name, inline)?;
                match name {
                    "qps" => cooker.qps = number(name, value)?,
                    "concurrency" => cooker.concurrency = number(name, value)?,
                    "method" => cooker.method = value.to_ascii_uppercase(),
                    "totalRequests" => cooker.total_requests = Some(number(name, value)?),
                    "host" => cooker.host_header = Some(value.to_string()),
                    "header" => {
                        let (k, v) = value
                            .split_once(':')
                            .ok_or_else(|| UnsupportedReason::Header(value.to_string()))?;
                        cooker
                            .headers
                            .push((k.trim().to_string(), v.trim().to_string()));
                    }
                    "timeout" => cooker.timeout = duration(name, value)?,
                    "interval" => cooker.interval = duration(name, value)?,
                    other => return Err(UnsupportedReason::SlowCookerFlag(other.to_string())),
                }
            }
        }
    }
    if cooker.qps == 0 || cooker.concurrency == 0 {
        return Err(UnsupportedReason::ZeroRate);
    }
    if cooker.method.is_empty() || !cooker.method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(UnsupportedReason::Method(cooker.method));
    }
    cooker.url = url.ok_or(UnsupportedReason::NoUrl)?;
    Ok(cooker)
}

/// The slow_cooker a container with `args` runs, for tests of what it does.
#[cfg(test)]
pub(crate) fn slow_cooker_with(args: &[&str]) -> SlowCooker {
    let container = serde_json::from_value(serde_json::json!({
        "name": "c", "image": "buoyantio/slow_cooker", "args": args
    }));
    match container.map(|c| program_of(&c)) {
        Ok(Ok(Program::SlowCooker(c))) => *c,
        other => panic!("not a slow_cooker: {other:?}"),
    }
}

/// A flag's non-zero Go duration (`10s`, `500ms`).
fn duration(flag: &str, value: &str) -> Result<Duration, UnsupportedReason> {
    strait_duration::go_duration(value)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| UnsupportedReason::NotADuration {
            flag: flag.to_string(),
            value: value.to_string(),
        })
}

/// An `http://host[:port][/path]` URL.
fn parse_url(text: &str) -> Result<Url, UnsupportedReason> {
    let rest = text
        .strip_prefix("http://")
        .ok_or_else(|| UnsupportedReason::NotHttp(text.to_string()))?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err(UnsupportedReason::UnusableHost(text.to_string()));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
            let port = port
                .parse::<u16>()
                .map_err(|_| UnsupportedReason::BadPort(text.to_string()))?;
            (host.trim_matches(['[', ']']).to_string(), port)
        }
        _ => (authority.trim_matches(['[', ']']).to_string(), 80),
    };
    if host.is_empty() {
        return Err(UnsupportedReason::NoHost(text.to_string()));
    }
    Ok(Url {
        host,
        port,
        authority: authority.to_string(),
        path,
        text: text.to_string(),
    })
}

#[cfg(test)]
mod tests;
