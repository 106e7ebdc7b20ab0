//! The website task's pure decisions, on fixtures in the format of valkey-io/valkey-io.github.io.

use url::Url;
use valkey_bot_core::outputs::VerifiedArtifact;
use valkey_bot_core::{Sha256Digest, Version};
use valkey_bot_release_artifacts::{Artifact, BaseUrl, DEFAULT_BASE_URL, Platform};
use valkey_bot_task_website::{
    BinaryLink, ImageTags, LinkError, Placeholder, ReleaseDate, ReleasePage, RenderError, TagError,
    Template, TemplateError, WebsiteError, missing_links, page_links, page_path, select_tags,
};

const TEMPLATE: &[u8] = include_bytes!("fixtures/valkey-website-template.md");
const BRACES_TEMPLATE: &[u8] = include_bytes!("fixtures/template-with-braces.md");

/// The page for 9.1.1, released 2026-07-21, byte for byte (no trailing newline).
const PAGE_9_1_1: &str = r#"---
title: "9.1.1"
date: 2026-07-21
extra:
    tag: "9.1.1"
    artifact_source: https://download.valkey.io/releases/
    artifact_fname: "valkey"
    container_registry:
        -
            name: "Docker Hub"
            link: https://hub.docker.com/r/valkey/valkey/
            id: "valkey/valkey"
            tags:
                - "9.1.1"
                - "9.1.1-trixie"
                - "9.1.1-alpine"
                - "9.1.1-alpine3.24"
    packages:

    artifacts:
        -   distro: jammy
            arch:
                -   arm64
                -   x86_64
        -   distro: noble
            arch:
                -   arm64
                -   x86_64
---

Downloads and container images of Valkey 9.1.1, as published on release day."#;

/// The page for 9.1.0-rc2, released 2026-04-28, byte for byte (no trailing newline).
const PAGE_9_1_0_RC2: &str = r#"---
title: "9.1.0-rc2"
date: 2026-04-28
extra:
    tag: "9.1.0-rc2"
    artifact_source: https://download.valkey.io/releases/
    artifact_fname: "valkey"
    container_registry:
        -
            name: "Docker Hub"
            link: https://hub.docker.com/r/valkey/valkey/
            id: "valkey/valkey"
            tags:
                - "9.1"
                - "9.1-trixie"
                - "9.1-alpine"
                - "9.1-alpine3.23"
    packages:

    artifacts:
        -   distro: jammy
            arch:
                -   arm64
                -   x86_64
        -   distro: noble
            arch:
                -   arm64
                -   x86_64
---

Downloads and container images of Valkey 9.1.0-rc2, as published on release day."#;

fn version(text: &str) -> Version {
    Version::parse(text).expect("valid version")
}

fn date(text: &str) -> ReleaseDate {
    ReleaseDate::parse(text).expect("valid date")
}

