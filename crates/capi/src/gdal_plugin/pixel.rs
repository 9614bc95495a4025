//! GDAL VRT pixel functions: `terrapix_predict` (a model on per-pixel inputs) and the spectral
//! indices the seeds use. See gdal-vrt/README.md for their arguments.

use std::ffi::{c_int, c_void, CStr, CString};
use std::path::Path;
use std::sync::Once;

use gdal_sys::{CPLErr, CSLConstList, GDALDataType};

use crate::boundary::{self, Failure};
use terrapix::indices::Index;
use terrapix::predict::{Block, Predictor};

type PixelFn = unsafe extern "C" fn(
    *mut *mut c_void,
    c_int,
    *mut c_void,
    c_int,
    c_int,
    GDALDataType::Type,
    GDALDataType::Type,
    c_int,
    c_int,
    CSLConstList,
) -> CPLErr::Type;

/// Arguments shared by the spectral indices.
const INDEX_ARGS: &str = "<Argument name='scale' type='double' description='Multiplies raw values (e.g. 0.0001 for reflectance stored as integers)' default='1'/>\
<Argument name='offset' type='double' description='Added after scaling (e.g. -0.2 for Landsat Collection 2)' default='0'/>\
<Argument name='nodata' type='double' description='Input value meaning missing'/>\
<Argument name='output_nodata' type='double' description='Written where an input is missing or the index undefined' default='nan'/>";

pub fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let predict_args = "<PixelFunctionArgumentsList>\
<Argument name='model' type='string' description='Path of the terrapix model bundle (.onnx)' mandatory='1'/>\
<Argument name='band' type='string' description='Output band: name (mean, std, ...) or 1-based index' default='1'/>\
<Argument name='nodata' type='double' description='Input value meaning missing'/>\
<Argument name='output_nodata' type='double' description='Written where no prediction is made (default: the model&apos;s)'/>\
</PixelFunctionArgumentsList>";
        let index_args = format!("<PixelFunctionArgumentsList>{INDEX_ARGS}</PixelFunctionArgumentsList>");
        let savi_args = format!(
            "<PixelFunctionArgumentsList>{INDEX_ARGS}<Argument name='L' type='double' description='Soil brightness correction' default='0.5'/></PixelFunctionArgumentsList>"
        );
        let functions: [(&str, PixelFn, &str); 7] = [
            ("terrapix_predict", predict, predict_args),
            ("terrapix_ndvi", ndvi, &index_args),
            ("terrapix_evi", evi, &index_args),
            ("terrapix_evi2", evi2, &index_args),
            ("terrapix_savi", savi, &savi_args),
            ("terrapix_gndvi", gndvi, &index_args),
            ("terrapix_ndwi", ndwi, &index_args),
        ];
        for (name, f, meta) in functions {
            let (name, meta) = (CString::new(name).expect("no NUL"), CString::new(meta).expect("no NUL"));
            // SAFETY: valid C strings; GDAL copies them.
            unsafe { gdal_sys::GDALAddDerivedBandPixelFuncWithArgs(name.as_ptr(), Some(f), meta.as_ptr()) };
        }
    });
}

/// The pixel function arguments as (key, value) lookups.
struct Args(CSLConstList);

impl Args {
    /// Refuses an argument the function does not know (a typo such as `modle=` would otherwise
    /// be ignored and its default used without a word).
    fn only(&self, function: &str, known: &[&str]) -> Result<(), Failure> {
        let mut at = self.0;
        // SAFETY: GDAL's NULL-terminated list of NUL-terminated "KEY=VALUE" strings, read only.
        while !at.is_null() && !unsafe { *at }.is_null() {
            let entry = unsafe { CStr::from_ptr(*at) }.to_string_lossy().into_owned();
            let key = entry.split_once('=').map_or(entry.as_str(), |(k, _)| k);
            if !known.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                return Err(Failure::invalid(format!("{function}: unknown argument '{key}' (it takes: {})", known.join(", "))));
            }
            at = unsafe { at.add(1) };
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Option<String> {
        let key = CString::new(key).ok()?;
        // SAFETY: GDAL's argument list and a NUL-terminated key; the value is copied at once.
        let v = unsafe { gdal_sys::CSLFetchNameValue(self.0, key.as_ptr()) };
        (!v.is_null()).then(|| unsafe { CStr::from_ptr(v) }.to_string_lossy().into_owned())
    }
    fn number(&self, key: &str) -> Result<Option<f64>, Failure> {
        match self.get(key) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("nan") => Ok(Some(f64::NAN)),
            Some(v) => v.trim().parse().map(Some).map_err(|_| Failure::invalid(format!("argument {key}='{v}' is not a number"))),
        }
    }

