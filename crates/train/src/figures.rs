//! PNG figures of a cross-validation a person can open: observed against predicted, residuals,
//! learning curves, permutation importance and the calibration of the prediction intervals.

use crate::error::TrainError;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::data::TrainingData;
use super::CvResult;
use terrapix::plot::{err, fonts, range, scatter, Scatter};

/// Writes the figures into the folder `dir`, whole (see [`terrapix::output::StagedFolder`]); returns their paths.
pub fn write(
    dir: &Path,
    result: &CvResult,
    data: &TrainingData,
    importance: &[(String, f64)],
    unit: &str,
) -> Result<Vec<PathBuf>, TrainError> {
    fonts()?;
    let folder = terrapix::output::StagedFolder::new(dir, "training figures").map_err(err)?;
    let (target, dir) = (dir, folder.path());
    let label = if unit.is_empty() { data.target.clone() } else { format!("{} ({unit})", data.target) };
    let o = &result.overall;
    let pairs: Vec<(f64, f64)> = data.y.iter().zip(&result.oof).map(|(a, b)| (*a as f64, *b as f64)).collect();
    let mut written = Vec::new();

    let path = dir.join("observed_vs_predicted.png");
    let (lo, hi) = range(pairs.iter().flat_map(|(a, b)| [*a, *b]));
    scatter(
        &path,
        Scatter {
            caption: format!("Out-of-fold predictions: RMSE {:.3}, R² {:.3}, CCC {:.3}", o["rmse"], o["r2"], o["ccc"]),
            size: (800, 700),
            x: (lo, hi),
            y: (lo, hi),
            x_desc: format!("observed {label}"),
            y_desc: format!("predicted {label}"),
            line: [(lo, lo), (hi, hi)],
            points: &pairs,
            colour: BLUE,
        },
    )?;
    written.push(path);

    let path = dir.join("residuals.png");
    let res: Vec<(f64, f64)> = pairs.iter().map(|(a, b)| (*b, b - a)).collect();
    let (xl, xh) = range(res.iter().map(|r| r.0));
    scatter(
        &path,
        Scatter {
            caption: format!("Residuals (bias {:+.3})", o["bias"]),
            size: (800, 600),
            x: (xl, xh),
            y: range(res.iter().map(|r| r.1).chain([0.0])),
            x_desc: format!("predicted {label}"),
            y_desc: "predicted - observed".into(),
            line: [(xl, 0.0), (xh, 0.0)],
            points: &res,
            colour: RED,
        },
    )?;
    written.push(path);

    // Networks only: trees have no epochs.
    let curves: Vec<(&[f64], &[f64], usize)> = result.members.iter().filter_map(|m| m.curves()).collect();
    let path = dir.join("learning_curves.png");
    if !curves.is_empty() {
        let root = BitMapBackend::new(&path, (900, 600)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let epochs = curves.iter().map(|c| c.0.len()).max().unwrap_or(1) as f64;
        let losses = curves.iter().flat_map(|c| c.0.iter().chain(c.1)).map(|v| v.max(1e-12).ln());
        let (yl, yh) = range(losses);
        let mut chart = ChartBuilder::on(&root)
            .caption("Learning curves: training (solid) and validation (light) loss per fold", ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..epochs, yl..yh)
            .map_err(err)?;
        chart.configure_mesh().x_desc("epoch").y_desc("ln(loss)").draw().map_err(err)?;
        for (k, &(train_loss, val_loss, best)) in curves.iter().enumerate() {
            let colour = Palette99::pick(k);
            let line = |v: &[f64]| v.iter().enumerate().map(|(e, l)| (e as f64, l.max(1e-12).ln())).collect::<Vec<_>>();
            chart.draw_series(LineSeries::new(line(train_loss), colour.stroke_width(2))).map_err(err)?.label(format!("fold {k}"));
            chart.draw_series(LineSeries::new(line(val_loss), colour.mix(0.4))).map_err(err)?;
            chart.draw_series([Circle::new((best as f64, val_loss[best].max(1e-12).ln()), 5, colour.filled())]).map_err(err)?;
        }
        chart.configure_series_labels().border_style(BLACK).background_style(WHITE.mix(0.8)).draw().map_err(err)?;
        root.present().map_err(err)?;
        written.push(path.clone());
    }

    let path = dir.join("importance.png");
    {
        let top: Vec<&(String, f64)> = importance.iter().take(15).collect();
        let root = BitMapBackend::new(&path, (900, 120 + 32 * top.len() as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let hi = top.iter().map(|t| t.1).fold(0.0, f64::max).max(1e-9) * 1.1;
        let lo = top.iter().map(|t| t.1).fold(0.0, f64::min);
        let n = top.len();
        let mut chart = ChartBuilder::on(&root)
            .caption("Permutation importance (RMSE increase)", ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(170)
            .build_cartesian_2d(lo..hi, (0..n).into_segmented())
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) if *i < n => top[n - 1 - *i].0.clone(),
                _ => String::new(),
            })
            .y_labels(n)
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                top.iter().rev().enumerate().map(|(i, t)| {
                    Rectangle::new([(0.0, SegmentValue::Exact(i)), (t.1, SegmentValue::Exact(i + 1))], GREEN.mix(0.7).filled())
                }),
            )
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    written.push(path);

    let path = dir.join("calibration.png");
    {
        let curve = &result.calibration.curve;
        let root = BitMapBackend::new(&path, (700, 700)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Prediction intervals: nominal against out-of-fold coverage", ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..100f64, 0f64..100f64)
            .map_err(err)?;
        chart.configure_mesh().x_desc("nominal coverage (%)").y_desc("empirical coverage, out of fold (%)").draw().map_err(err)?;
        // The band the issue holds 90 % intervals to, and the 1:1 line of perfect calibration.
        chart.draw_series([Rectangle::new([(85.0, 85.0), (95.0, 95.0)], GREEN.mix(0.15).filled())]).map_err(err)?;
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (100.0, 100.0)], BLACK.mix(0.5)))
            .map_err(err)?
            .label("perfect calibration")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.5)));
        let pts: Vec<(f64, f64)> = curve.iter().map(|(n, e)| (100.0 * n, 100.0 * e)).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), BLUE.stroke_width(2)))
            .map_err(err)?
            .label(format!("{} (CRPS {:.3})", result.calibration.uncertainty.method.words(), o["crps"]))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, BLUE.filled()))).map_err(err)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    written.push(path);
    folder.commit().map_err(err)?;
    Ok(written.iter().map(|p| target.join(p.file_name().expect("a file"))).collect())
}
