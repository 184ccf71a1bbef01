//! THE ONE place that turns errors from kube and other libraries into sentences for a user.
//!
//! Wherever an error reaches a person (TUI log, CLI, board, verdict reasons), say it with
//! [`sentence`] (or [`explain`] when the caller words the "what failed" part itself): the
//! server's own words, where it happened, and what to do, never a Rust `Debug` dump and never
//! the same cause twice (kube, hyper and rustls nest their sources' text in their own).
//!
//! ```
//! let err = kube::Error::Api(Box::new(kube::core::Status::failure("pods \"x\" not found", "NotFound").with_code(404)));
//! let text = oplab::explain::sentence("reading pod x in namespace demo", &err);
//! assert!(text.starts_with("reading pod x in namespace demo failed: the API server answered 404 NotFound: pods \"x\" not found"));
//! assert!(!text.contains("Status {"));
//! ```

use std::error::Error as StdError;
use std::fmt;

/// An error in words: the cause (`because`) and what to do about it (`hint`, may be empty).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Explained {
    /// What went wrong, as the server or the library said it, in one line of words.
    pub because: String,
    /// What to do about it; empty when there is nothing better than "try again".
    pub hint: String,
    /// The HTTP status the API server answered, when it answered.
    pub code: Option<u16>,
    /// True when the cluster itself is gone or refuses us (connection refused, TLS, 401):
    /// every later call will fail the same way.
    pub cluster_lost: bool,
}

impl fmt::Display for Explained {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.because)?;
        if !self.hint.is_empty() {
            write!(f, "; what to do: {}", self.hint)?;
        }
        Ok(())
    }
}

/// `"{doing} failed: {cause}; what to do: {hint}"`, e.g.
/// `reading kubeconfig /x failed: the file does not exist; what to do: ...`.
pub fn sentence(doing: &str, err: &(dyn StdError + 'static)) -> String {
    format!("{doing} failed: {}", explain(err))
}

/// [`sentence`] for an `anyhow::Error` (its context chain is walked too).
pub fn sentence_anyhow(doing: &str, err: &anyhow::Error) -> String {
    format!("{doing} failed: {}", explain_anyhow(err))
}

/// [`explain`] for an `anyhow::Error`: its contexts, then its causes.
pub fn explain_anyhow(err: &anyhow::Error) -> Explained {
    explain(err.as_ref())
}

/// An anyhow error as one readable text: the chain in words, each cause once, then what to do.
/// For the CLI's last word (`error: ...`) and other places that print an `anyhow::Error` whole.
pub fn anyhow_text(err: &anyhow::Error) -> String {
    explain_anyhow(err).to_string()
}

/// Walks `err` and its sources and says them in words.
pub fn explain(err: &(dyn StdError + 'static)) -> Explained {
    let mut out = Explained::default();
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        match words(e) {
            Step::Text(text) => push_part(&mut parts, text),
            Step::Final(text, hint, code, lost) => {
                push_part(&mut parts, text);
                if out.hint.is_empty() {
                    out.hint = hint;
                }
                out.code = out.code.or(code);
                out.cluster_lost |= lost;
                break;
            }
            Step::Skip => {}
        }
        current = e.source();
    }
    out.because = parts.join(": ");
    if out.because.is_empty() {
        out.because = "an unknown error".into();
    }
    out
}

/// What one error of a chain contributes.
enum Step {
    /// Its own words; the chain goes on to its source.
    Text(String),
    /// Everything about it and its sources: (text, hint, HTTP code, cluster lost).
    Final(String, String, Option<u16>, bool),
    /// Nothing of its own (a wrapper whose text is its source's).
    Skip,
}

fn push_part(parts: &mut Vec<String>, text: String) {
    let text = text.trim().trim_end_matches('.').to_string();
    if text.is_empty() {
        return;
    }
    // a wrapper that repeats its source's text: keep the longer, once
    if parts.iter().any(|p| p.contains(&text)) {
        return;
    }
    if let Some(last) = parts.last_mut()
        && let Some(own) = last.strip_suffix(&text)
    {
        let own = own.trim_end_matches([':', ' ']).to_string();
        *last = own;
        if last.is_empty() {
            parts.pop();
        }
    }
    parts.push(text);
}

fn words(e: &(dyn StdError + 'static)) -> Step {
    if let Some(k) = e.downcast_ref::<kube::Error>() {
        return kube_words(k);
    }
    if let Some(s) = e.downcast_ref::<kube::core::Status>() {
        return status_words(s);
    }
    if let Some(k) = e.downcast_ref::<kube::config::KubeconfigError>() {
        return kubeconfig_words(k);
    }
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        return io_words(io);
    }
    if let Some(w) = e.downcast_ref::<kube::runtime::watcher::Error>() {
        use kube::runtime::watcher::Error as W;
        return match w {
            W::InitialListFailed(_) => Step::Text("listing the objects to watch".into()),
            W::WatchStartFailed(_) => Step::Text("starting the watch".into()),
            W::WatchFailed(_) => Step::Text("the watch".into()),
            W::WatchError(s) => status_words(s),
            _ => Step::Text(w.to_string()),
        };
    }
    let text = e.to_string();
    if let Some(h) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
        if h.is_connect() {
            return Step::Text("cannot connect to the API server".into());
        }
        return Step::Text(strip_debug(&text));
    }
    if text.contains("Connection refused") || text.contains("connection refused") {
        return Step::Final(
            "the connection was refused (nothing listens at the server's address)".into(),
            LOST_HINT.into(),
            None,
            true,
        );
    }
    Step::Text(strip_debug(&text))
}

