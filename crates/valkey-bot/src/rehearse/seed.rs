//! Realistic repositories for a rehearsal, generated with the `git` command line: the Valkey
//! source with release tags, the hashes file with the digests of those tags' archives, the
//! container, website and valkey-doc repositories (from the task crates' own fixtures), the automation
//! repository, and binary artifacts with their `.sha256` files.

use std::path::{Path, PathBuf};
use std::process::Command;

use include_dir::{Dir, include_dir};
use sha2::{Digest, Sha256};
use valkey_bot_core::Version;
use valkey_bot_sandbox::{WorkflowOutcome, WorkflowRunOutcome};

static CONTAINER: Dir<'_> =
    include_dir!("$CARGO_MANIFEST_DIR/../task-container/tests/fixtures/repo");
/// bashbrew's `template-helper-functions.jq` as the container tests have it (written for the
/// project), served as docker-library/bashbrew.
static HELPER_FUNCTIONS: &[u8] =
    include_bytes!("../../../task-container/tests/fixtures/bashbrew/template-helper-functions.jq");
/// The official-images manifests the container task reads the base images from.
static OFFICIAL_IMAGES: [(&str, &[u8]); 2] = [
    (
        "library/debian",
        include_bytes!("../../../task-container/tests/fixtures/official-images/library/debian"),
    ),
    (
        "library/alpine",
        include_bytes!("../../../task-container/tests/fixtures/official-images/library/alpine"),
    ),
];
/// The commit the shipped `tasks.toml` pins bashbrew's helper functions at.
pub const SHIPPED_HELPER_COMMIT: &str = "08c926140ad0af22de58c2a2656afda58082ba3e";
/// The commit of the seeded docker-library/bashbrew (the seed's fixed dates and identity make it
/// the same on every machine); rehearsals pin it in place of [`SHIPPED_HELPER_COMMIT`].
pub const SEEDED_HELPER_COMMIT: &str = "438a5bf40c98a314a20546066ff0b98da4980ef1";
static WEBSITE_TEMPLATE: &[u8] =
    include_bytes!("../../../task-website/tests/fixtures/valkey-website-template.md");
/// The docs task's own fixtures: valkey-doc's four files, and a `module.c` of our making.
static DOCS: [(&str, &[u8]); 4] = [
    (
        "topics/releases.md",
        include_bytes!("../../../task-docs/tests/fixtures/releases.md"),
    ),
    (
        "Makefile",
        include_bytes!("../../../task-docs/tests/fixtures/Makefile"),
    ),
    (
        "topics/valkey.conf.md",
        include_bytes!("../../../task-docs/tests/fixtures/valkey.conf.md"),
    ),
    (
        "topics/modules-api-ref.md",
        include_bytes!("../../../task-docs/tests/fixtures/modules-api-ref.before.md"),
    ),
];
static MODULE_C: &[u8] = include_bytes!("../../../task-docs/tests/fixtures/module.c");

/// Releases the seeded Valkey repository has already published (tagged and recorded).
pub const PUBLISHED: [&str; 4] = ["8.0.6", "8.1.4", "9.0.1", "9.0.2"];

/// The platforms binary artifacts are built for.
pub const PLATFORMS: [(&str, &str); 4] = [
    ("jammy", "x86_64"),
    ("jammy", "arm64"),
    ("noble", "x86_64"),
    ("noble", "arm64"),
];

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `git` failed.
    #[error("`git {args}` failed in {dir}: {stderr}")]
    Git {
        /// The arguments.
        args: String,
        /// Where it ran.
        dir: PathBuf,
        /// What it said.
        stderr: String,
    },
}

/// A repository being written: a work tree with a `.git`.
struct Repo {
    dir: PathBuf,
}

impl Repo {
    fn init(root: &Path, full_name: &str, branch: &str) -> Result<Self, SeedError> {
        let dir = root.join(full_name);
        create_dir(&dir)?;
        let repo = Self { dir };
        repo.git(&["init", "--quiet", "--initial-branch", branch])?;
        Ok(repo)
    }

