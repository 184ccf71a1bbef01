//! `oplab env`: the shell lines that point kubectl at the cluster oplab uses, for `eval "$(oplab env)"`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct EnvArgs {
    /// Describe the sandbox even when the kubeconfig's cluster answers.
    #[arg(long)]
    pub sandbox: bool,
    /// The sandbox's state directory (default: the TUI's, in oplab's data directory).
    #[arg(long, value_name = "DIR", env = "OPLAB_SANDBOX_STATE")]
    pub sandbox_state: Option<PathBuf>,
    /// Where the sandbox's kubeconfig is written (default: oplab's data directory).
    #[arg(long, value_name = "FILE", env = "OPLAB_SANDBOX_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// kubeconfig context to name (default: the current one).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// A classroom attendee: kubectl's default namespace becomes theirs (`NAME-gordon`).
    #[arg(long, value_name = "NAME", env = "OPLAB_ATTENDEE")]
    pub attendee: Option<String>,
}

/// Quotes `s` for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@,".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

pub fn run(args: EnvArgs) -> anyhow::Result<ExitCode> {
    let lines = lines(&args)?;
    for line in lines {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

fn lines(args: &EnvArgs) -> anyhow::Result<Vec<String>> {
    let state = match &args.sandbox_state {
        Some(d) => d.clone(),
        None => super::sandbox::default_state_dir()?,
    };
    let sandbox_kubeconfig = match &args.kubeconfig {
        Some(p) => p.clone(),
        None => super::sandbox::data_dir()?
            .join("sandbox")
            .join("kubeconfig"),
    };
    let namespace = args
        .attendee
        .as_deref()
        .filter(|n| !n.is_empty())
        .map(|n| format!("{n}-gordon"));
    if !args.sandbox
        && let Some(line) = kubeconfig_cluster(args.context.as_deref())
    {
        let mut out = vec![line];
        if let Some(ctx) = &args.context {
            out.push(format!(
                "# kubeconfig context {ctx}: pass --context {ctx} to kubectl"
            ));
        }
        if let Some(ns) = namespace {
            out.push(format!(
                "# classroom: your namespace is {ns} (kubectl -n {ns})"
            ));
        }
        return Ok(out);
    }
    let mut out = Vec::new();
    match crate::sandbox::embedded::running(&state) {
        Some(holder) => {
            // Write it again from the running sandbox's own record: the file is current.
            let creds = crate::sandbox::state::read_credentials(&state)?;
            if let (Some(url), Some(c)) = (&holder.url, creds) {
                let text = crate::sandbox::kubeconfig::render(url, &c.ca_pem, &c.token, "default");
                crate::kubeconfig::write_text(&sandbox_kubeconfig, &text)?;
            }
            out.push(format!(
                "# the oplab sandbox ({holder}); state in {}",
                state.display()
            ));
        }
        None => {
            eprintln!(
                "oplab env: no sandbox runs on {} yet: start `oplab` (or `oplab sandbox --state {}`); \
                 this KUBECONFIG works once it does",
                state.display(),
                state.display()
            );
        }
    }
    out.push(format!(
        "export KUBECONFIG={}",
        shell_quote(&sandbox_kubeconfig.to_string_lossy())
    ));
    if let Some(ns) = namespace {
        out.push(format!(
            "# classroom: your namespace is {ns} (kubectl -n {ns})"
        ));
    }
    Ok(out)
}

/// `export KUBECONFIG=...` for the kubeconfig's cluster when it answers, like the TUI's choice.
fn kubeconfig_cluster(context: Option<&str>) -> Option<String> {
    let path = std::env::var_os("KUBECONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            use etcetera::BaseStrategy;
            let home = etcetera::choose_base_strategy()
                .ok()?
                .home_dir()
                .to_path_buf();
            Some(home.join(".kube").join("config"))
        })?;
    let first = std::env::split_paths(&path).next()?;
    if !Path::new(&first).exists() {
        return None;
    }
    let target = crate::cluster::connection::Target {
        kubeconfig: None,
        context: context.map(String::from),
        sandbox: false,
    };
    let runtime = tokio::runtime::Runtime::new().ok()?;
    runtime.block_on(target.connect()).ok()?;
    Some(format!(
        "export KUBECONFIG={}",
        shell_quote(&path.to_string_lossy())
    ))
}
