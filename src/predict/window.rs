//! Prediction of arbitrary output windows on demand, for hosts that ask for a map piece by
//! piece (the GDAL driver serving blocks): the covariates are bound once, each request reads its
//! window with the halo the model needs and predicts it through [`Predictor`].

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::{Block, BlockOutput, PredictError, Predictor};
use crate::engine::Model;
use crate::raster::{BindOptions, Covariates, Grid, Window, WindowReader};

pub struct WindowPredictor {
    model: Arc<Model>,
    covs: Covariates,
    /// The output grid (the covariate grid coarsened by the model's cell).
    grid: Grid,
    /// Idle readers. A GDAL dataset serves one thread at a time, so each concurrent request
    /// takes a reader of its own (opening one when none is idle) and gives it back.
    readers: Mutex<Vec<WindowReader>>,
}

impl WindowPredictor {
    pub fn new(model: Arc<Model>, rasters: &[PathBuf], bind: &BindOptions) -> Result<WindowPredictor, PredictError> {
        let covs = Covariates::bind(rasters, &model.manifest.covariates(), bind)?;
        let grid = covs.grid.coarsened(model.manifest.cell());
        let readers = Mutex::new(vec![covs.reader()?]);
        Ok(WindowPredictor { model, covs, grid, readers })
    }

    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Predicts the output window of `width` x `height` cells at (`x`, `y`). A large window is
    /// cut into row bands predicted in parallel, so one big request still uses every session.
    pub fn predict(&self, x: usize, y: usize, width: usize, height: usize) -> Result<BlockOutput, PredictError> {
        let cell = self.model.manifest.cell();
        let input_pixels = width * height * cell * cell;
        let parts = (input_pixels / (128 * 128)).clamp(1, self.model.parallelism()).min(height);
        if parts == 1 {
            return self.predict_part(x, y, width, height);
        }
        let rows = height.div_ceil(parts);
        let bands: Vec<BlockOutput> = (0..height)
            .step_by(rows)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|r| self.predict_part(x, y + r, width, rows.min(height - r)))
            .collect::<Result<_, _>>()?;
        // Row bands stacked back into one window, plane by plane.
        let n_out = bands[0].bands.len();
        let mut out = BlockOutput {
            width,
            height,
            bands: vec![Vec::with_capacity(width * height); n_out],
            valid: 0,
            nonfinite: 0,
            infer_seconds: 0.0,
        };
        for part in bands {
            out.valid += part.valid;
            out.nonfinite += part.nonfinite;
            out.infer_seconds += part.infer_seconds;
            for (dst, src) in out.bands.iter_mut().zip(part.bands) {
                dst.extend(src);
            }
        }
        Ok(out)
    }

    fn predict_part(&self, x: usize, y: usize, width: usize, height: usize) -> Result<BlockOutput, PredictError> {
        let predictor = Predictor::new(&self.model, 0);
        let (cell, halo) = (predictor.cell(), predictor.halo());
        let window = Window { x: (x * cell) as isize, y: (y * cell) as isize, width: width * cell, height: height * cell, halo };
        let mut data = Vec::new();
        crate::raster::prefer_direct_reads();
        let idle = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let reader = match idle {
            Some(r) => r,
            None => self.covs.reader()?,
        };
        let read = reader.read(window, self.model.manifest.nodata.edge, &mut data);
        self.readers.lock().unwrap_or_else(|p| p.into_inner()).push(reader);
        read?;
        let mut block =
            Block { data, width: window.width, height: window.height, halo, geo: Some((self.covs.grid.geotransform, x * cell, y * cell)) };
        predictor.predict(&mut block, &|| false)
    }
}
