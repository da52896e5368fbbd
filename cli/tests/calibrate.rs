//! `uadk calibrate`: every verdict names the engine `uadk info` reports as chosen, compares it
//! with a measured candidate, and the JSON holds together (not timed: the verdicts themselves
//! depend on the machine).

use std::process::Command;

fn uadk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_uadk"))
}

fn json_of(args: &[&str]) -> serde_json::Value {
    let out = uadk().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "uadk {args:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn calibrate_reports_the_chosen_engine_against_measured_candidates() {
    let cal = json_of(&[
        "calibrate",
        "--json",
        "--alg",
        "sha256",
        "--alg",
        "aes-128-gcm",
        "--secs",
        "0.02",
        "--zip-size",
        "262144",
        "--min-secs",
        "0",
    ]);
    let info = json_of(&["info", "--json"]);
    let choices = info["engines"]["choices"].as_array().unwrap();
    let rows = cal["rows"].as_array().unwrap();
    let crypto: Vec<_> = rows.iter().filter(|r| r["area"] == "crypto").collect();
    assert_eq!(crypto.len(), 2, "{rows:?}");
    for r in &crypto {
        let what = r["what"].as_str().unwrap();
        let chosen = choices
            .iter()
            .find(|c| c["area"] == "crypto" && c["what"] == what)
            .unwrap_or_else(|| panic!("uadk info lists no {what}"));
        assert_eq!(r["chosen"], chosen["engine"], "{what}");
    }
    // Levels 1 and 6, compress and decompress, one-shot and streaming.
    let zip: Vec<_> = rows.iter().filter(|r| r["area"] == "zip").collect();
    assert_eq!(zip.len(), 8, "{zip:?}");
    let mut wrong = 0;
    for r in rows {
        let ratio = r["ratio"].as_f64().unwrap();
        assert!(ratio > 0.0 && ratio <= 1.0, "{r}");
        assert!(r["chosen_mb_per_s"].as_f64().unwrap() > 0.0, "{r}");
        assert!(r["fastest_mb_per_s"].as_f64().unwrap() >= r["chosen_mb_per_s"].as_f64().unwrap());
        match r["verdict"].as_str().unwrap() {
            "ok" => assert_eq!(r["advice"], "", "{r}"),
            "wrong" => {
                wrong += 1;
                assert_ne!(r["fastest"], r["chosen"], "{r}");
                assert!(!r["advice"].as_str().unwrap().is_empty(), "{r}");
            }
            v => panic!("verdict {v}"),
        }
    }
    assert_eq!(cal["wrong"], wrong);
}

#[test]
fn calibrate_rejects_bad_settings() {
    for args in [
        &["calibrate", "--tolerance", "1.5"][..],
        &["calibrate", "--no-crypto", "--no-zip"][..],
        &["calibrate", "--alg", "no-such-alg", "--no-zip"][..],
    ] {
        let out = uadk().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains("uadk:") || err.contains("error"), "{err}");
    }
}
