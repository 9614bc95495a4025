//! Cubes through the trainer (seed 003's second and third steps): the residual bias learnt by
//! boosting and applied to every date, and gap filling validated by masking known values.

mod common;

use common::cube::*;
use std::path::PathBuf;

use gdal::Dataset;
use terrapix::cube::cdf::CdfOptions;
use terrapix::metrics::scores;

#[test]
fn bias_correction_of_the_residual_then_mapping_every_date() {
    use terrapix::cube::models::ModelSet;
    use terrapix::cube::predict::{predict_cube, CubeBindings, CubePredictOptions};
    use terrapix::engine::{EngineOptions, Model};
    use terrapix_train::bias::{self, BiasData, BiasOptions, Scheme};
    let dir = tempfile::tempdir().unwrap();
    let w = cube(dir.path());
    let matched_path = dir.path().join("matched.nc");
    matched(&w, &matched_path, &CdfOptions::default(), None);
    let covariates = vec![
        ("ndvi".to_string(), input(&w.ndvi)),
        ("precipitation".to_string(), input(&w.precipitation)),
        ("air_temperature".to_string(), input(&w.air_temperature)),
    ];
    let data = BiasData {
        reference: input(&w.reference),
        matched: input(&matched_path),
        covariates: covariates.clone(),
        statics: vec![w.statics.clone()],
    };
    let model =
        bias::train(&data, &BiasOptions { scheme: Scheme::Monthly, max_samples: 36_000, ..Default::default() }, &mut |_| true).unwrap();
    assert_eq!(model.bundles.len(), 12);
    // The bundles say which covariates change with time (statics and coordinates do not).
    let manifest = model.bundles[0].1.manifest.clone().unwrap();
    assert_eq!(manifest.time_varying, ["source", "ndvi", "precipitation", "air_temperature"]);
    let mut wrong = manifest.clone();
    wrong.time_varying.push("elevation".into());
    assert!(wrong.check().unwrap_err().to_string().contains("time_varying names 'elevation', which is not one of the model's covariates"));
    // Out of fold (spatial blocks), the residual model explains part of the remaining bias and
    // its 90 % intervals cover about 90 % of the reference.
    eprintln!("pooled {:?}", model.pooled);
    assert!(model.pooled["r2"] > 0.3, "{:?}", model.pooled);
    for (m, metrics) in &model.per_model {
        assert!((0.85..0.95).contains(&metrics["picp_90"]), "month {m}: {metrics:?}");
    }
    // Every date of the matched record, corrected: monthly bundles picked by the date's month.
    let bundles = dir.path().join("bias");
    std::fs::create_dir_all(&bundles).unwrap();
    let mut set = Vec::new();
    for (m, b) in &model.bundles {
        let p = bundles.join(format!("month_{m:02}.onnx"));
        b.write(&p).unwrap();
        set.push((*m, Model::open(&p, &EngineOptions::default()).unwrap()));
    }
    let set = ModelSet { models: set };
    let mut cubes = vec![(bias::SOURCE.to_string(), input(&matched_path))];
    cubes.extend(covariates);
    let bind = CubeBindings { cubes, statics: vec![w.statics.clone()] };
    let out = dir.path().join("corrected.nc");
    let options = CubePredictOptions { offset: Some(bias::SOURCE.into()), clip: Some((0.0, 1.0)), ..Default::default() };
    let r = predict_cube(&set, &bind, &out, &options, &mut |_, _| true).unwrap();
    assert_eq!((r.dates, r.first.as_str(), r.last.as_str()), (1461, "2015-01-01", "2018-12-31"));
    let mean = dir.path().join("mean.nc");
    let sub = |v: &str| PathBuf::from(format!("NETCDF:\"{}\":{v}", out.display()));
    let before = score(&matched_path, &w.truth);
    let after = score(&sub("mean"), &w.truth);
    eprintln!("matched {before:?}\ncorrected {after:?}");
    assert_eq!(after.n, before.n, "corrected where the source has a value, no more");
    assert!(after.rmse < 0.7 * before.rmse && after.ubrmse < before.ubrmse && after.r > before.r, "{before:?} -> {after:?}");
    // The intervals contain the mean, and cover the truth at least at their nominal level (the
    // reference they were calibrated on is the truth plus noise).
    let (lo, hi, m, truth) = (read_all(&sub("lower_90")).0, read_all(&sub("upper_90")).0, read_all(&sub("mean")).0, read_all(&w.truth).0);
    let inside: Vec<bool> = (0..m.len()).filter(|&i| m[i].is_finite()).map(|i| lo[i] <= truth[i] && truth[i] <= hi[i]).collect();
    let coverage = inside.iter().filter(|b| **b).count() as f64 / inside.len() as f64;
    assert!(coverage >= 0.88, "coverage of the truth {coverage}");
    assert!((0..m.len()).filter(|&i| m[i].is_finite()).all(|i| lo[i] <= m[i] + 1e-6 && m[i] <= hi[i] + 1e-6));
    // A static covariate given as a cube, and a time-varying one left without: refused, nothing written.
    let mut cubes = vec![(bias::SOURCE.to_string(), input(&matched_path)), ("dem".to_string(), input(&w.ndvi))];
    cubes.extend(
        [("ndvi", &w.ndvi), ("precipitation", &w.precipitation), ("air_temperature", &w.air_temperature)]
            .map(|(n, p)| (n.to_string(), input(p))),
    );
    let err = predict_cube(&set, &CubeBindings { cubes, statics: vec![w.statics.clone()] }, &mean, &options, &mut |_, _| true)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("'dem' is static in this model"), "{err}");
    // A covariate without a cube: named, nothing written.
    let bind = CubeBindings { cubes: vec![(bias::SOURCE.to_string(), input(&matched_path))], statics: vec![] };
    let err = predict_cube(&set, &bind, &mean, &options, &mut |_, _| true).err().unwrap().to_string();
    assert!(err.contains("'ndvi' changes with time in this model: bind it to a cube"), "{err}");
    assert!(!mean.exists());
}

