//! Command-line parsing (hand-rolled, no dependencies) and target URL validation.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Duration;

pub const USAGE: &str = "\
loadgen: WebSocket load generator (loopback targets only)

USAGE:
  loadgen echo      --url ws://127.0.0.1:PORT/ [--raw] [--connections 50] [--depth 4]
                    [--size 16] [--duration 5] [--warmup 1] [--text]
  loadgen latency   --url ws://127.0.0.1:PORT/ [--raw] [--size 16] [--duration 5]
                    [--warmup 1] [--text]
  loadgen handshake --url ws://127.0.0.1:PORT/ [--duration 5] [--concurrency 16]
  loadgen idle      --url ws://127.0.0.1:PORT/ [--raw] [--connections 1000] [--hold 10]

  --raw       skip the HTTP upgrade (target is a plain TCP echo server)
  --depth     messages kept in flight per connection
  --size      payload bytes per message
  --duration  measured seconds (after --warmup)
  --hold      idle: seconds to hold the connections (0 = until stdin closes)
  --text      send text frames instead of binary

Prints one line of JSON to stdout. Exit code 0 when the run completed, 2 on bad arguments.
";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Echo,
    Latency,
    Handshake,
    Idle,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Echo => "echo",
            Mode::Latency => "latency",
            Mode::Handshake => "handshake",
            Mode::Idle => "idle",
        }
    }
}

/// Where to connect, and what to put in the request line / Host header.
#[derive(Clone, Debug)]
pub struct Target {
    pub addr: SocketAddr,
    pub host_header: String,
    pub path: String,
}

#[derive(Clone, Debug)]
pub struct Args {
    pub mode: Mode,
    pub target: Target,
    pub raw: bool,
    pub connections: usize,
    pub depth: usize,
    pub size: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub text: bool,
    pub concurrency: usize,
    /// None: hold until stdin closes.
    pub hold: Option<Duration>,
}

pub enum Parsed {
    Run(Args),
    Help,
}

/// Largest payload we agree to send (keeps pre-built frame buffers sane).
const MAX_SIZE: usize = 64 << 20;

pub fn parse(argv: &[String]) -> Result<Parsed, String> {
    let mut it = argv.iter();
    let mode = match it.next().map(String::as_str) {
        None => return Err("missing mode (echo, latency, handshake, idle)".into()),
        Some("-h") | Some("--help") | Some("help") => return Ok(Parsed::Help),
        Some("echo") => Mode::Echo,
        Some("latency") => Mode::Latency,
        Some("handshake") => Mode::Handshake,
        Some("idle") => Mode::Idle,
        Some(other) => return Err(format!("unknown mode {other:?}")),
    };

    let mut url: Option<String> = None;
    let mut raw = false;
    let mut text = false;
    let mut connections: Option<usize> = None;
    let mut depth: Option<usize> = None;
    let mut size: Option<usize> = None;
    let mut duration: Option<Duration> = None;
    let mut warmup: Option<Duration> = None;
    let mut concurrency: Option<usize> = None;
    let mut hold: Option<Duration> = None;

    while let Some(arg) = it.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Parsed::Help);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let allowed: &[&str] = match mode {
            Mode::Echo => &[
                "--url",
                "--raw",
                "--connections",
                "--depth",
                "--size",
                "--duration",
                "--warmup",
                "--text",
            ],
            Mode::Latency => &[
                "--url",
                "--raw",
                "--size",
                "--duration",
                "--warmup",
                "--text",
            ],
            Mode::Handshake => &["--url", "--duration", "--concurrency"],
            Mode::Idle => &["--url", "--raw", "--connections", "--hold"],
        };
        if !allowed.contains(&flag) {
            return Err(format!(
                "unknown or inapplicable option {flag:?} for mode {}",
                mode.name()
            ));
        }
        if flag == "--raw" || flag == "--text" {
            if inline.is_some() {
                return Err(format!("{flag} takes no value"));
            }
            if flag == "--raw" {
                raw = true;
            } else {
                text = true;
            }
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))?,
        };
        match flag {
            "--url" => url = Some(value),
            "--connections" => connections = Some(positive(flag, &value)?),
            "--depth" => depth = Some(positive(flag, &value)?),
            "--size" => {
                let s: usize = value
                    .parse()
                    .map_err(|_| format!("{flag}: not a number: {value:?}"))?;
                if s > MAX_SIZE {
                    return Err(format!("{flag}: at most {MAX_SIZE} bytes"));
                }
                size = Some(s);
            }
            "--duration" => duration = Some(seconds(flag, &value, false)?),
            "--warmup" => warmup = Some(seconds(flag, &value, true)?),
            "--concurrency" => concurrency = Some(positive(flag, &value)?),
            "--hold" => hold = Some(seconds(flag, &value, true)?),
            _ => unreachable!("flag list and match arms agree"),
        }
    }

    let url = url.ok_or("--url is required")?;
    let target = parse_url(&url)?;

    let (connections, depth) = match mode {
        Mode::Latency => (1, 1),
        Mode::Idle => (connections.unwrap_or(1000), 1),
        _ => (connections.unwrap_or(50), depth.unwrap_or(4)),
    };
    let hold = match hold {
        Some(d) if d.is_zero() => None,
        Some(d) => Some(d),
        None => Some(Duration::from_secs(10)),
    };
    Ok(Parsed::Run(Args {
        mode,
        target,
        raw,
        connections,
        depth,
        size: size.unwrap_or(16),
        duration: duration.unwrap_or(Duration::from_secs(5)),
        warmup: warmup.unwrap_or(Duration::from_secs(1)),
        text,
        concurrency: concurrency.unwrap_or(16),
        hold,
    }))
}