/// What to do when the cluster is gone.
pub const LOST_HINT: &str = "start the cluster again (or `oplab sandbox`), or point oplab at another one with --kubeconfig/--context; run without a cluster to use the built-in sandbox";

fn kube_words(k: &kube::Error) -> Step {
    use kube::Error as K;
    match k {
        K::Api(status) => status_words(status),
        K::HyperError(_) | K::Service(_) => Step::Skip,
        K::InferKubeconfig(_) => Step::Skip,
        K::InferConfig(_) => Step::Text("no cluster configuration found".into()),
        K::SerdeError(e) => Step::Final(
            format!("the API server's answer is not what oplab expected ({e})"),
            "is this a Kubernetes API server? check the server address in the kubeconfig".into(),
            None,
            false,
        ),
        K::RustlsTls(_) => Step::Final(
            format!("TLS failed: {}", chain_text(k)),
            "the server's certificate does not match the kubeconfig's certificate-authority; refresh the kubeconfig".into(),
            None,
            true,
        ),
        K::Auth(_) => Step::Final(
            format!("authentication failed: {}", chain_text(k)),
            "refresh the kubeconfig's login (or use the sandbox)".into(),
            None,
            true,
        ),
        K::Discovery(d) => Step::Text(format!("discovery: {}", strip_debug(&d.to_string()))),
        other => {
            let text = other.to_string();
            // kube's own prefixes say nothing to a user
            let text = text
                .split_once(": ")
                .filter(|(head, _)| head.ends_with("Error") && !head.contains(' '))
                .map(|(_, rest)| rest.to_string())
                .unwrap_or(text);
            Step::Text(strip_debug(&text))
        }
    }
}

fn status_words(s: &kube::core::Status) -> Step {
    let code = s.code;
    let reason = if s.reason.is_empty() {
        String::new()
    } else {
        format!(" {}", s.reason)
    };
    let message = if s.message.is_empty() {
        String::new()
    } else {
        format!(": {}", s.message)
    };
    let mut text = format!("the API server answered {code}{reason}{message}");
    let causes: Vec<String> = s
        .details
        .iter()
        .flat_map(|d| d.causes.iter())
        .filter(|c| !c.field.is_empty() && !s.message.contains(&c.message))
        .map(|c| format!("{}: {}", c.field, c.message))
        .collect();
    if !causes.is_empty() {
        text.push_str(&format!(" ({})", causes.join("; ")));
    }
    let hint = status_hint(code);
    Step::Final(text, hint.into(), Some(code), code == 401)
}

/// What to do about an API answer with HTTP status `code`.
pub fn status_hint(code: u16) -> &'static str {
    match code {
        400 | 422 => "fix the field(s) named above and try again",
        401 => {
            "your credentials were refused (a classroom teardown or an expired login); ask for a new kubeconfig or refresh the login, or run without a cluster to use the sandbox"
        }
        403 => {
            "your user lacks permission for this; check `kubectl auth can-i`, ask for RBAC, or use a cluster where you are admin (the sandbox)"
        }
        404 => {
            "it does not exist (yet): create it first, check the name and namespace, or install the CRD that serves its kind"
        }
        409 => "the object changed meanwhile or already exists; try again",
        410 => "the listing expired; try again",
        429 | 500..=599 => "the API server is overloaded or failing; wait and try again",
        _ => "",
    }
}

