//! Prediction of arbitrary output windows on demand, for hosts that ask for a map piece by
//! piece (the GDAL driver serving blocks): the covariates are bound once, each request reads its
//! window with the halo the model needs and predicts it through [`Predictor`].

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::{Block, BlockOutput, PredictError, Predictor};
use crate::engine::Model;
use crate::raster::{BindOptions, Covariates, Grid, Window, WindowReader};

pub struct WindowPredictor {
    model: Arc<Model>,
    covs: Covariates,
    /// The output grid (the covariate grid coarsened by the model's cell).
    grid: Grid,
    /// GDAL datasets are not shared between threads: concurrent requests take turns to read,
    /// then predict in parallel on the model's session pool.
    reader: Mutex<WindowReader>,
}

impl WindowPredictor {
    pub fn new(model: Arc<Model>, rasters: &[PathBuf], bind: &BindOptions) -> Result<WindowPredictor, PredictError> {
        let covs = Covariates::bind(rasters, &model.manifest.covariates(), bind)?;
        let grid = covs.grid.coarsened(model.manifest.cell());
        let reader = Mutex::new(covs.reader()?);
        Ok(WindowPredictor { model, covs, grid, reader })
    }

    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Predicts the output window of `width` x `height` cells at (`x`, `y`).
    pub fn predict(&self, x: usize, y: usize, width: usize, height: usize) -> Result<BlockOutput, PredictError> {
        let predictor = Predictor::new(&self.model, 0);
        let (cell, halo) = (predictor.cell(), predictor.halo());
        let window = Window { x: (x * cell) as isize, y: (y * cell) as isize, width: width * cell, height: height * cell, halo };
        let mut data = Vec::new();
        {
            let reader = self.reader.lock().unwrap_or_else(|p| p.into_inner());
            reader.read(window, self.model.manifest.nodata.edge, &mut data)?;
        }
        let mut block =
            Block { data, width: window.width, height: window.height, halo, geo: Some((self.covs.grid.geotransform, x * cell, y * cell)) };
        predictor.predict(&mut block, &|| false)
    }
}