    /// A number that must be finite (a scale, an offset, L).
    fn finite(&self, key: &str, default: f64) -> Result<f64, Failure> {
        let v = self.number(key)?.unwrap_or(default);
        if !v.is_finite() {
            return Err(Failure::invalid(format!("argument {key}={v} must be a finite number")));
        }
        Ok(v)
    }
}

/// What a pixel function sees: its sources as Float32 planes and where to write.
struct Call {
    sources: Vec<Vec<f32>>,
    out: *mut c_void,
    width: usize,
    height: usize,
    buf_type: GDALDataType::Type,
    pixel_space: c_int,
    line_space: c_int,
}

impl Call {
    /// Takes GDAL's pixel function arguments as they come.
    #[allow(clippy::too_many_arguments)]
    unsafe fn new(
        sources: *mut *mut c_void,
        n: c_int,
        out: *mut c_void,
        width: c_int,
        height: c_int,
        src_type: GDALDataType::Type,
        buf_type: GDALDataType::Type,
        pixel_space: c_int,
        line_space: c_int,
    ) -> Call {
        let (w, h) = (width.max(0) as usize, height.max(0) as usize);
        // SAFETY: GDAL passes `n` source buffers of w x h values of `src_type`, contiguous.
        let size = unsafe { gdal_sys::GDALGetDataTypeSizeBytes(src_type) };
        let sources = (0..n.max(0) as usize)
            .map(|i| {
                let mut plane = vec![0f32; w * h];
                unsafe {
                    gdal_sys::GDALCopyWords(
                        *sources.add(i),
                        src_type,
                        size,
                        plane.as_mut_ptr() as *mut c_void,
                        GDALDataType::GDT_Float32,
                        4,
                        (w * h) as c_int,
                    )
                };
                plane
            })
            .collect();
        Call { sources, out, width: w, height: h, buf_type, pixel_space, line_space }
    }

    /// Writes a w x h Float32 plane into GDAL's output buffer with its type and spacing.
    unsafe fn write(&self, plane: &[f32]) {
        for row in 0..self.height {
            // SAFETY: GDAL's buffer holds `height` lines of `line_space` bytes.
            unsafe {
                let dst = (self.out as *mut u8).offset(row as isize * self.line_space as isize);
                gdal_sys::GDALCopyWords(
                    plane[row * self.width..].as_ptr() as *mut c_void,
                    GDALDataType::GDT_Float32,
                    4,
                    dst as *mut c_void,
                    self.buf_type,
                    self.pixel_space,
                    self.width as c_int,
                )
            };
        }
    }
}

/// Runs a pixel function body at the boundary: errors and panics become a CPLError and CE_Failure.
fn run(name: &str, body: impl FnOnce() -> Result<(), Failure>) -> CPLErr::Type {
    match boundary::call(body) {
        Ok(()) => CPLErr::CE_None,
        Err(mut failure) => {
            failure.message = format!("{name}: {}", failure.message);
            super::cpl_error(&failure);
            CPLErr::CE_Failure
        }
    }
}

macro_rules! pixel_fn {
    ($name:ident, $body:expr) => {
        unsafe extern "C" fn $name(
            sources: *mut *mut c_void,
            n: c_int,
            out: *mut c_void,
            width: c_int,
            height: c_int,
            src_type: GDALDataType::Type,
            buf_type: GDALDataType::Type,
            pixel_space: c_int,
            line_space: c_int,
            args: CSLConstList,
        ) -> CPLErr::Type {
            run(concat!("terrapix_", stringify!($name)), || {
                // SAFETY: the arguments are GDAL's, valid for this call.
                let call = unsafe { Call::new(sources, n, out, width, height, src_type, buf_type, pixel_space, line_space) };
                let plane: Vec<f32> = $body(&call, &Args(args))?;
                unsafe { call.write(&plane) };
                Ok(())
            })
        }
    };
}

pixel_fn!(predict, predict_body);