fn template() -> Template {
    Template::parse(TEMPLATE).expect("the fixture template is valid")
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The tags the container task publishes for 9.1.1 (minor line 9.1 aliased `9 latest`).
fn tags_9_1_1() -> ImageTags {
    ImageTags {
        debian: strings(&[
            "9.1.1",
            "9.1",
            "9",
            "latest",
            "9.1.1-trixie",
            "9.1-trixie",
            "9-trixie",
            "trixie",
        ]),
        alpine: strings(&[
            "9.1.1-alpine",
            "9.1-alpine",
            "9-alpine",
            "alpine",
            "9.1.1-alpine3.24",
            "9.1-alpine3.24",
            "9-alpine3.24",
            "alpine3.24",
        ]),
        pkg: Vec::new(),
    }
}

/// The tags the container task publishes for 9.1.0-rc2 (a new minor line, no aliases yet).
fn tags_9_1_0_rc2() -> ImageTags {
    ImageTags {
        debian: strings(&["9.1.0-rc2", "9.1", "9.1.0-rc2-trixie", "9.1-trixie"]),
        alpine: strings(&[
            "9.1.0-rc2-alpine",
            "9.1-alpine",
            "9.1.0-rc2-alpine3.23",
            "9.1-alpine3.23",
        ]),
        pkg: Vec::new(),
    }
}

fn url(text: &str) -> Url {
    Url::parse(text).expect("valid URL")
}

fn link(distro: &str, arch: &str, release: &str) -> BinaryLink {
    let tarball =
        format!("https://download.valkey.io/releases/valkey-{release}-{distro}-{arch}.tar.gz");
    BinaryLink {
        platform: Platform::new(distro, arch).expect("valid platform"),
        checksum: url(&format!("{tarball}.sha256")),
        tarball: url(&tarball),
    }
}

fn published_links(release: &str) -> Vec<BinaryLink> {
    vec![
        link("jammy", "arm64", release),
        link("jammy", "x86_64", release),
        link("noble", "arm64", release),
        link("noble", "x86_64", release),
    ]
}

// ---- page path ----

#[test]
fn page_path_replaces_every_dot_with_a_dash() {
    assert_eq!(
        page_path(&version("9.1.1")),
        "content/download/releases/v9-1-1.md"
    );
    assert_eq!(
        page_path(&version("9.1.0-rc2")),
        "content/download/releases/v9-1-0-rc2.md"
    );
    assert_eq!(
        page_path(&version("10.12.3")),
        "content/download/releases/v10-12-3.md"
    );
}

// ---- rendering ----

#[test]
fn renders_a_final_release_page_byte_for_byte() {
    let page = template()
        .render(
            &version("9.1.1"),
            date("2026-07-21"),
            &strings(&["9.1.1", "9.1.1-trixie", "9.1.1-alpine", "9.1.1-alpine3.24"]),
        )
        .expect("renders");
    assert_eq!(page, PAGE_9_1_1);
    assert!(
        !page.ends_with('\n'),
        "the template has no trailing newline"
    );
}

#[test]
fn renders_a_release_candidate_page_byte_for_byte() {
    let page = template()
        .render(
            &version("9.1.0-rc2"),
            date("2026-04-28"),
            &strings(&["9.1", "9.1-trixie", "9.1-alpine", "9.1-alpine3.23"]),
        )
        .expect("renders");
    assert_eq!(page, PAGE_9_1_0_RC2);
}

#[test]
fn builds_the_whole_page_from_the_container_tags() {
    let page = ReleasePage::build(
        &template(),
        &version("9.1.1"),
        date("2026-07-21"),
        &tags_9_1_1(),
    )
    .expect("builds");
    assert_eq!(page.path, "content/download/releases/v9-1-1.md");
    assert_eq!(page.content, PAGE_9_1_1);
    assert_eq!(
        page.tags,
        ["9.1.1", "9.1.1-trixie", "9.1.1-alpine", "9.1.1-alpine3.24"]
    );
    assert_eq!(page.links, published_links("9.1.1"));

    let rc = ReleasePage::build(
        &template(),
        &version("9.1.0-rc2"),
        date("2026-04-28"),
        &tags_9_1_0_rc2(),
    )
    .expect("builds");
    assert_eq!(rc.path, "content/download/releases/v9-1-0-rc2.md");
    assert_eq!(rc.content, PAGE_9_1_0_RC2);
    assert_eq!(rc.links, published_links("9.1.0-rc2"));
}

#[test]
fn keeps_every_other_byte_including_a_trailing_newline_and_crlf() {
    let template = Template::parse(b"a {version}\r\n{tags}\r\n{date} \xc3\xa9\n\n").expect("valid");
    let page = template
        .render(
            &version("8.0.1"),
            date("2025-01-02"),
            &strings(&["8.0.1", "8.0.1-alpine"]),
        )
        .expect("renders");
    assert_eq!(
        page,
        "a 8.0.1\r\n                - \"8.0.1\"\n                - \"8.0.1-alpine\"\r\n2025-01-02 \u{e9}\n\n"
    );
}

#[test]
fn leaves_tera_syntax_and_flow_mappings_alone() {
    let template = Template::parse(BRACES_TEMPLATE).expect("braces that are not placeholders");
    let page = template
        .render(&version("9.0.5"), date("2026-01-15"), &strings(&["9.0.5"]))
        .expect("renders");
    let expected = String::from_utf8(BRACES_TEMPLATE.to_vec())
        .expect("utf-8 fixture")
        .replacen("title: \"{version}\"", "title: \"9.0.5\"", 1)
        .replacen("tag: \"{version}\"", "tag: \"9.0.5\"", 1)
        .replacen("Valkey {version},", "Valkey 9.0.5,", 1)
        .replacen("date: {date}", "date: 2026-01-15", 1)
        .replacen("{tags}", "                - \"9.0.5\"", 1);
    assert_eq!(page, expected);
    assert!(page.contains("{{ page.date }}"));
    assert!(page.contains("{% if page.extra.tag %}Tag: {{page.extra.tag}}{% endif %}"));
    assert!(page.contains("{# a Tera comment #}"));
    assert!(page.contains("Literal braces: {}, { version }, {{version}}, {1st}."));
    assert!(page.contains(r#"labels: {channel: stable, note: "{not a placeholder}"}"#));
}

#[test]
fn refuses_a_template_missing_a_placeholder() {
    let with_all = String::from_utf8(TEMPLATE.to_vec()).expect("utf-8 fixture");
    for (placeholder, without) in [
        (Placeholder::Version, with_all.replace("{version}", "9.1.1")),
        (Placeholder::Date, with_all.replace("{date}", "2026-07-21")),
        (
            Placeholder::Tags,
            with_all.replace("{tags}", "                - \"latest\""),
        ),
    ] {
        let error = Template::parse(without.as_bytes()).expect_err("incomplete template");
        assert_eq!(error, TemplateError::MissingPlaceholder { placeholder });
    }
    let error = Template::parse(with_all.replace("{date}", "2026-07-21").as_bytes())
        .expect_err("incomplete template");
    assert_eq!(error.to_string(), "template lacks the {date} placeholder");
}

#[test]
fn refuses_an_unknown_placeholder_naming_it_and_its_line() {
    let with_all = String::from_utf8(TEMPLATE.to_vec()).expect("utf-8 fixture");
    let unknown = with_all.replace(
        "    packages:\n",
        "    packages:\n    released: {release_date}\n",
    );
    let error = Template::parse(unknown.as_bytes()).expect_err("unknown placeholder");
    assert_eq!(
        error,
        TemplateError::UnknownPlaceholder {
            name: "release_date".to_owned(),
            line: 16,
            column: 15,
        }
    );
    assert_eq!(
        error.to_string(),
        "template line 16, column 15: unknown placeholder {release_date} (known: {version}, {date}, {tags})"
    );
    // A misspelt known name is unknown too, wherever it is.
    let typo = with_all.replace("images of Valkey {version},", "images of Valkey {Version},");
    assert!(matches!(
        Template::parse(typo.as_bytes()),
        Err(TemplateError::UnknownPlaceholder { name, line: 28, column: 42 }) if name == "Version"
    ));
}

#[test]
fn refuses_tags_sharing_a_line_and_non_utf8_templates() {
    let shared = b"{version} {date}\n            tags: {tags}\n";
    assert_eq!(
        Template::parse(shared),
        Err(TemplateError::TagsNotAlone { line: 2 })
    );
    let indented = b"{version} {date}\n    {tags}\n";
    assert_eq!(
        Template::parse(indented),
        Err(TemplateError::TagsNotAlone { line: 2 })
    );
    let latin1 = b"{version}\n{date}\n{tags}\ncaf\xe9";
    assert_eq!(
        Template::parse(latin1),
        Err(TemplateError::NotUtf8 { line: 4 })
    );
}

#[test]
fn refuses_to_render_no_tags_or_a_tag_that_is_not_a_docker_tag() {
    let template = template();
    let render =
        |tags: &[&str]| template.render(&version("9.1.1"), date("2026-07-21"), &strings(tags));
    assert_eq!(render(&[]), Err(RenderError::NoTags));
    for bad in [
        "9.1.1\"",
        "9.1.1\n- evil",
        "",
        ".hidden",
        "-x",
        "9.1.1 trixie",
        "tag:1",
    ] {
        assert_eq!(
            render(&["9.1.1", bad]),
            Err(RenderError::InvalidTag(bad.to_owned())),
            "{bad:?}"
        );
    }
    assert!(render(&["9.1.1", &"a".repeat(129)]).is_err());
    assert!(render(&["9.1.1", &"a".repeat(128)]).is_ok());
}

// ---- tag selection ----

#[test]
fn a_final_release_lists_the_tags_that_carry_its_full_version() {
    assert_eq!(
        select_tags(&version("9.1.1"), &tags_9_1_1()),
        Ok(strings(&[
            "9.1.1",
            "9.1.1-trixie",
            "9.1.1-alpine",
            "9.1.1-alpine3.24"
        ]))
    );
}

#[test]
fn a_release_candidate_lists_its_minor_line_tags_without_rc() {
    assert_eq!(
        select_tags(&version("9.1.0-rc2"), &tags_9_1_0_rc2()),
        Ok(strings(&[
            "9.1",
            "9.1-trixie",
            "9.1-alpine",
            "9.1-alpine3.23"
        ]))
    );
}

#[test]
fn tag_selection_matches_whole_version_parts_debian_first_without_duplicates() {
    // Alpine tags given before debian ones in each list position still come after them;
    // a tag of 9.1.10 or 19.1.1 is not a tag of 9.1.1; duplicates are kept once.
    let tags = ImageTags {
        debian: strings(&["9.1.10", "19.1.1", "9.1.1-bookworm", "9.1.1", "9.1.1"]),
        alpine: strings(&["9.1.1-alpine", "9.1.10-alpine", "9.1.1-alpine", "9.1.1x"]),
        pkg: Vec::new(),
    };
    assert_eq!(
        select_tags(&version("9.1.1"), &tags),
        Ok(strings(&["9.1.1-bookworm", "9.1.1", "9.1.1-alpine"]))
    );

    // For a candidate: 9.10 is another minor line, 9.1.0-rc2 tags carry -rc, 9 and latest
    // are not of the minor line.
    let tags = ImageTags {
        debian: strings(&["9.10", "9.1.0-rc2", "9", "latest", "9.1", "9.1-rc-test"]),
        alpine: strings(&["9.1-alpine", "9.10-alpine"]),
        pkg: Vec::new(),
    };
    assert_eq!(
        select_tags(&version("9.1.0-rc2"), &tags),
        Ok(strings(&["9.1", "9.1-alpine"]))
    );
}

#[test]
fn pkg_tags_come_after_the_alpine_tags() {
    // The order the container repository's generator publishes: debian, alpine, pkg.
    let mut tags = tags_9_1_1();
    tags.pkg = strings(&["9.1.1-pkg", "9.1-pkg", "9-pkg", "pkg"]);
    assert_eq!(
        select_tags(&version("9.1.1"), &tags),
        Ok(strings(&[
            "9.1.1",
            "9.1.1-trixie",
            "9.1.1-alpine",
            "9.1.1-alpine3.24",
            "9.1.1-pkg"
        ]))
    );
    let mut tags = tags_9_1_0_rc2();
    tags.pkg = strings(&["9.1.0-rc2-pkg", "9.1-pkg"]);
    assert_eq!(
        select_tags(&version("9.1.0-rc2"), &tags),
        Ok(strings(&[
            "9.1",
            "9.1-trixie",
            "9.1-alpine",
            "9.1-alpine3.23",
            "9.1-pkg"
        ]))
    );
}

#[test]
fn tag_selection_refuses_unstable_and_an_empty_selection() {
    assert_eq!(
        select_tags(&version("unstable"), &tags_9_1_1()),
        Err(TagError::Unstable)
    );
    let error = select_tags(&version("9.1.2"), &tags_9_1_1()).expect_err("no tag of 9.1.2");
    assert_eq!(
        error.to_string(),
        "no container tag matches version 9.1.2 (looked for 9.1.2 or 9.1.2-*)"
    );
    let error = select_tags(&version("9.2.0-rc1"), &tags_9_1_0_rc2()).expect_err("no 9.2 tags");
    assert_eq!(
        error.to_string(),
        "no container tag matches version 9.2.0-rc1 (looked for 9.2 or 9.2-*, without -rc)"
    );
    let built = ReleasePage::build(
        &template(),
        &version("unstable"),
        date("2026-07-21"),
        &tags_9_1_1(),
    );
    assert_eq!(built, Err(WebsiteError::Tags(TagError::Unstable)));
}

// ---- links ----

#[test]
fn extracts_the_binary_links_the_page_shows() {
    assert_eq!(page_links(PAGE_9_1_1), Ok(published_links("9.1.1")));
    assert_eq!(
        page_links(PAGE_9_1_1).expect("links")[3].checksum.as_str(),
        "https://download.valkey.io/releases/valkey-9.1.1-noble-x86_64.tar.gz.sha256"
    );
}

#[test]
fn extracts_links_whatever_the_yaml_style() {
    let page = Template::parse(BRACES_TEMPLATE)
        .expect("valid")
        .render(&version("9.0.5"), date("2026-01-15"), &strings(&["9.0.5"]))
        .expect("renders");
    assert_eq!(
        page_links(&page),
        Ok(vec![
            link("noble", "x86_64", "9.0.5"),
            link("jammy", "arm64", "9.0.5"),
            link("jammy", "x86_64", "9.0.5"),
        ])
    );
}

#[test]
fn a_page_without_artifacts_shows_no_links() {
    let page = "---\nextra:\n    tag: \"9.1.1\"\n    artifact_source: https://download.valkey.io/releases/\n    artifact_fname: valkey\n---\n";
    assert_eq!(page_links(page), Ok(Vec::new()));
}

#[test]
fn refuses_pages_whose_links_cannot_be_read() {
    let shape = |key: &str, problem| LinkError::Shape {
        key: key.to_owned(),
        problem,
    };
    let cases: Vec<(String, LinkError)> = vec![
        ("no front matter".to_owned(), LinkError::NoFrontMatter),
        (
            "+++\ntitle = \"9.1.1\"\n+++\n".to_owned(),
            LinkError::NoFrontMatter,
        ),
        ("---\nextra: {}\n".to_owned(), LinkError::NoFrontMatter),
        (
            PAGE_9_1_1.replace("    artifact_source: https://download.valkey.io/releases/\n", ""),
            shape("extra.artifact_source", "is missing"),
        ),
        (
            PAGE_9_1_1.replace("artifact_fname: \"valkey\"", "artifact_fname: [valkey]"),
            shape("extra.artifact_fname", "is not a string"),
        ),
        (
            PAGE_9_1_1.replace("        -   distro: noble\n", "        -   distro: [noble]\n"),
            shape("extra.artifacts[1].distro", "is not a string"),
        ),
        (
            PAGE_9_1_1.replacen(
                "            arch:\n                -   arm64\n                -   x86_64\n",
                "            arch: arm64\n",
                1,
            ),
            shape("extra.artifacts[0].arch", "is not a list"),
        ),
        (
            PAGE_9_1_1.replace("    artifacts:\n", "    artifacts: jammy\n").replace(
                "        -   distro: jammy\n            arch:\n                -   arm64\n                -   x86_64\n        -   distro: noble\n            arch:\n                -   arm64\n                -   x86_64\n",
                "",
            ),
            shape("extra.artifacts", "is not a list"),
        ),
        (
            "---\nextra: valkey\n---\n".to_owned(),
            shape("extra", "is not a mapping"),
        ),
        (
            "---\n- extra\n---\n".to_owned(),
            shape("(front matter)", "is not a mapping"),
        ),
        (
            PAGE_9_1_1.replace("tag: \"9.1.1\"", "tag: \"../9.1.1\""),
            LinkError::FileNamePart {
                key: "tag",
                value: "../9.1.1".to_owned(),
            },
        ),
        (
            PAGE_9_1_1.replace("artifact_fname: \"valkey\"", "artifact_fname: \"valkey?x\""),
            LinkError::FileNamePart {
                key: "artifact_fname",
                value: "valkey?x".to_owned(),
            },
        ),
    ];
    for (page, expected) in cases {
        assert_eq!(page_links(&page), Err(expected), "page:\n{page}");
    }

    let no_slash = PAGE_9_1_1.replace(
        "https://download.valkey.io/releases/\n",
        "https://download.valkey.io/releases\n",
    );
    assert!(matches!(page_links(&no_slash), Err(LinkError::Source(_))));
    let bad_arch = PAGE_9_1_1.replacen("-   x86_64", "-   x86-64", 1);
    assert!(matches!(page_links(&bad_arch), Err(LinkError::Platform(_))));
    let bad_yaml = PAGE_9_1_1.replace("    packages:\n", "  packages: [\n");
    assert!(matches!(page_links(&bad_yaml), Err(LinkError::Yaml(_))));
    assert_eq!(
        page_links(&PAGE_9_1_1.replace(
            "    artifact_source: https://download.valkey.io/releases/\n",
            ""
        ))
        .expect_err("missing key")
        .to_string(),
        "page front matter: `extra.artifact_source` is missing"
    );
}

// ---- links against verified artifacts ----

fn verified(release: &str, platforms: &[(&str, &str)]) -> Vec<VerifiedArtifact> {
    let base = BaseUrl::parse(DEFAULT_BASE_URL).expect("valid base");
    platforms
        .iter()
        .map(|(distro, arch)| {
            let platform = Platform::new(distro, arch).expect("valid platform");
            let artifact = Artifact::new(&base, &version(release), &platform);
            VerifiedArtifact {
                name: artifact.name,
                url: artifact.url.to_string(),
                sha256: Sha256Digest::from_bytes([7; 32]),
            }
        })
        .collect()
}

#[test]
fn every_link_is_backed_when_every_artifact_is_verified() {
    let all = verified(
        "9.1.1",
        &[
            ("jammy", "arm64"),
            ("jammy", "x86_64"),
            ("noble", "arm64"),
            ("noble", "x86_64"),
        ],
    );
    assert_eq!(
        missing_links(&published_links("9.1.1"), &all),
        Vec::<Url>::new()
    );
}

#[test]
fn reports_each_link_without_a_verified_artifact() {
    let three = verified(
        "9.1.1",
        &[("jammy", "arm64"), ("jammy", "x86_64"), ("noble", "x86_64")],
    );
    assert_eq!(
        missing_links(&published_links("9.1.1"), &three),
        [
            url("https://download.valkey.io/releases/valkey-9.1.1-noble-arm64.tar.gz"),
            url("https://download.valkey.io/releases/valkey-9.1.1-noble-arm64.tar.gz.sha256"),
        ]
    );
    // Artifacts of another version back none of the links.
    let other = verified("9.1.0", &[("jammy", "arm64")]);
    let missing = missing_links(&published_links("9.1.1")[..1], &other);
    assert_eq!(
        missing,
        [
            url("https://download.valkey.io/releases/valkey-9.1.1-jammy-arm64.tar.gz"),
            url("https://download.valkey.io/releases/valkey-9.1.1-jammy-arm64.tar.gz.sha256"),
        ]
    );
}

// ---- inputs from elsewhere ----

#[test]
fn container_tags_deserialize_from_the_container_tasks_json() {
    let tags: ImageTags = serde_json::from_str(
        r#"{"debian": ["9.1.1", "9.1.1-trixie"], "alpine": ["9.1.1-alpine", "9.1.1-alpine3.24"]}"#,
    )
    .expect("deserializes");
    assert_eq!(
        select_tags(&version("9.1.1"), &tags),
        Ok(strings(&[
            "9.1.1",
            "9.1.1-trixie",
            "9.1.1-alpine",
            "9.1.1-alpine3.24"
        ]))
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsing_any_template_never_panics(text in "[{}a-z_ \n\r%#é]{0,80}") {
            let _ = Template::parse(text.as_bytes());
        }

        #[test]
        fn reading_links_of_any_page_never_panics(text in "(---\n)?[-{}\\[\\]:a-z_ \n\"'/.]{0,120}(\n---\n)?") {
            let _ = page_links(&text);
        }

        #[test]
        fn rendering_copies_every_byte_that_is_not_a_placeholder(
            pieces in proptest::collection::vec("[a-z :{}%#\n\"-]{0,12}", 4),
        ) {
            // Text without `{name}` patterns around the three placeholders comes out unchanged.
            let clean: Vec<String> = pieces
                .iter()
                .map(|p| p.replace('{', "{ ").replace('}', " }"))
                .collect();
            let text = format!(
                "{}{{version}}{}{{date}}{}\n{{tags}}\n{}",
                clean[0], clean[1], clean[2], clean[3]
            );
            let template = Template::parse(text.as_bytes()).expect("valid template");
            let page = template
                .render(&version("9.1.1"), date("2026-07-21"), &strings(&["9.1.1", "9.1.1-alpine"]))
                .expect("renders");
            let expected = format!(
                "{}9.1.1{}2026-07-21{}\n                - \"9.1.1\"\n                - \"9.1.1-alpine\"\n{}",
                clean[0], clean[1], clean[2], clean[3]
            );
            prop_assert_eq!(page, expected);
        }
    }
}
