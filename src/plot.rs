//! PNG figures with plotters: the font, and the scatter plot that the trainer's and the
//! validation's figures share.

use std::path::Path;

use plotters::prelude::*;

const FONT_FILES: [&str; 2] = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf"];

/// Registers DejaVu Sans (Debian's fonts-dejavu-core) as plotters' sans-serif, once.
pub fn fonts() -> Result<(), String> {
    static DONE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        let bytes = FONT_FILES.iter().find_map(|f| std::fs::read(f).ok()).ok_or("no DejaVu Sans font (apt install fonts-dejavu-core)")?;
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).map_err(|_| "DejaVu Sans is not a usable font".to_string())
    })
    .clone()
}

pub fn range(v: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let lo = v.clone().fold(f64::INFINITY, f64::min);
    let hi = v.fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.05).max(1e-9);
    (lo - pad, hi + pad)
}

pub fn err(e: impl std::fmt::Display) -> String {
    format!("figure: {e}")
}

/// A scatter plot with a reference line (the 1:1 line, the zero line).
pub struct Scatter<'a> {
    pub caption: String,
    pub size: (u32, u32),
    pub x: (f64, f64),
    pub y: (f64, f64),
    pub x_desc: String,
    pub y_desc: String,
    pub line: [(f64, f64); 2],
    pub points: &'a [(f64, f64)],
    pub colour: RGBColor,
}

pub fn scatter(path: &Path, s: Scatter) -> Result<(), String> {
    let root = BitMapBackend::new(path, s.size).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(s.caption, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(s.x.0..s.x.1, s.y.0..s.y.1)
        .map_err(err)?;
    chart.configure_mesh().x_desc(s.x_desc).y_desc(s.y_desc).draw().map_err(err)?;
    chart.draw_series(LineSeries::new(s.line, BLACK.mix(0.6))).map_err(err)?;
    chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, s.colour.mix(0.5).filled()))).map_err(err)?;
    root.present().map_err(err)
}