    fn write(&self, path: &str, bytes: &[u8], executable: bool) -> Result<(), SeedError> {
        let file = self.dir.join(path);
        if let Some(parent) = file.parent() {
            create_dir(parent)?;
        }
        std::fs::write(&file, bytes).map_err(|source| SeedError::Io {
            path: file.clone(),
            source,
        })?;
        #[cfg(unix)]
        if executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).map_err(
                |source| SeedError::Io {
                    path: file.clone(),
                    source,
                },
            )?;
        }
        Ok(())
    }

    fn write_dir(&self, dir: &Dir<'_>) -> Result<(), SeedError> {
        for file in dir.files() {
            let path = file.path().to_string_lossy();
            self.write(&path, file.contents(), path.ends_with(".sh"))?;
        }
        for sub in dir.dirs() {
            self.write_dir(sub)?;
        }
        Ok(())
    }

    fn commit(&self, message: &str) -> Result<(), SeedError> {
        self.git(&["add", "--all"])?;
        self.git(&["commit", "--quiet", "--allow-empty", "-m", message])
    }

    fn git(&self, args: &[&str]) -> Result<(), SeedError> {
        git_output(&self.dir, args).map(drop)
    }
}

/// `root/<full_name>`: one commit (a README) on `branch`, the repository `valkey-bot smoke`
/// runs its reference scenario on.
pub fn seed_repository(root: &Path, full_name: &str, branch: &str) -> Result<(), SeedError> {
    let repo = Repo::init(root, full_name, branch)?;
    repo.write(
        "README.md",
        format!("# {full_name}\n\nA throwaway repository for `valkey-bot smoke`.\n").as_bytes(),
        false,
    )?;
    repo.commit("Initial commit")
}

/// Runs `git args` in `dir` as the seed's fixed maintainer, at a fixed date and without the
/// machine's git configuration; its standard output, or an error with git's message.
pub fn git_output(dir: &Path, args: &[&str]) -> Result<Vec<u8>, SeedError> {
    git_output_with(dir, args, &[])
}

/// Like [`git_output`], with `env` set on top (another author, an index file).
pub fn git_output_with(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<Vec<u8>, SeedError> {
    let failed = |stderr: String| SeedError::Git {
        args: args.join(" "),
        dir: dir.to_owned(),
        stderr,
    };
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Valkey Maintainer")
        .env("GIT_AUTHOR_EMAIL", "maintainer@example.com")
        .env("GIT_COMMITTER_NAME", "Valkey Maintainer")
        .env("GIT_COMMITTER_EMAIL", "maintainer@example.com")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .envs(env.iter().copied())
        .output()
        .map_err(|e| failed(e.to_string()))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(failed(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ))
    }
}

