//! Rendering speed: every line of the fixture repository (`tests/fixtures/repo/versions.json`)
//! for every variant (debian and alpine from `Dockerfile.template`, pkg from
//! `Dockerfile-pkg.template`, no pkg for `unstable`), converting both templates and rendering
//! each Dockerfile, as one `apply-templates.sh` run over the whole repository does. The target is
//! well under 50 ms for the lot.
//!
//! Run: `cargo bench -p valkey-bot-task-container --bench render [-- RUNS]` (default 20 runs;
//! prints the best and the median).

use std::error::Error;
use std::path::Path;
use std::time::{Duration, Instant};

use valkey_bot_jq_template::{Input, Modules, convert, render};

type Res<T> = Result<T, Box<dyn Error>>;

fn main() -> Res<()> {
    let runs: usize = match std::env::args().skip(1).find(|a| !a.starts_with('-')) {
        Some(arg) => arg.parse()?,
        None => 20,
    };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let read = |path: &str| std::fs::read_to_string(fixtures.join(path));
    let templates = [
        ("Dockerfile.template", read("repo/Dockerfile.template")?),
        (
            "Dockerfile-pkg.template",
            read("repo/Dockerfile-pkg.template")?,
        ),
    ];
    let versions = read("repo/versions.json")?;
    let lines: Vec<String> =
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&versions)?
            .keys()
            .cloned()
            .collect();
    let mut modules = Modules::new();
    modules.insert(
        ".template-helper-functions",
        ".template-helper-functions.jq",
        read("bashbrew/template-helper-functions.jq")?,
    );
    modules.insert(
        "valkey-sbom",
        "valkey-sbom.jq",
        read("repo/valkey-sbom.jq")?,
    );

    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut rendered = 0;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let input = Input::parse("versions.json", versions.as_bytes())?;
        let programs = templates
            .iter()
            .map(|(name, text)| convert(name, text))
            .collect::<Result<Vec<_>, _>>()?;
        rendered = 0;
        for line in &lines {
            for variant in ["debian", "alpine", "pkg"] {
                if variant == "pkg" && line == "unstable" {
                    continue;
                }
                let program = &programs[usize::from(variant == "pkg")];
                let text = render(
                    program,
                    &modules,
                    &input,
                    &[("version", line), ("variant", variant)],
                )?;
                std::hint::black_box(text);
                rendered += 1;
            }
        }
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "{} lines, {rendered} Dockerfiles per run, {} runs: best {:.2} ms, median {:.2} ms (target: well under 50 ms)",
        lines.len(),
        times.len(),
        times[0].as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3
    );
    Ok(())
}
