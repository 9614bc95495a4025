//! Bundles and ensembles: `terrapix bundle`, `terrapix ensemble`, `terrapix info`, checked with
//! the real ONNX Runtime and the `onnx` package's checker.

mod common;

use common::*;
use terrapix::bundle::{Bundle, Layout};

#[test]
fn ensemble_computes_member_mean_and_std_in_one_graph() {
    let dir = tempdir();
    let (covs, land) = landscape(dir.path(), 100);
    let m = manifest(vec![input("x", Layout::window(3), &["elevation", "tpi", "ndvi_2022"])], 1);
    let members: Vec<_> = [0.0f32, 1.0, 5.0]
        .iter()
        .enumerate()
        .map(|(i, bias)| {
            let p = dir.path().join(format!("member{i}.onnx"));
            let w = write_linear_bundle(&p, &m, *bias);
            (p, expected_linear(&m, &w, *bias, &land).remove(0))
        })
        .collect();
    let ens = dir.path().join("ens.onnx");
    let mut args = vec!["ensemble".to_string()];
    args.extend(members.iter().map(|(p, _)| p.to_str().unwrap().to_string()));
    args.extend(["-o".into(), ens.to_str().unwrap().into()]);
    let out = terrapix_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.contains("ensemble of 3 members"), "{out}");

    let info = terrapix_ok(&["info", ens.to_str().unwrap()]);
    assert!(info.contains("output mean float32[N, 1]") && info.contains("output std float32[N, 1]"), "{info}");
    assert!(info.contains("manifest and graph agree"), "{info}");

    let map = dir.path().join("ens.tif");
    predict_ok(&ens, &[&covs], &map, &[]);
    let n = members[0].1.len();
    let mean: Vec<f32> = (0..n).map(|i| members.iter().map(|(_, e)| e[i]).sum::<f32>() / 3.0).collect();
    let std: Vec<f32> = (0..n).map(|i| (members.iter().map(|(_, e)| (e[i] - mean[i]).powi(2)).sum::<f32>() / 3.0).sqrt()).collect();
    assert_map_eq(&map, 1, &mean, -9999.0, 1e-5);
    assert_map_eq(&map, 2, &std, -9999.0, 1e-4);

    // The onnx package's checker accepts the graph written from Rust.
    assert_onnx_checker(&ens, "ensemble");
}

#[test]
fn ensemble_refuses_members_with_different_inputs() {
    let dir = tempdir();
    let a = dir.path().join("a.onnx");
    let b = dir.path().join("b.onnx");
    write_linear_bundle(&a, &manifest(vec![input("x", Layout::Pixel, &["elevation"])], 1), 0.0);
    write_linear_bundle(&b, &manifest(vec![input("x", Layout::Pixel, &["slope"])], 1), 0.0);
    let err = terrapix_err(&["ensemble", a.to_str().unwrap(), b.to_str().unwrap(), "-o", dir.path().join("e.onnx").to_str().unwrap()]);
    assert!(err.contains("member 1's manifest describes different inputs"), "{err}");
}

#[test]
fn bundle_wraps_a_plain_onnx_model_from_flags() {
    let dir = tempdir();
    let m = manifest(
        vec![
            input("x_cnn", Layout::window(5), &["a", "b"]),
            input("x_lstm", Layout::Series { steps: 3, features: 2 }, &["c", "d", "e", "f", "g", "h"]),
        ],
        1,
    );
    let w = weights(2 * 25 + 6, 1);
    let plain = Bundle { model: linear_model(&m, &w, 0.0, None), manifest: None };
    let p = dir.path().join("plain.onnx");
    std::fs::write(&p, plain.to_bytes()).unwrap();
    let out = dir.path().join("wrapped.onnx");
    terrapix_ok(&[
        "bundle",
        p.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--target",
        "agb",
        "--unit",
        "Mg/ha",
        "--log1p",
        "--input",
        "x_cnn:window5:a,b",
        "--input",
        "x_lstm:series3x2:c,d,e,f,g,h",
        "--band",
        "mean=y:0",
        "--fill-gaps",
        "1",
    ]);
    let b = Bundle::read(&out).unwrap();
    let man = b.manifest.unwrap();
    assert_eq!(man.target.name, "agb");
    assert_eq!(man.inputs[1].layout, Layout::Series { steps: 3, features: 2 });
    assert_eq!(man.nodata.fill_gaps.unwrap().radius, 1);
    let info = terrapix_ok(&["info", out.to_str().unwrap()]);
    assert!(info.contains("x_cnn: 5x5 window of [a, b]") && info.contains("log1p"), "{info}");
    let json = terrapix_ok(&["info", "--json", out.to_str().unwrap()]);
    assert!(json.contains("\"schema\": 1"), "{json}");
}

#[test]
fn fixed_batch_graphs_are_padded() {
    let dir = tempdir();
    let (covs, land) = landscape(dir.path(), 50);
    let m = manifest(vec![input("x", Layout::Pixel, &["elevation", "slope"])], 1);
    let w = weights(2, 1);
    let mut b = Bundle { model: linear_model(&m, &w, 0.0, Some(64)), manifest: None };
    b.set_manifest(m.clone()).unwrap();
    let model = dir.path().join("fixed.onnx");
    b.write(&model).unwrap();
    let map = dir.path().join("fixed.tif");
    predict_ok(&model, &[&covs], &map, &[]);
    assert_map_eq(&map, 1, &expected_linear(&m, &w, 0.0, &land)[0], -9999.0, 1e-5);
}

#[test]
fn bundled_default_model_maps_the_sample_landscape() {
    let dir = tempdir();
    let land = terrapix::landscape::generate(256, 11);
    let w = land.write(dir.path(), 10, 11).unwrap();
    let map = dir.path().join("soc.tif");
    let model = repo().join("models/soc-demo.onnx");
    let out = predict_ok(&model, &[&w.covariates], &map, &[]);
    assert!(out.contains("bands: mean, std"), "{out}");
    let (mean, _, _) = read_band(&map, 1);
    let (std, _, _) = read_band(&map, 2);
    let (mut se, mut ss, mut n) = (0f64, 0f64, 0usize);
    let truth: Vec<f32> = land.soc.clone();
    let valid: Vec<usize> = (0..truth.len()).filter(|&i| truth[i].is_finite() && mean[i] != -9999.0).collect();
    let avg = valid.iter().map(|&i| truth[i] as f64).sum::<f64>() / valid.len() as f64;
    for &i in &valid {
        se += (mean[i] as f64 - truth[i] as f64).powi(2);
        ss += (truth[i] as f64 - avg).powi(2);
        n += 1;
        assert!(std[i] >= 0.0 && std[i] < 1.0, "ensemble spread {}", std[i]);
    }
    let (rmse, r2) = ((se / n as f64).sqrt(), 1.0 - se / ss);
    assert!(n > 60000 && rmse < 0.2 && r2 > 0.85, "n {n}, RMSE {rmse:.3}, R² {r2:.3}");
    // The lakes are nodata.
    let lake = truth.iter().position(|v| v.is_nan()).unwrap();
    assert_eq!(mean[lake], -9999.0);
}
