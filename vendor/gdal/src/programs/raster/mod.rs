mod mdimtranslate;
mod vrt;

pub use mdimtranslate::{
    multi_dim_translate, MultiDimTranslateDestination, MultiDimTranslateOptions,
};
pub use vrt::*;