fn predict_body(call: &Call, args: &Args) -> Result<Vec<f32>, Failure> {
    args.only("terrapix_predict", &["model", "band", "nodata", "output_nodata"])?;
    let path = args.get("model").ok_or_else(|| Failure::invalid("the argument model=PATH is required"))?;
    super::check_trusted(Path::new(&path), None)?;
    let model = super::shared_model(Path::new(&path))?;
    let m = &model.manifest;
    let predictor = Predictor::new(&model, 0);
    if predictor.halo() > 0
        || predictor.cell() > 1
        || m.inputs.iter().flat_map(|i| &i.channels).any(|c| c.covariate == "@x" || c.covariate == "@y")
    {
        return Err(Failure::invalid(format!(
            "model '{path}' needs spatial context (halo {}, cell {}) or map coordinates, which a pixel function does not get on this \
             GDAL; write its VRT with `terrapix vrt`, which serves it through the TERRAPIX driver",
            predictor.halo(),
            predictor.cell()
        )));
    }
    let covariates = m.covariates();
    if call.sources.len() != covariates.len() {
        return Err(Failure::invalid(format!(
            "model '{path}' reads {} covariates ({}), the VRT band has {} sources",
            covariates.len(),
            covariates.join(", "),
            call.sources.len()
        )));
    }
    let band = match args.get("band") {
        None => 0,
        Some(b) => match b.parse::<usize>() {
            Ok(i) if i >= 1 && i <= m.outputs.len() => i - 1,
            _ => m.outputs.iter().position(|o| o.name == b).ok_or_else(|| {
                Failure::invalid(format!(
                    "model '{path}' has no output band '{b}' (bands: {})",
                    m.outputs.iter().map(|o| o.name.as_str()).collect::<Vec<_>>().join(", ")
                ))
            })?,
        },
    };
    // Mandatory: GDAL gives a pixel function raw values, so without it a lake's nodata value
    // would be predicted as if it were data.
    let input_nodata = match args.get("nodata") {
        None => {
            return Err(Failure::invalid(
                "give the covariates' nodata value as the argument nodata=VALUE (or nodata=none when they have none)",
            ))
        }
        Some(v) if v.trim().eq_ignore_ascii_case("none") => None,
        Some(_) => args.number("nodata")?.map(|v| v as f32),
    };
    let mut data = Vec::with_capacity(covariates.len() * call.width * call.height);
    for s in &call.sources {
        data.extend(s.iter().map(|&v| if Some(v) == input_nodata { f32::NAN } else { v }));
    }
    let mut block = Block { data, width: call.width, height: call.height, halo: 0, geo: None };
    let mut out = predictor.predict(&mut block, &|| false)?;
    let mut plane = out.bands.swap_remove(band);
    if let Some(nd) = args.number("output_nodata")? {
        let model_nd = m.nodata.output_nodata;
        plane.iter_mut().filter(|v| **v == model_nd).for_each(|v| *v = nd as f32);
    }
    Ok(plane)
}

/// Applies a spectral index to `sources` (scaled reflectances); missing or undefined -> NoData.
fn index(call: &Call, args: &Args, index: Index) -> Result<Vec<f32>, Failure> {
    let mut known = vec!["scale", "offset", "nodata", "output_nodata"];
    if matches!(index, Index::Savi { .. }) {
        known.push("L");
    }
    args.only("terrapix spectral index", &known)?;
    let inputs = index.bands().len();
    if call.sources.len() != inputs {
        return Err(Failure::invalid(format!(
            "expects {inputs} source bands ({}), the VRT band has {}",
            index.bands().join(", "),
            call.sources.len()
        )));
    }
    let scale = args.finite("scale", 1.0)? as f32;
    if scale == 0.0 {
        return Err(Failure::invalid("argument scale=0 would make every value 0"));
    }
    let offset = args.finite("offset", 0.0)? as f32;
    let nodata = args.number("nodata")?.map(|v| v as f32);
    let out_nodata = args.number("output_nodata")?.map(|v| v as f32).unwrap_or(f32::NAN);
    let mut px = vec![0f32; inputs];
    Ok((0..call.width * call.height)
        .map(|i| {
            for (p, s) in px.iter_mut().zip(&call.sources) {
                *p = if Some(s[i]) == nodata { f32::NAN } else { s[i] * scale + offset };
            }
            let v = index.compute(&px);
            if v.is_finite() {
                v
            } else {
                out_nodata
            }
        })
        .collect())
}

pixel_fn!(ndvi, |c: &Call, a: &Args| index(c, a, Index::Ndvi));
pixel_fn!(evi, |c: &Call, a: &Args| index(c, a, Index::Evi));
pixel_fn!(evi2, |c: &Call, a: &Args| index(c, a, Index::Evi2));
pixel_fn!(gndvi, |c: &Call, a: &Args| index(c, a, Index::Gndvi));
pixel_fn!(ndwi, |c: &Call, a: &Args| index(c, a, Index::Ndwi));
pixel_fn!(savi, |c: &Call, a: &Args| {
    let l = a.finite("L", 0.5)? as f32;
    index(c, a, Index::Savi { l })
});
