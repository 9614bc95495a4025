mod conversions;
mod predicates;
mod set;
mod transformations;

pub use conversions::ToGdal;