fn create_dir(dir: &Path) -> Result<(), SeedError> {
    std::fs::create_dir_all(dir).map_err(|source| SeedError::Io {
        path: dir.to_owned(),
        source,
    })
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes every repository of a rehearsal of `versions` under `root`, as the sandbox at
/// `base_url` serves them (the website's binary links point at its `_downloads/releases/`).
pub fn seed(root: &Path, versions: &[Version], base_url: &str) -> Result<(), SeedError> {
    let source = seed_source(root, versions)?;
    let archives = seed_hashes(root, &source, base_url)?;
    let container = Repo::init(root, "valkey-io/valkey-container", "mainline")?;
    container.write_dir(&CONTAINER)?;
    record_archives(&container, &archives)?;
    container.commit("Container images for the published releases")?;
    seed_docker_library(root)?;
    let website = Repo::init(root, "valkey-io/valkey-io.github.io", "main")?;
    let template = String::from_utf8_lossy(WEBSITE_TEMPLATE).replace(
        "https://download.valkey.io/releases/",
        &format!("{base_url}/_downloads/releases/"),
    );
    website.write(
        "templates/valkey-website-template.md",
        template.as_bytes(),
        false,
    )?;
    website.write(
        "content/download/releases/_index.md",
        b"+++\ntitle = \"Releases\"\nsort_by = \"date\"\n+++\n",
        false,
    )?;
    website.commit("Website with the download pages of the published releases")?;
    let bundle = Repo::init(root, "valkey-io/valkey-bundle", "main")?;
    bundle.write(
        "README.md",
        b"# valkey-bundle\n\nReceives a dispatch for every release.\n",
        false,
    )?;
    bundle.commit("Initial commit")?;
    let docs = Repo::init(root, "valkey-io/valkey-doc", "main")?;
    for (path, bytes) in DOCS {
        docs.write(path, bytes, false)?;
    }
    docs.commit("Documentation of the published releases")?;
    let release_automation = Repo::init(root, RELEASE_AUTOMATION, "main")?;
    for (file, text) in RELEASE_WORKFLOWS {
        release_automation.write(&format!(".github/workflows/{file}"), text.as_bytes(), false)?;
    }
    release_automation.commit("The build-side workflows the bot dispatches")?;
    let outcomes = root.join("_sandbox/workflows.json");
    create_dir(&root.join("_sandbox"))?;
    let text =
        serde_json::to_string_pretty(&demo_workflow_outcomes()).map_err(|error| SeedError::Io {
            path: outcomes.clone(),
            source: std::io::Error::other(error),
        })?;
    std::fs::write(&outcomes, text).map_err(|source| SeedError::Io {
        path: outcomes.clone(),
        source,
    })?;
    let automation = Repo::init(root, "valkey-io/valkey-automation-bot", "main")?;
    automation.write(
        "README.md",
        b"# valkey-automation-bot\n\nRelease tracking issues live here.\n",
        false,
    )?;
    automation.commit("Initial commit")?;
    versions
        .iter()
        .try_for_each(|version| seed_artifacts(root, version))
}

/// The old automation's repository, whose build-side workflows the workflow tasks dispatch.
pub const RELEASE_AUTOMATION: &str = "valkey-io/valkey-release-automation";

/// The seeded workflows of [`RELEASE_AUTOMATION`]: the shapes of the real ones' `workflow_dispatch`
/// inputs and jobs (the sandbox simulates their runs), each with the bot's marker input shown as
/// its run's title, as `docs/migration.md` asks of the real ones.
pub const RELEASE_WORKFLOWS: [(&str, &str); 4] = [
    ("update-try-valkey.yml", TRY_VALKEY_WORKFLOW),
    ("packages.yml", PACKAGES_WORKFLOW),
    (DEMO_FAILING_WORKFLOW, PACKAGES_WORKFLOW),
    (DEMO_SLOW_WORKFLOW, PACKAGES_WORKFLOW),
];

/// A copy of the packages workflow whose runs the sandbox fails (job `build-deb`), for the
/// rehearsal's demonstration of a failing workflow task.
pub const DEMO_FAILING_WORKFLOW: &str = "demo-packages-failing.yml";
/// A copy of the packages workflow whose runs the sandbox keeps going for ten minutes, for the
/// demonstration of a workflow task that times out.
pub const DEMO_SLOW_WORKFLOW: &str = "demo-packages-slow.yml";

const TRY_VALKEY_WORKFLOW: &str = r#"name: Build Try Valkey Image
run-name: ${{ inputs.valkey_bot_marker || github.workflow }}
on:
  workflow_dispatch:
    inputs:
      version:
        type: string
        required: true
      region:
        type: string
        required: true
      valkey_bot_marker:
        type: string
        required: false
jobs:
  build-try-valkey:
    runs-on: ubuntu-latest
    steps:
      - run: echo "build the image"
"#;

const PACKAGES_WORKFLOW: &str = r#"name: Build Valkey Packages (RPM + DEB)
run-name: ${{ inputs.valkey_bot_marker || github.workflow }}
on:
  workflow_dispatch:
    inputs:
      version:
        type: string
        required: true
      valkey_bot_marker:
        type: string
        required: false
jobs:
  process-inputs:
    runs-on: ubuntu-latest
    steps:
      - run: echo "derive the packaging directory"
  build-rpm:
    runs-on: ubuntu-latest
    steps:
      - run: echo "build the RPMs"
  build-deb:
    runs-on: ubuntu-latest
    steps:
      - run: echo "build the Debian packages"
"#;

/// How the sandbox ends the demonstration workflows' runs (the others succeed): written to
/// `ROOT/_sandbox/workflows.json` for a sandbox started over the seeded root later
/// (`valkey-bot sandbox --root DIR`), and set on the stage's running sandbox.
pub fn demo_workflow_outcomes() -> Vec<WorkflowOutcome> {
    vec![
        WorkflowOutcome {
            repository: RELEASE_AUTOMATION.to_owned(),
            workflow: DEMO_FAILING_WORKFLOW.to_owned(),
            outcome: WorkflowRunOutcome::Fail {
                failing_jobs: vec!["build-deb".to_owned()],
            },
        },
        WorkflowOutcome {
            repository: RELEASE_AUTOMATION.to_owned(),
            workflow: DEMO_SLOW_WORKFLOW.to_owned(),
            outcome: WorkflowRunOutcome::Slow { seconds: 600 },
        },
    ]
}

/// docker-library/bashbrew (the helper functions, at [`SEEDED_HELPER_COMMIT`]) and
/// docker-library/official-images (the Debian and Alpine manifests), which the container task
/// reads besides the container repository.
fn seed_docker_library(root: &Path) -> Result<(), SeedError> {
    let bashbrew = Repo::init(root, "docker-library/bashbrew", "master")?;
    bashbrew.write(
        "scripts/template-helper-functions.jq",
        HELPER_FUNCTIONS,
        false,
    )?;
    bashbrew.commit("Template helper functions")?;
    let head = git_output(&bashbrew.dir, &["rev-parse", "HEAD"])?;
    let head = String::from_utf8_lossy(&head).trim().to_owned();
    if head != SEEDED_HELPER_COMMIT {
        return Err(SeedError::Git {
            args: "rev-parse HEAD".to_owned(),
            dir: bashbrew.dir.clone(),
            stderr: format!(
                "the seeded helper functions are at {head}, not SEEDED_HELPER_COMMIT {SEEDED_HELPER_COMMIT}: update the constant"
            ),
        });
    }
    let official = Repo::init(root, "docker-library/official-images", "master")?;
    for (path, bytes) in OFFICIAL_IMAGES {
        official.write(path, bytes, false)?;
    }
    official.commit("Debian and Alpine manifests")
}

/// The Valkey source, one commit and tag per published release and per version of `versions`.
fn seed_source(root: &Path, versions: &[Version]) -> Result<Repo, SeedError> {
    let repo = Repo::init(root, "valkey-io/valkey", "unstable")?;
    repo.write(
        "README.md",
        b"This is the Valkey source tree, as seeded for a rehearsal.\n",
        false,
    )?;
    let mut releases: Vec<String> = PUBLISHED.iter().map(|v| (*v).to_owned()).collect();
    for version in versions.iter().filter(|v| !v.is_unstable()) {
        if !releases.iter().any(|r| r == version.as_str()) {
            releases.push(version.as_str().to_owned());
        }
    }
    for release in &releases {
        let header = format!("#define VALKEY_VERSION \"{release}\"\n");
        repo.write("src/version.h", header.as_bytes(), false)?;
        repo.write("src/module.c", MODULE_C, false)?;
        repo.commit(&format!("Valkey {release}"))?;
        repo.git(&["tag", release])?;
    }
    Ok(repo)
}

/// The hashes file, with the real digests of the published releases' archives, as GitHub (and
/// the sandbox at `base_url`) make them, each with its canonical URL on that server. Returns each
/// release's (URL, digest).
fn seed_hashes(
    root: &Path,
    source: &Repo,
    base_url: &str,
) -> Result<Vec<(String, String, String)>, SeedError> {
    let mut readme = String::from(
        "# Hashes of the Valkey source archives published on GitHub.\n\
         # One line per release: hash <file> sha256 <digest> <url>\n\
         # The first line stands for the unstable branch and carries no digest.\n\n",
    );
    readme.push_str(valkey_bot_task_checksums::PLACEHOLDER);
    readme.push('\n');
    let mut archives = Vec::new();
    for release in PUBLISHED {
        let prefix = format!("--prefix=valkey-{release}/");
        let archive = git_output(
            &source.dir,
            &["archive", "--format=tar.gz", &prefix, release],
        )?;
        let url = format!("{base_url}/valkey-io/valkey/archive/refs/tags/{release}.tar.gz");
        let digest = hex(&archive);
        readme.push_str(&format!(
            "hash valkey-{release}.tar.gz sha256 {digest} {url}\n"
        ));
        archives.push((release.to_owned(), url, digest));
    }
    let hashes = Repo::init(root, "valkey-io/valkey-hashes", "main")?;
    hashes.write("README", readme.as_bytes(), false)?;
    hashes.commit("Hashes of the published releases")?;
    Ok(archives)
}

/// Gives every line of the container repository's `versions.json` that is at a seeded release
/// that release's seeded URL and digest (the fixture has github.com's), and renders the line
/// again with the container task's renderer, as `update.sh <line>` would: so the seeded
/// repositories are consistent with one another (an audit finds no drift).
fn record_archives(
    container: &Repo,
    archives: &[(String, String, String)],
) -> Result<(), SeedError> {
    use valkey_bot_task_container::render::{RenderInputs, Variant, render_line};
    let invalid = |what: String| SeedError::Io {
        path: container.dir.join("versions.json"),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, what),
    };
    let read = |path: &str| {
        let file = container.dir.join(path);
        std::fs::read(&file).map_err(|source| SeedError::Io { path: file, source })
    };
    let mut versions = String::from_utf8_lossy(&read("versions.json")?).into_owned();
    let parsed: serde_json::Value =
        serde_json::from_str(&versions).map_err(|e| invalid(e.to_string()))?;
    let mut lines = Vec::new();
    for (line, entry) in parsed.as_object().into_iter().flatten() {
        let field = |name: &str| entry.get(name).and_then(|v| v.as_str()).unwrap_or_default();
        if let Some((_, url, digest)) = archives.iter().find(|(v, ..)| v == field("version")) {
            versions = versions
                .replace(&format!("\"{}\"", field("url")), &format!("\"{url}\""))
                .replace(
                    &format!("\"{}\"", field("sha256")),
                    &format!("\"{digest}\""),
                );
            lines.push(line.clone());
        }
    }
    container.write("versions.json", versions.as_bytes(), false)?;
    let text = |path: &str| -> Result<String, SeedError> {
        Ok(String::from_utf8_lossy(&read(path)?).into_owned())
    };
    let (debian, pkg, sbom) = (
        text("Dockerfile.template")?,
        text("Dockerfile-pkg.template")?,
        text("valkey-sbom.jq")?,
    );
    let entrypoint = read("docker-entrypoint.sh")?;
    let inputs = RenderInputs {
        templates: [
            ("Dockerfile.template", debian.as_str()),
            ("Dockerfile-pkg.template", pkg.as_str()),
        ]
        .into(),
        valkey_sbom: &sbom,
        helper_functions: &String::from_utf8_lossy(HELPER_FUNCTIONS),
        entrypoint: (&entrypoint, true),
        versions_json: versions.as_bytes(),
    };
    for line in lines {
        let files = render_line(&inputs, &Variant::defaults(), &line)
            .map_err(|e| invalid(e.to_string()))?;
        for (path, (bytes, executable)) in files {
            container.write(&path, &bytes, executable)?;
        }
    }
    Ok(())
}

