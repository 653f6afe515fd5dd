//! Charts and report.html: every chart file of a run exists, is a valid PNG or SVG of the
//! expected size and is not blank; SVGs carry their axis labels; `strait plot` redraws the
//! same charts from the CSV and JSON files alone; report.html refers to nothing outside it.

use std::path::Path;

use crate::common::{scenarios_dir, stderr, strait, temp_dir};

const CHARTS: [&str; 6] = [
    "ttft_cdf",
    "e2e_cdf",
    "slo_attainment",
    "utilization",
    "mean_batch",
    "arrivals",
];

fn quickstart_run(out: &Path) {
    let output = strait(&[
        "run",
        scenarios_dir().join("quickstart.toml").to_str().unwrap(),
        "--set",
        "run.duration=10m",
        "--set",
        "run.warmup=1m",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
}

/// The PNG decodes to 1000 × 600 and its pixels vary (not one flat colour).
fn check_png(path: &Path) {
    let image = image::open(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .to_rgb8();
    assert_eq!(image.dimensions(), (1000, 600), "{}", path.display());
    let pixels: Vec<f64> = image
        .pixels()
        .map(|p| (p.0[0] as f64 + p.0[1] as f64 + p.0[2] as f64) / 3.0)
        .collect();
    let mean = pixels.iter().sum::<f64>() / pixels.len() as f64;
    let variance = pixels.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / pixels.len() as f64;
    let distinct: std::collections::BTreeSet<u32> = image
        .pixels()
        .map(|p| u32::from_be_bytes([0, p.0[0], p.0[1], p.0[2]]))
        .collect();
    println!(
        "{}: mean {mean:.1}, variance {variance:.1}, {} colours",
        path.display(),
        distinct.len()
    );
    assert!(variance > 100.0, "{} looks blank", path.display());
    assert!(
        distinct.len() > 10,
        "{} has too few colours",
        path.display()
    );
}

#[test]
fn a_run_draws_every_chart_and_a_self_contained_report() {
    let out = temp_dir("charts");
    quickstart_run(&out);
    for chart in CHARTS {
        check_png(&out.join("charts").join(format!("{chart}.png")));
        let svg = std::fs::read_to_string(out.join("charts").join(format!("{chart}.svg"))).unwrap();
        assert!(
            svg.contains("<svg") && svg.contains("width=\"1000\""),
            "{chart}"
        );
        assert!(
            svg.contains("quickstart"),
            "{chart}: the title names the scenario"
        );
    }
    let svg = |name: &str| std::fs::read_to_string(out.join("charts").join(name)).unwrap();
    assert!(svg("ttft_cdf.svg").contains("TTFT (ms, log scale)"));
    assert!(svg("ttft_cdf.svg").contains("fraction of requests"));
    assert!(svg("utilization.svg").contains("simulated time (h)"));
    assert!(svg("slo_attainment.svg").contains("SLO attainment (%)"));
    assert!(svg("arrivals.svg").contains("cn-large"));
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(report.matches("<svg").count(), CHARTS.len());
    for forbidden in ["http://", "https://", "src=", "<link", "<script"] {
        let outside = report.replace("http://www.w3.org/2000/svg", "");
        assert!(
            !outside.contains(forbidden),
            "report.html refers outside itself: {forbidden}"
        );
    }
}

#[test]
fn plot_redraws_the_charts_from_the_files_alone() {
    let out = temp_dir("plot");
    quickstart_run(&out);
    let before = std::fs::read_to_string(out.join("charts").join("ttft_cdf.svg")).unwrap();
    std::fs::remove_dir_all(out.join("charts")).unwrap();
    std::fs::remove_file(out.join("report.html")).unwrap();
    let output = strait(&["plot", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let after = std::fs::read_to_string(out.join("charts").join("ttft_cdf.svg")).unwrap();
    assert_eq!(before, after);
    for chart in CHARTS {
        check_png(&out.join("charts").join(format!("{chart}.png")));
    }
    assert!(out.join("report.html").exists());
    // Not an output directory: a clear error, exit 2.
    let empty = temp_dir("not-a-run");
    let output = strait(&["plot", empty.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("summary.json"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn no_charts_skips_them() {
    let out = temp_dir("no-charts");
    let output = strait(&[
        "run",
        scenarios_dir().join("quickstart.toml").to_str().unwrap(),
        "--set",
        "run.duration=2m",
        "--set",
        "run.warmup=0s",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--no-charts",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!out.join("charts").exists());
    assert!(!out.join("report.html").exists());
}

/// report.html as a person would see it: headless Chromium takes a screenshot, which must
/// exist and not be blank. Needs the Debian package `chromium`; `.ci/run` installs it and
/// runs this test (`cargo test --release -- --ignored report_renders_in_chromium`).
#[test]
#[ignore = "needs chromium; .ci/run installs it and runs this"]
fn report_renders_in_chromium() {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|path| Path::new(path).exists())
        .expect("chromium is installed (apt-get install chromium)");
    let out = temp_dir("chromium");
    quickstart_run(&out);
    let profile = temp_dir("chromium-profile");
    let screenshot = out.join("report.png");
    let output = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            "--window-size=1200,2400",
            &format!("--screenshot={}", screenshot.display()),
            &format!("file://{}", out.join("report.html").display()),
        ])
        .output()
        .expect("run chromium");
    println!(
        "chromium: {}",
        String::from_utf8_lossy(&output.stderr)
            .lines()
            .last()
            .unwrap_or("")
    );
    assert!(screenshot.exists(), "no screenshot was written");
    let image = image::open(&screenshot).expect("a PNG").to_rgb8();
    let distinct: std::collections::BTreeSet<[u8; 3]> = image.pixels().map(|p| p.0).collect();
    println!(
        "screenshot {:?}, {} colours",
        image.dimensions(),
        distinct.len()
    );
    assert!(distinct.len() > 50, "the screenshot looks blank");
}
