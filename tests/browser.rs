//! The report in a real browser: renders the report of a recorded full run (tests/fixtures/full-run)
//! in headless Chromium at 1366x768 and checks what a reader sees: the three answers on the first
//! screen, every chart drawn with a non-zero size, nothing loaded from anywhere. Screenshots land in
//! `target/tmp/` for people to look at.
//!
//! Run alone with `cargo test --test browser`. Without Chromium the test says so and passes, unless
//! `STACKHEAP_REQUIRE_BROWSER=1` (as `.ci/run` sets), where a missing browser fails it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_stackheap-report");
const WINDOW: (u32, u32) = (1366, 768);

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("STACKHEAP_CHROMIUM") {
        return Some(path.into());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser", "google-chrome"].map(|n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Runs headless Chromium on `page` with `args`, killed after 120 s; returns its stdout. The output
/// goes to a file: a dumped page is larger than a pipe holds, and polling a full pipe would deadlock.
fn run_chromium(browser: &Path, profile: &Path, args: &[String], page: &Path) -> String {
    let stdout_path = profile.with_extension("stdout");
    let stdout = std::fs::File::create(&stdout_path).expect("chromium's output file");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={},{}", WINDOW.0, WINDOW.1))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("wait for chromium").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::read_to_string(&stdout_path).unwrap_or_default()
}

/// Measures the page where it is drawn. The report itself has no script: the probe is a copy with
/// one appended, whose findings Chromium prints with the DOM (`--dump-dom`).
const PROBE: &str = r#"<script>
(function () {
  const box = (el) => { const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, width: r.width, height: r.height}; };
  const answers = document.getElementById('answers');
  const result = {
    answers: answers ? box(answers) : null,
    cards: Array.from(document.querySelectorAll('#answers .answer')).map((c) => ({
      card: box(c), text: box(c.querySelector('p')), question: c.querySelector('h3').textContent })),
    charts: Array.from(document.querySelectorAll('figure svg')).map((s) => ({
      title: (s.querySelector('text') || {}).textContent || '', box: box(s) })),
    claims: document.querySelectorAll('#claims tr').length - 1,
    resources: performance.getEntriesByType('resource').map((e) => e.name),
    images: Array.from(document.images).filter((i) => !i.complete || i.naturalWidth === 0).length,
  };
  const out = document.createElement('pre');
  out.id = 'probe';
  const mark = '@@' + 'probe@@';  // built here, so the script's own text never carries the marker
  out.textContent = mark + JSON.stringify(result) + mark;
  document.body.appendChild(out);
})();
</script>"#;

#[test]
fn the_report_shows_the_answers_on_the_first_screen_and_draws_every_chart() {
    let Some(browser) = chromium() else {
        if std::env::var_os("STACKHEAP_REQUIRE_BROWSER").is_some() {
            panic!(
                "chromium not found: STACKHEAP_REQUIRE_BROWSER is set; install Debian's chromium"
            );
        }
        eprintln!(
            "skipped: chromium not found (install Debian's chromium, or set STACKHEAP_CHROMIUM)"
        );
        return;
    };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/full-run");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-report");
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new(BIN)
        .arg("--criterion-dir")
        .arg(fixtures.join("criterion"))
        .arg("--results-dir")
        .arg(fixtures.join("stackheap"))
        .args(["report", "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .status()
        .expect("run stackheap-report");
    assert!(status.success(), "the report was not written");
    let page = out.join("index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    let charts_in_page = html.matches("<svg").count();
    assert!(charts_in_page >= 12, "{charts_in_page} charts");

    let profile = out.join("chromium-profile");
    let probe_page = out.join("probe.html");
    std::fs::write(
        &probe_page,
        html.replace("</body>", &format!("{PROBE}</body>")),
    )
    .unwrap();
    let dom = run_chromium(&browser, &profile, &["--dump-dom".into()], &probe_page);
    let json = dom
        .split("@@probe@@")
        .nth(1)
        .unwrap_or_else(|| panic!("the probe did not run; chromium printed: {dom:.500}"));
    let probe: serde_json::Value = serde_json::from_str(json).expect("probe JSON");

    let answers = &probe["answers"];
    assert!(
        answers["height"].as_f64() > Some(0.0),
        "no answers section: {probe}"
    );
    let cards = probe["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 3, "three answers: {probe}");
    for card in cards {
        let question = &card["question"];
        assert!(
            card["text"]["height"].as_f64() > Some(0.0),
            "{question} has no text"
        );
        // The question and its answer text are on the first screen.
        assert!(
            card["text"]["bottom"].as_f64() <= Some(WINDOW.1 as f64),
            "{question} ends at {} px, below the first screen",
            card["text"]["bottom"]
        );
    }
    let charts = probe["charts"].as_array().unwrap();
    assert_eq!(charts.len(), charts_in_page, "every chart is in a figure");
    let titles: Vec<&str> = charts.iter().filter_map(|c| c["title"].as_str()).collect();
    for wanted in [
        "Heap cost relative to the stack, by size",
        "Fill and read N bytes",
        "local_churn: allocator operations per second by threads",
        "producer_consumer: allocator operations per second by threads",
        "thread_churn: allocator operations per second by threads",
        "Recursion depth until overflow by stack size",
        "Peak resident memory per workload",
        "local_churn: latency of one operation",
        "producer_consumer: latency of one operation",
        "thread_churn: latency of one operation",
    ] {
        assert!(
            titles.iter().any(|t| t.contains(wanted)),
            "no chart '{wanted}' among {titles:?}"
        );
    }
    for chart in charts {
        let (w, h) = (
            chart["box"]["width"].as_f64(),
            chart["box"]["height"].as_f64(),
        );
        assert!(
            w > Some(100.0) && h > Some(100.0),
            "chart '{}' is {w:?} x {h:?}",
            chart["title"]
        );
    }
    assert_eq!(probe["claims"], 8, "one row per claim");
    assert_eq!(
        probe["resources"],
        serde_json::json!([]),
        "self-contained: nothing loaded"
    );
    assert_eq!(probe["images"], 0, "no broken image");

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"));
    for (name, height) in [
        ("report-first-screen.png", WINDOW.1),
        ("report-page.png", 4000),
    ] {
        let shot = shots.join(name);
        let _ = std::fs::remove_file(&shot);
        run_chromium(
            &browser,
            &profile,
            &[
                format!("--screenshot={}", shot.display()),
                format!("--window-size={},{height}", WINDOW.0),
            ],
            &page,
        );
        let bytes = std::fs::read(&shot).unwrap_or_default();
        assert!(
            bytes.starts_with(b"\x89PNG"),
            "no screenshot at {}",
            shot.display()
        );
        eprintln!("screenshot: {}", shot.display());
    }
}