fn kubeconfig_words(k: &kube::config::KubeconfigError) -> Step {
    use kube::config::KubeconfigError as C;
    match k {
        C::ReadConfig(io, path) => {
            let why = match io.kind() {
                std::io::ErrorKind::NotFound => "the file does not exist".to_string(),
                std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                _ => io_text(io),
            };
            Step::Final(
                format!("cannot read the kubeconfig {}: {why}", path.display()),
                "check the path given with --kubeconfig or KUBECONFIG, or use the sandbox (`--sandbox`; the TUI starts it by itself when there is no kubeconfig)".into(),
                None,
                false,
            )
        }
        C::Parse(e) => Step::Final(
            format!("the kubeconfig is not valid YAML: {e}"),
            "fix the file or point --kubeconfig at another one".into(),
            None,
            false,
        ),
        C::FindPath => Step::Final(
            "no kubeconfig was found (neither KUBECONFIG nor ~/.kube/config)".into(),
            "start a cluster (kind, minikube, k3d), or use the sandbox (`--sandbox`; the TUI starts it by itself)".into(),
            None,
            false,
        ),
        other => Step::Text(strip_debug(&other.to_string())),
    }
}

fn io_words(io: &std::io::Error) -> Step {
    use std::io::ErrorKind as E;
    match io.kind() {
        E::ConnectionRefused => Step::Final(
            "the connection was refused (nothing listens at the server's address)".into(),
            LOST_HINT.into(),
            None,
            true,
        ),
        E::ConnectionReset | E::ConnectionAborted | E::BrokenPipe | E::UnexpectedEof => {
            Step::Final(
                "the server closed the connection".into(),
                LOST_HINT.into(),
                None,
                true,
            )
        }
        E::TimedOut => Step::Final(
            "the server did not answer in time".into(),
            "check that the cluster is running and reachable".into(),
            None,
            false,
        ),
        _ => Step::Text(io_text(io)),
    }
}

/// An io error's words without the `(os error N)` tail.
fn io_text(io: &std::io::Error) -> String {
    let text = io.to_string();
    let text = match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    lower_first(&text)
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) if c.clone().next().is_some_and(|n| n.is_lowercase()) => {
            f.to_lowercase().chain(c).collect()
        }
        _ => s.to_string(),
    }
}

/// The chain's own text (deduplicated), for library errors whose details are only in sources.
fn chain_text(e: &(dyn StdError + 'static)) -> String {
    let mut parts = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        push_part(&mut parts, strip_debug(&s.to_string()));
        cur = s.source();
    }
    parts.join(": ")
}

/// Cuts a Rust `Debug` dump (`Foo { a: Some(..) }`, `(Status { .. })`) out of a library's text.
fn strip_debug(text: &str) -> String {
    let markers = [
        " (Status {",
        " (ErrorResponse {",
        "Status {",
        "ErrorResponse {",
        " { ",
    ];
    let mut cut = text.len();
    for m in markers {
        if let Some(i) = text.find(m)
            && looks_like_debug(&text[i..])
        {
            cut = cut.min(i);
        }
    }
    text[..cut].trim_end().to_string()
}

fn looks_like_debug(tail: &str) -> bool {
    tail.contains(": Some(")
        || tail.contains(": None")
        || tail.contains("{ ") && tail.contains(" }")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, reason: &str, message: &str) -> kube::Error {
        kube::Error::Api(Box::new(
            kube::core::Status::failure(message, reason).with_code(code),
        ))
    }

    #[test]
    fn an_api_error_is_the_servers_words_and_what_to_do_never_a_debug_dump() {
        let e = api(
            404,
            "NotFound",
            "gordons.operator.prgcont.cz \"x\" not found",
        );
        let text = sentence("deleting Gordon x in demo", &e);
        assert_eq!(
            text,
            format!(
                "deleting Gordon x in demo failed: the API server answered 404 NotFound: gordons.operator.prgcont.cz \"x\" not found; what to do: {}",
                status_hint(404)
            )
        );
        assert!(!e.to_string().is_empty() && e.to_string().contains("Status {"));
    }

    #[test]
    fn an_anyhow_context_chain_is_said_once_each() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let k = kube::config::KubeconfigError::ReadConfig(io, "/x".into());
        let err = anyhow::Error::new(k).context("reading kubeconfig /x");
        let text = anyhow_text(&err);
        assert_eq!(
            text.matches("does not exist").count(),
            1,
            "the cause once: {text}"
        );
        assert!(
            !text.contains("\"/x\""),
            "the path not quoted twice: {text}"
        );
        assert!(text.contains("/x"), "{text}");
        assert!(text.contains("what to do:"), "{text}");
    }

    #[test]
    fn a_refused_connection_is_a_lost_cluster() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let err = anyhow::Error::new(io).context("watching pods");
        let e = explain_anyhow(&err);
        assert!(e.cluster_lost);
        assert!(
            e.because
                .starts_with("watching pods: the connection was refused"),
            "{e}"
        );
    }

    #[test]
    fn debug_dumps_are_cut() {
        assert_eq!(
            strip_debug("boom (Status { status: Some(Failure), code: 1 })"),
            "boom"
        );
        assert_eq!(strip_debug("plain words: fine"), "plain words: fine");
    }
}
