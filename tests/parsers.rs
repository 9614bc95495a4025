//! Property tests of the parsers that read untrusted bytes: whatever they are given, they return
//! a value or an error, never panic, hang or allocate without bound. A bounded number of cases
//! runs in CI (PROPTEST_CASES overrides it).

use proptest::prelude::*;
use terrapix::bundle::spec::{expand_names, parse_band, parse_input};
use terrapix::bundle::{Bundle, Manifest};
use terrapix::predict::job::JobFile;
use terrapix::raster::BindOptions;

const VALID_MANIFEST: &str = r#"{"schema": 1, "name": "m", "version": "1", "target": {"name": "soc", "unit": "%"},
 "inputs": [{"name": "x", "layout": {"kind": "window", "size": 3}, "channels": [{"covariate": "a"}, {"covariate": "@x"}]}],
 "outputs": [{"name": "mean", "graph_output": "y", "kind": {"kind": "mean"}}]}"#;

/// Strings close to valid input: a valid text with a span replaced by arbitrary characters.
fn mutated(valid: &'static str) -> impl Strategy<Value = String> {
    (0..valid.len(), 0..12usize, "\\PC{0,12}").prop_map(move |(at, len, insert)| {
        let at = (0..=at).rev().find(|&i| valid.is_char_boundary(i)).unwrap_or(0);
        let end = (at + len..=valid.len()).find(|&i| valid.is_char_boundary(i)).unwrap_or(valid.len());
        format!("{}{insert}{}", &valid[..at], &valid[end..])
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn manifest_json_never_panics(text in prop_oneof![mutated(VALID_MANIFEST), "\\PC{0,200}"]) {
        if let Ok(m) = Manifest::from_json(&text) {
            // What is accepted is consistent and bounded.
            prop_assert!(m.check().is_ok());
            prop_assert!(m.inputs.iter().all(|i| i.layout.halo() <= 512));
        }
    }

    #[test]
    fn input_specs_never_panic(spec in prop_oneof![
        "[a-z]{1,4}:(pixel|window[0-9]{1,6}|patch[0-9]{1,5}|series[0-9]{1,4}x[0-9]{1,4}):[a-z]{1,3}(\\[[0-9]{1,12}-[0-9]{1,12}\\])?(,@x)?",
        "\\PC{0,60}",
    ]) {
        if let Ok(input) = parse_input(&spec) {
            prop_assert!(input.channels.len() <= terrapix::bundle::spec::MAX_NAMES);
        }
        let _ = expand_names(&spec);
        let _ = parse_band(&spec);
    }

    #[test]
    fn job_files_never_panic(text in prop_oneof![
        mutated(r#"{"terrapix_prediction": 1, "model": "m.onnx", "covariates": ["a.tif"], "bind": ["a=1"], "extent": [0, 0, 1, 1]}"#),
        "\\PC{0,120}",
    ]) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.tpx");
        std::fs::write(&path, &text).unwrap();
        if let Ok(job) = JobFile::read(&path) {
            prop_assert!(!job.covariates.is_empty());
            if let Some([x0, y0, x1, y1]) = job.bind.extent {
                prop_assert!(x0 < x1 && y0 < y1);
            }
        }
    }

    #[test]
    fn options_json_and_bindings_never_panic(
        text in prop_oneof![mutated(r#"{"bind": ["elevation=covariates.tif:2"], "by_order": false, "extent": [1, 2, 3, 4], "cog": true}"#), "\\PC{0,80}"],
        binding in "[a-z]{0,6}(=([a-z.]{0,6}:)?-?[0-9a-z]{0,4})?",
    ) {
        let known = [terrapix::util::field_names::<BindOptions>()];
        if let Ok(v) = terrapix::util::json_object(&text, &known) {
            if let Ok(b) = serde_json::from_value::<BindOptions>(v) {
                let _ = b.validate(&["elevation".to_string()]);
            }
        }
        let b = BindOptions { bindings: vec![binding], ..Default::default() };
        let _ = b.validate(&["elevation".to_string(), "slope".to_string()]);
    }

    #[test]
    fn onnx_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.onnx");
        std::fs::write(&path, &bytes).unwrap();
        let _ = terrapix::bundle::looks_like_onnx(&bytes);
        let _ = Bundle::read(&path);
    }
}

#[test]
fn field_names_lists_the_options() {
    assert_eq!(terrapix::util::field_names::<BindOptions>(), &["bind", "by_order", "reference", "resampling", "extent"]);
}