fn positive(flag: &str, v: &str) -> Result<usize, String> {
    match v.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{flag}: expected a positive integer, got {v:?}")),
    }
}

fn seconds(flag: &str, v: &str, zero_ok: bool) -> Result<Duration, String> {
    let s: f64 = v
        .parse()
        .map_err(|_| format!("{flag}: expected seconds, got {v:?}"))?;
    if !s.is_finite() || s < 0.0 || (!zero_ok && s == 0.0) || s > 1e6 {
        return Err(format!("{flag}: out of range: {v:?}"));
    }
    Ok(Duration::from_secs_f64(s))
}

/// Parses `ws://HOST[:PORT][/path]`, accepting only loopback hosts.
pub fn parse_url(url: &str) -> Result<Target, String> {
    let rest = url.strip_prefix("ws://").ok_or_else(|| {
        format!("--url must start with ws:// (got {url:?}; wss is not supported)")
    })?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    if authority.contains('@') {
        return Err("--url: userinfo is not supported".into());
    }
    let (host, port) = if let Some(h) = authority.strip_prefix('[') {
        let end = h.find(']').ok_or("--url: unterminated [ipv6]")?;
        let port = h[end + 1..].strip_prefix(':');
        (&h[..end], port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port: u16 = match port {
        None => 80,
        Some(p) => p.parse().map_err(|_| format!("--url: bad port {p:?}"))?,
    };
    if port == 0 {
        return Err("--url: port 0".into());
    }
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::from([127, 0, 0, 1])
    } else {
        host.parse()
            .map_err(|_| format!("--url: host must be a loopback address, got {host:?}"))?
    };
    let loopback = match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6 == Ipv6Addr::LOCALHOST,
    };
    if !loopback {
        return Err(format!(
            "--url: refusing non-loopback host {host:?} (only 127.0.0.0/8, localhost, [::1])"
        ));
    }
    Ok(Target {
        addr: SocketAddr::new(ip, port),
        host_header: authority.to_string(),
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn urls() {
        let t = parse_url("ws://127.0.0.1:8080/chat").unwrap();
        assert_eq!(t.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(t.path, "/chat");
        assert_eq!(t.host_header, "127.0.0.1:8080");
        assert_eq!(parse_url("ws://localhost:9").unwrap().path, "/");
        assert_eq!(
            parse_url("ws://[::1]:9/x").unwrap().addr.to_string(),
            "[::1]:9"
        );
        assert_eq!(parse_url("ws://127.0.0.1:9?a=b").unwrap().path, "/?a=b");
        assert!(parse_url("ws://10.0.0.1:80/").is_err());
        assert!(parse_url("ws://example.com/").is_err());
        assert!(parse_url("wss://127.0.0.1/").is_err());
        assert!(parse_url("ws://[::2]:80/").is_err());
    }

    #[test]
    fn args() {
        let Parsed::Run(a) = parse(&argv("echo --url ws://127.0.0.1:1/ --depth=8 --text")).unwrap()
        else {
            panic!()
        };
        assert_eq!((a.connections, a.depth, a.size, a.text), (50, 8, 16, true));
        assert!(parse(&argv("handshake --url ws://127.0.0.1:1/ --depth 3")).is_err());
        assert!(parse(&argv("echo --url ws://127.0.0.1:1/ --connections 0")).is_err());
        assert!(parse(&argv("bogus")).is_err());
        let Parsed::Run(a) = parse(&argv("idle --url ws://127.0.0.1:1/ --hold 0")).unwrap() else {
            panic!()
        };
        assert!(a.hold.is_none());
    }
}
