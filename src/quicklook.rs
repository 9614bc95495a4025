//! PNG quick-looks of map bands: a 2-98 % stretch through a perceptual colour ramp, nodata
//! transparent, at most `max_side` pixels on the longer side.

use std::path::Path;

#[derive(Clone, Copy, Debug)]
pub enum Ramp {
    /// viridis: for predicted values.
    Viridis,
    /// magma: for uncertainty.
    Magma,
}

impl Ramp {
    fn anchors(&self) -> &'static [[u8; 3]] {
        match self {
            Ramp::Viridis => &[[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]],
            Ramp::Magma => &[[0, 0, 4], [81, 18, 124], [183, 55, 121], [252, 137, 97], [252, 253, 191]],
        }
    }

    fn colour(&self, t: f32) -> [u8; 3] {
        let a = self.anchors();
        let pos = t.clamp(0.0, 1.0) * (a.len() - 1) as f32;
        let (i, f) = ((pos as usize).min(a.len() - 2), pos - (pos as usize).min(a.len() - 2) as f32);
        std::array::from_fn(|c| (a[i][c] as f32 * (1.0 - f) + a[i + 1][c] as f32 * f).round() as u8)
    }
}

/// The value range of the stretch actually used, for the caller to report.
pub struct Stretch {
    pub low: f32,
    pub high: f32,
}

/// Renders band `band` (1-based) of `raster` into the PNG `png`.
pub fn render(raster: &Path, band: usize, png: &Path, ramp: Ramp, max_side: usize) -> Result<Stretch, String> {
    if max_side < 16 {
        return Err(format!("the quick-look's longest side must be at least 16 pixels, got {max_side}"));
    }
    crate::output::refuse_inputs(png, false, &[("raster", raster)]).map_err(|e| e.to_string())?;
    crate::output::check_target(png, crate::output::Kind::Png).map_err(|e| e.to_string())?;
    let ds = crate::raster::open_raster(raster).map_err(|e| format!("cannot open '{}': {e}", raster.display()))?;
    if band == 0 || band > ds.raster_count() {
        return Err(format!("'{}' has bands 1 to {}; band {band} does not exist", raster.display(), ds.raster_count()));
    }
    let b = ds.rasterband(band).map_err(|e| format!("'{}' band {band}: {e}", raster.display()))?;
    let (w, h) = b.size();
    let scale = (w.max(h) as f64 / max_side as f64).max(1.0);
    let (ow, oh) = (((w as f64 / scale).round() as usize).max(1), ((h as f64 / scale).round() as usize).max(1));
    let mut values = vec![0f32; ow * oh];
    b.read_into_slice((0, 0), (w, h), (ow, oh), &mut values, None).map_err(|e| format!("reading '{}': {e}", raster.display()))?;
    let nodata = b.no_data_value().map(|v| v as f32);
    let valid = |v: f32| v.is_finite() && Some(v) != nodata;
    let mut sorted: Vec<f32> = values.iter().copied().filter(|v| valid(*v)).collect();
    if sorted.is_empty() {
        return Err(format!("'{}' band {band} holds no valid value to show", raster.display()));
    }
    sorted.sort_by(|a, b| a.total_cmp(b));
    let pick = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    let (low, high) = (pick(0.02), pick(0.98));
    let span = if high > low { high - low } else { 1.0 };
    let mut rgba = Vec::with_capacity(ow * oh * 4);
    for &v in &values {
        if valid(v) {
            rgba.extend(ramp.colour((v - low) / span));
            rgba.push(255);
        } else {
            rgba.extend([0, 0, 0, 0]);
        }
    }
    let mut encoded = Vec::new();
    let mut enc = png::Encoder::new(&mut encoded, ow as u32, oh as u32);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&rgba).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    // Staged: a failed write (a full disk) leaves the previous PNG as it was.
    crate::output::Staged::write_all(png, crate::output::Kind::Png, &encoded).map_err(|e| e.to_string())?;
    Ok(Stretch { low, high })
}
