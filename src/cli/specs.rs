//! Command-line-only value parsers.

/// `XMIN,YMIN,XMAX,YMAX` (commas or spaces).
pub fn parse_extent(s: &str) -> Result<[f64; 4], String> {
    let v: Vec<f64> = s
        .split([',', ' '])
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<f64>().map_err(|_| format!("'{t}' is not a number")))
        .collect::<Result<_, _>>()?;
    match v[..] {
        [x0, y0, x1, y1] => terrapix::raster::check_extent([x0, y0, x1, y1]).map(|_| [x0, y0, x1, y1]).map_err(|e| e.to_string()),
        _ => Err(format!("the extent needs 4 numbers XMIN,YMIN,XMAX,YMAX, got {}", v.len())),
    }
}