#[cfg(feature = "train")]
#[test]
fn gap_filling_validated_by_masking_fills_every_gap_with_an_interval_and_a_flag() {
    use terrapix_train::gapfill::{fill, GapData, GapOptions};
    let dir = tempfile::tempdir().unwrap();
    let w = cube(dir.path());
    // Filling the CDF-matched source directly (the test of the whole chain is the README's).
    let matched_path = dir.path().join("matched.nc");
    matched(&w, &matched_path, &CdfOptions::default(), None);
    let data = GapData {
        target: input(&matched_path),
        covariates: vec![
            ("ndvi".to_string(), input(&w.ndvi)),
            ("precipitation".to_string(), input(&w.precipitation)),
            ("air_temperature".to_string(), input(&w.air_temperature)),
        ],
        statics: vec![w.statics.clone()],
        reference: Some(input(&w.reference)),
    };
    let (out, model) = (dir.path().join("filled.nc"), dir.path().join("gapfill.onnx"));
    let options = GapOptions { max_samples: 40_000, ..Default::default() };
    let r = fill(&data, &options, &out, &model, &mut |_| true).unwrap();
    eprintln!("{:#?}", r.validation);
    let v = &r.validation;
    // Masked known values: every pattern is filled well, and the held-out coverage is nominal.
    for s in [&v.days, &v.swaths, &v.runs] {
        assert!(s.n > 0 && s.r > 0.85 && s.rmse < 0.035, "{s:?}");
    }
    assert!((0.86..0.94).contains(&v.coverage), "masked coverage {}", v.coverage);
    assert!((0.86..0.94).contains(&v.reference_coverage.unwrap()), "{:?}", v.reference_coverage);
    assert!(r.filled > 0 && r.unfilled == 0);
    // The output: known values kept, every gap filled and flagged, bounds around filled values.
    let sub = |name: &str| PathBuf::from(format!("NETCDF:\"{}\":{name}", out.display()));
    let (known, _) = read_all(&matched_path);
    let (value, flag, lo, hi, truth) = (
        read_all(&sub("sm")).0,
        read_all(&sub("filled")).0,
        read_all(&sub("lower_90")).0,
        read_all(&sub("upper_90")).0,
        read_all(&w.truth).0,
    );
    let mut inside = (0usize, 0usize);
    for i in 0..known.len() {
        assert!(value[i].is_finite(), "a gap left at {i}");
        if known[i].is_finite() {
            assert_eq!((value[i], flag[i]), (known[i], 0.0));
            assert!(lo[i].is_nan() && hi[i].is_nan());
        } else {
            assert_eq!(flag[i], 1.0);
            assert!(lo[i] <= value[i] && value[i] <= hi[i]);
            inside.0 += (lo[i] <= truth[i] && truth[i] <= hi[i]) as usize;
            inside.1 += 1;
        }
    }
    // Against the truth, at least the nominal coverage (the reference the intervals were
    // calibrated on is the truth plus noise, so they are conservative).
    let coverage = inside.0 as f64 / inside.1 as f64;
    eprintln!("coverage of the truth at filled values: {coverage:.3}");
    assert!(coverage >= 0.9, "{coverage}");
    let filled_scores = scores(&value.iter().zip(&flag).map(|(v, f)| if *f == 1.0 { *v } else { f32::NAN }).collect::<Vec<_>>(), &truth);
    eprintln!("filled values against the truth: {filled_scores:?}");
    assert!(filled_scores.r > 0.8, "{filled_scores:?}");
    assert!(Dataset::open(&model).is_ok() || model.exists());
}
