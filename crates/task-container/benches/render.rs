//! Rendering speed: every line of the fixture repository (`tests/fixtures/repo/versions.json`)
//! regenerated with `render::render_line` — every variant (debian and alpine from
//! `Dockerfile.template`, pkg from `Dockerfile-pkg.template`, no pkg for `unstable`), templates
//! converted and each Dockerfile rendered — as one `apply-templates.sh` run over the whole
//! repository does. The target is well under 50 ms for the lot.
//!
//! Run: `cargo bench -p valkey-bot-task-container --bench render [-- RUNS]` (default 20 runs;
//! prints the best and the median).

use std::error::Error;
use std::path::Path;
use std::time::{Duration, Instant};

use valkey_bot_task_container::render::{RenderInputs, Variant, render_line};

type Res<T> = Result<T, Box<dyn Error>>;

fn main() -> Res<()> {
    let runs: usize = match std::env::args().skip(1).find(|a| !a.starts_with('-')) {
        Some(arg) => arg.parse()?,
        None => 20,
    };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let read = |path: &str| std::fs::read_to_string(fixtures.join(path));
    let template = read("repo/Dockerfile.template")?;
    let pkg_template = read("repo/Dockerfile-pkg.template")?;
    let sbom = read("repo/valkey-sbom.jq")?;
    let helper = read("bashbrew/template-helper-functions.jq")?;
    let versions = read("repo/versions.json")?;
    let lines: Vec<String> =
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&versions)?
            .keys()
            .cloned()
            .collect();
    let inputs = RenderInputs {
        templates: [
            ("Dockerfile.template", template.as_str()),
            ("Dockerfile-pkg.template", pkg_template.as_str()),
        ]
        .into_iter()
        .collect(),
        valkey_sbom: &sbom,
        helper_functions: &helper,
        entrypoint: (b"#!/bin/sh\nexec \"$@\"\n", true),
        versions_json: versions.as_bytes(),
    };

    let variants = Variant::defaults();
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut dockerfiles = 0;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        dockerfiles = 0;
        for line in &lines {
            let files = render_line(&inputs, &variants, line)?;
            dockerfiles += files.keys().filter(|p| p.ends_with("/Dockerfile")).count();
            std::hint::black_box(files);
        }
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "{} lines, {dockerfiles} Dockerfiles per run, {} runs: best {:.2} ms, median {:.2} ms (target: well under 50 ms)",
        lines.len(),
        times.len(),
        times[0].as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3
    );
    Ok(())
}
