//! Spectral indices the seeds use, on scaled reflectances: one definition for the GDAL pixel
//! functions and any other door.

/// A spectral index: its name, the bands it reads (in order) and its formula.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Index {
    Ndvi,
    Evi,
    Evi2,
    /// Soil-adjusted, with soil brightness correction `l`.
    Savi {
        l: f32,
    },
    Gndvi,
    /// McFeeters' water index.
    Ndwi,
}

impl Index {
    /// The bands read, in the order the sources must come.
    pub fn bands(&self) -> &'static [&'static str] {
        match self {
            Index::Ndvi | Index::Evi2 | Index::Savi { .. } => &["red", "nir"],
            Index::Evi => &["blue", "red", "nir"],
            Index::Gndvi | Index::Ndwi => &["green", "nir"],
        }
    }

    /// The index of one pixel's band values (see [`Index::bands`]); not finite where undefined.
    pub fn compute(&self, p: &[f32]) -> f32 {
        let ratio = |a: f32, b: f32| (a - b) / (a + b);
        match *self {
            Index::Ndvi => ratio(p[1], p[0]),
            Index::Evi => 2.5 * (p[2] - p[1]) / (p[2] + 6.0 * p[1] - 7.5 * p[0] + 1.0),
            Index::Evi2 => 2.5 * (p[1] - p[0]) / (p[1] + 2.4 * p[0] + 1.0),
            Index::Savi { l } => (1.0 + l) * (p[1] - p[0]) / (p[1] + p[0] + l),
            Index::Gndvi => ratio(p[1], p[0]),
            Index::Ndwi => ratio(p[0], p[1]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert!((Index::Ndvi.compute(&[0.1, 0.5]) - 2.0 / 3.0).abs() < 1e-6);
        assert!((Index::Ndwi.compute(&[0.3, 0.1]) - 0.5).abs() < 1e-6);
        assert!(Index::Ndvi.compute(&[0.0, 0.0]).is_nan());
        assert_eq!(Index::Evi.bands(), &["blue", "red", "nir"]);
    }
}
