//! Manifest sources: the bundled sets embedded in the binary, files and directories, `{{var}}` substitution.

use anyhow::{Context, bail};
use include_dir::{Dir, include_dir};
use std::collections::BTreeMap;
use std::path::Path;

/// The `manifests/` directory, embedded at build time.
pub static BUNDLED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/manifests");

/// Variables and their defaults (as `manifests/README.md` documents them).
pub const VAR_DEFAULTS: &[(&str, &str)] = &[("ns", "gordon"), ("etc", "etc"), ("etc2", "etc2")];

/// Defaults of one set that differ from [`VAR_DEFAULTS`]: the namespace its chapter uses
/// (chapter 1's CronTabs live in `crontabs`).
pub const SET_VAR_DEFAULTS: &[(&str, &str, &str)] = &[("crontab/", "ns", "crontabs")];

/// The default of a variable for a source (by its name, `crontab/crd.yaml`): the set's own, else
/// the global one.
pub fn default_for(source: &str, name: &str) -> Option<&'static str> {
    SET_VAR_DEFAULTS
        .iter()
        .find(|(prefix, var, _)| *var == name && source.starts_with(prefix))
        .map(|(_, _, v)| *v)
        .or_else(|| {
            VAR_DEFAULTS
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| *v)
        })
}

/// One manifest file, before variables are filled in.
#[derive(Debug, Clone)]
pub struct Source {
    /// What error messages call it: `olm/01-crds.yaml` for a bundled file, the path otherwise.
    pub name: String,
    pub text: String,
}

/// Variable values given (`-n` for `ns`, `--set k=v`); a variable not given takes its default
/// ([`default_for`]: the set's own, else [`VAR_DEFAULTS`]).
#[derive(Debug, Clone, Default)]
pub struct Vars(pub BTreeMap<String, String>);

impl Vars {
    /// Defaults, then `ns` from `-n`, then `--set k=v` pairs.
    pub fn from_args(namespace: Option<&str>, sets: &[String]) -> anyhow::Result<Self> {
        let mut vars = Vars::default();
        if let Some(ns) = namespace {
            vars.0.insert("ns".into(), ns.into());
        }
        for pair in sets {
            let Some((k, v)) = pair.split_once('=') else {
                bail!("--set {pair}: expected NAME=VALUE, e.g. --set etc=my-etcd");
            };
            vars.0.insert(k.trim().to_string(), v.to_string());
        }
        Ok(vars)
    }
}

/// A bundled set: its name and one-line description (from the set's README heading line).
#[derive(Debug, Clone)]
pub struct SetInfo {
    pub name: String,
    pub files: Vec<String>,
    pub about: String,
}

/// Every bundled set: the four top-level sets and their subfolders (`olm/examples`, `etcd/clusters`).
pub fn bundled_sets() -> Vec<SetInfo> {
    let mut out = Vec::new();
    collect_sets(&BUNDLED, &mut out);
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn collect_sets(dir: &Dir<'static>, out: &mut Vec<SetInfo>) {
    for sub in dir.dirs() {
        let name = sub.path().to_string_lossy().into_owned();
        let files: Vec<String> = set_files(sub)
            .iter()
            .map(|f| f.path().to_string_lossy().into_owned())
            .collect();
        if !files.is_empty() {
            let about = sub
                .get_file(sub.path().join("README.md"))
                .and_then(|f| f.contents_utf8())
                .map(readme_summary)
                .unwrap_or_default();
            out.push(SetInfo { name, files, about });
        }
        collect_sets(sub, out);
    }
}

fn readme_summary(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or_default()
        .to_string()
}

/// The files of a set: top-level `*.yaml`/`*.yml`, not `invalid-*`, sorted by name.
fn set_files(dir: &Dir<'static>) -> Vec<&'static include_dir::File<'static>> {
    let mut files: Vec<_> = dir
        .files()
        .filter(|f| {
            let name = f
                .path()
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            is_yaml(name) && !name.starts_with("invalid-")
        })
        .collect();
    files.sort_by_key(|f| f.path());
    files
}

fn is_yaml(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml")
}

/// Resolves one `SET|FILE|DIR` argument. A bundled set or bundled file name wins; write `./name`
/// for a local path of the same name.
pub fn load(arg: &str) -> anyhow::Result<Vec<Source>> {
    let trimmed = arg.trim_end_matches('/');
    if !arg.starts_with("./") && !arg.starts_with('/') {
        if let Some(dir) = BUNDLED.get_dir(trimmed) {
            let files = set_files(dir);
            if files.is_empty() {
                bail!("bundled set {arg} has no manifests");
            }
            return files.into_iter().map(bundled_source).collect();
        }
        if let Some(file) = BUNDLED.get_file(trimmed)
            && is_yaml(trimmed)
        {
            return Ok(vec![bundled_source(file)?]);
        }
    }
    let path = Path::new(arg);
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .with_context(|| format!("reading directory {arg}"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| is_yaml(n) && !n.starts_with("invalid-"))
            })
            .collect();
        entries.sort();
        if entries.is_empty() {
            bail!("{arg}: no *.yaml files in this directory");
        }
        return entries.iter().map(|p| read_file(p)).collect();
    }
    if path.is_file() {
        return Ok(vec![read_file(path)?]);
    }
    let names: Vec<String> = bundled_sets().into_iter().map(|s| s.name).collect();
    bail!(
        "{arg}: neither a bundled set ({}) nor a file or directory",
        names.join(", ")
    )
}