/// The digests the release build of `version` would send with its event (`digests`): the source
/// archive `valkey-<version>.tar.gz` as the sandbox serves it, and every seeded binary artifact.
pub fn build_digests(
    root: &Path,
    version: &Version,
) -> Result<std::collections::BTreeMap<String, String>, SeedError> {
    let source = root.join("valkey-io/valkey");
    let prefix = format!("--prefix=valkey-{version}/");
    let archive = git_output(
        &source,
        &["archive", "--format=tar.gz", &prefix, version.as_str()],
    )?;
    let mut digests =
        std::collections::BTreeMap::from([(format!("valkey-{version}.tar.gz"), hex(&archive))]);
    let dir = root.join("_downloads").join("releases");
    for (distro, arch) in PLATFORMS {
        let name = format!("valkey-{version}-{distro}-{arch}.tar.gz");
        let path = dir.join(&name);
        let bytes = std::fs::read(&path).map_err(|source| SeedError::Io { path, source })?;
        digests.insert(name, hex(&bytes));
    }
    Ok(digests)
}

/// Binary artifacts of `version` and their `sha256sum`-format checksum files, under `_downloads/releases/`.
pub fn seed_artifacts(root: &Path, version: &Version) -> Result<(), SeedError> {
    let dir = root.join("_downloads").join("releases");
    create_dir(&dir)?;
    for (distro, arch) in PLATFORMS {
        let name = format!("valkey-{version}-{distro}-{arch}.tar.gz");
        let body =
            format!("rehearsal build of Valkey {version} for {distro} on {arch}\n").repeat(64);
        let checksum = format!("{}  {name}\n", hex(body.as_bytes()));
        for (file, bytes) in [
            (name.clone(), body.into_bytes()),
            (format!("{name}.sha256"), checksum.into_bytes()),
        ] {
            let path = dir.join(file);
            std::fs::write(&path, bytes).map_err(|source| SeedError::Io { path, source })?;
        }
    }
    Ok(())
}