fn bundled_source(file: &include_dir::File<'static>) -> anyhow::Result<Source> {
    let name = file.path().to_string_lossy().into_owned();
    let text = file
        .contents_utf8()
        .with_context(|| format!("bundled {name} is not UTF-8"))?
        .to_string();
    Ok(Source { name, text })
}

fn read_file(path: &Path) -> anyhow::Result<Source> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Source {
        name: path.display().to_string(),
        text,
    })
}

/// Fills `{{name}}` with the lab files' variable syntax ([`crate::lab::vars::find_refs`]). An
/// unknown variable is an error naming `file:line` (in a comment it is documentation, kept as
/// written). Lines are kept, so later YAML errors still point at the right line.
pub fn substitute(source: &Source, vars: &Vars) -> anyhow::Result<String> {
    let mut all: BTreeMap<String, String> = VAR_DEFAULTS
        .iter()
        .filter_map(|(k, _)| Some((k.to_string(), default_for(&source.name, k)?.to_string())))
        .collect();
    all.extend(vars.0.iter().map(|(k, v)| (k.clone(), v.clone())));
    crate::lab::vars::fill_strict(&source.text, &all, is_comment).map_err(|u| {
        anyhow::anyhow!(
            "{}:{}: unknown variable {{{{{name}}}}}; set it with --set {name}=VALUE",
            source.name,
            u.line,
            name = u.name
        )
    })
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_sets_match_the_directory() {
        let on_disk = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests");
        for set in bundled_sets() {
            for file in &set.files {
                let disk = std::fs::read_to_string(on_disk.join(file)).expect("file on disk");
                let sources = load(file).expect("bundled file loads");
                assert_eq!(sources[0].text, disk, "{file} differs from the directory");
            }
        }
        let names: Vec<String> = bundled_sets().into_iter().map(|s| s.name).collect();
        for set in crate::lab::MANIFEST_SETS {
            assert!(names.contains(&set.to_string()), "{set} not bundled");
        }
        assert!(names.contains(&"etcd/clusters".to_string()));
        assert!(names.contains(&"olm/examples".to_string()));
    }

    #[test]
    fn invalid_files_are_skipped_but_loadable_by_name() {
        let set = load("crontab").expect("crontab");
        assert!(set.iter().all(|s| !s.name.contains("invalid-")));
        assert_eq!(set.len(), 3);
        let one = load("crontab/invalid-crontab.yaml").expect("by name");
        assert_eq!(one.len(), 1);
    }

    #[test]
    fn defaults_match_the_readme() {
        let readme = BUNDLED
            .get_file("README.md")
            .and_then(|f| f.contents_utf8())
            .expect("README");
        for (k, v) in VAR_DEFAULTS {
            assert!(
                readme.contains(&format!("| `{{{{{k}}}}}` | `{v}` |")),
                "README lacks {k}={v}"
            );
        }
    }

    #[test]
    fn substitution_fills_and_refuses_unknown() {
        let src = Source {
            name: "x.yaml".into(),
            text: "# {{other}} in a comment\na: \"{{ ns }}\"\nb: \"{{etc}}\"\n".into(),
        };
        let vars = Vars::from_args(Some("team1"), &["etc=e1".into()]).expect("vars");
        let defaults = Source {
            name: "crontab/namespace.yaml".into(),
            text: "a: \"{{ns}}\"\nb: \"{{etc2}}\"\n".into(),
        };
        let out = substitute(&defaults, &Vars::default()).expect("defaults");
        assert_eq!(
            out, "a: \"crontabs\"\nb: \"etc2\"\n",
            "the set's own default"
        );
        let out = substitute(&src, &vars).expect("filled");
        assert_eq!(out, "# {{other}} in a comment\na: \"team1\"\nb: \"e1\"\n");
        let bad = Source {
            name: "x.yaml".into(),
            text: "a: 1\nb: \"{{nope}}\"\n".into(),
        };
        let err = substitute(&bad, &vars).expect_err("unknown var");
        assert!(
            err.to_string()
                .starts_with("x.yaml:2: unknown variable {{nope}}")
        );
    }
}
