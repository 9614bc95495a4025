//! Manifests from flags (`NAME:LAYOUT:COVARIATES` input specs, `BAND=OUTPUT[:INDEX]` bands),
//! and their human-readable description: the parsers behind `terrapix bundle`, `sample --input`
//! and the hosts that describe a model. They read untrusted strings: every size is bounded.

use super::{
    Channel, InputSpec, Layout, Manifest, NodataPolicy, OutputBand, OutputKind, Provenance, Target, TargetTransform, SCHEMA_VERSION,
};

/// The most channel names one input spec may expand to.
pub const MAX_NAMES: usize = 100_000;

pub struct ManifestFlags {
    pub name: String,
    pub version: String,
    pub description: String,
    pub target: String,
    pub unit: String,
    pub log1p: bool,
    pub inputs: Vec<String>,
    pub bands: Vec<String>,
    pub graph_outputs: Vec<String>,
}

pub fn manifest_from_flags(f: &ManifestFlags) -> Result<Manifest, String> {
    if f.inputs.is_empty() {
        return Err("give at least one --input NAME:LAYOUT:COVARIATES (or a --manifest JSON file)".into());
    }
    let inputs = f.inputs.iter().map(|s| parse_input(s)).collect::<Result<Vec<_>, _>>()?;
    let outputs = if f.bands.is_empty() {
        let first = f.graph_outputs.first().ok_or("the model has no graph output")?;
        vec![OutputBand { name: "value".into(), graph_output: first.clone(), index: 0, kind: OutputKind::Value }]
    } else {
        f.bands.iter().map(|s| parse_band(s)).collect::<Result<Vec<_>, _>>()?
    };
    let manifest = Manifest {
        schema: SCHEMA_VERSION,
        name: f.name.clone(),
        version: f.version.clone(),
        description: f.description.clone(),
        target: Target {
            name: f.target.clone(),
            unit: f.unit.clone(),
            transform: if f.log1p { TargetTransform::Log1p } else { TargetTransform::None },
        },
        inputs,
        outputs,
        nodata: NodataPolicy::default(),
        provenance: Provenance::default(),
        metrics: None,
        uncertainty: None,
        model_card: String::new(),
        time_varying: Vec::new(),
    };
    manifest.check().map_err(|e| e.to_string())?;
    Ok(manifest)
}

/// `1234567` as `1.23 M`.
fn si(v: f64) -> String {
    match v {
        v if v >= 1e9 => format!("{:.2} G", v / 1e9),
        v if v >= 1e6 => format!("{:.2} M", v / 1e6),
        v if v >= 1e3 => format!("{:.2} k", v / 1e3),
        v => format!("{v:.0}"),
    }
}

/// `NAME:LAYOUT:COVARIATES`, e.g. `x_cnn:window5:cov[1-10]`, `img:window64/8:b[1-12]` (a 64 x 64
/// window per 8 x 8 output cell) or `x:series10x12:a,b,c`.
pub fn parse_input(spec: &str) -> Result<InputSpec, String> {
    let mut parts = spec.splitn(3, ':');
    let (Some(name), Some(layout), Some(covs)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("--input '{spec}': expected NAME:LAYOUT:COVARIATES"));
    };
    let num = |s: &str| s.parse::<usize>().map_err(|_| format!("--input '{spec}': bad layout '{layout}'"));
    let layout = if layout == "pixel" {
        Layout::Pixel
    } else if let Some(k) = layout.strip_prefix("window") {
        match k.split_once('/') {
            Some((k, cell)) => Layout::Window { size: num(k)?, cell: num(cell)? },
            None => Layout::window(num(k)?),
        }
    } else if let Some(p) = layout.strip_prefix("patch") {
        Layout::Patch { size: num(p)? }
    } else if let Some(tf) = layout.strip_prefix("series") {
        let (t, f) = tf.split_once('x').ok_or_else(|| format!("--input '{spec}': series layout is seriesTxF, e.g. series10x12"))?;
        Layout::Series { steps: num(t)?, features: num(f)? }
    } else {
        return Err(format!("--input '{spec}': layout '{layout}' is not pixel, windowK, windowK/C (a K x K window per C x C output cell), patchP or seriesTxF"));
    };
    let channels = expand_names(covs)?.into_iter().map(Channel::new).collect();
    Ok(InputSpec { name: name.into(), layout, channels })
}

/// Comma-separated names; `cov[1-12]` expands to cov1, cov2, ..., cov12.
pub fn expand_names(list: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match (item.find('['), item.strip_suffix(']')) {
            (Some(open), Some(body)) => {
                let (prefix, range) = (&item[..open], &body[open + 1..]);
                let (a, b) = range.split_once('-').ok_or_else(|| format!("bad range '{item}' (expected name[A-B])"))?;
                let (a, b): (usize, usize) =
                    (a.parse().map_err(|_| format!("bad range '{item}'"))?, b.parse().map_err(|_| format!("bad range '{item}'"))?);
                if a > b {
                    return Err(format!("bad range '{item}': {a} is after {b}"));
                }
                if b - a >= MAX_NAMES || out.len() + (b - a) >= MAX_NAMES {
                    return Err(format!("range '{item}' names more than {MAX_NAMES} channels"));
                }
                out.extend((a..=b).map(|i| format!("{prefix}{i}")));
            }
            _ => out.push(item.to_string()),
        }
        if out.len() > MAX_NAMES {
            return Err(format!("more than {MAX_NAMES} channel names"));
        }
    }
    Ok(out)
}

/// `BAND=GRAPH_OUTPUT[:INDEX]`; kind from the band name: mean, std, qNN (quantile NN %), else value.
pub fn parse_band(spec: &str) -> Result<OutputBand, String> {
    let (name, target) = spec.split_once('=').ok_or_else(|| format!("--band '{spec}': expected BAND=GRAPH_OUTPUT[:INDEX]"))?;
    let (graph_output, index) = match target.rsplit_once(':') {
        Some((o, i)) => (o, i.parse().map_err(|_| format!("--band '{spec}': bad column index '{i}'"))?),
        None => (target, 0),
    };
    let kind = match name {
        "mean" => OutputKind::Mean,
        "std" | "sd" => OutputKind::Std,
        q if q.starts_with('q') && q[1..].parse::<f64>().is_ok() => {
            OutputKind::Quantile { q: q[1..].parse::<f64>().unwrap_or(0.0) / 100.0 }
        }
        _ => OutputKind::Value,
    };
    Ok(OutputBand { name: name.into(), graph_output: graph_output.into(), index, kind })
}

/// A readable summary of a manifest (`terrapix info`, the C ABI, the QGIS plugin).
pub fn describe(m: &Manifest) -> String {
    let mut s = format!("{} {}", m.name, m.version);
    if !m.description.is_empty() {
        s += &format!("\n  {}", m.description);
    }
    let transform = match m.target.transform {
        TargetTransform::None => String::new(),
        TargetTransform::Log1p => " (model predicts log1p; maps are back-transformed)".into(),
    };
    s += &format!("\nTarget: {} [{}]{transform}", m.target.name, m.target.unit);
    s += "\nInputs:";
    for i in &m.inputs {
        let names: Vec<&str> = i.channels.iter().map(|c| c.covariate.as_str()).collect();
        let shown = if names.len() > 12 { format!("{}, ... ({} channels)", names[..12].join(", "), names.len()) } else { names.join(", ") };
        s += &format!("\n  {}: {} of [{}]", i.name, i.layout.describe(), shown);
    }
    s += "\nOutput bands:";
    for o in &m.outputs {
        s += &format!("\n  {} <- {}[:, {}] ({:?}, unit {})", o.name, o.graph_output, o.index, o.kind, m.band_unit(o));
    }
    s += &format!(
        "\nNodata: output {}, edges {:?}, gap filling {}",
        m.nodata.output_nodata,
        m.nodata.edge,
        m.nodata.fill_gaps.map(|g| format!("radius {} (min {} valid)", g.radius, g.min_valid)).unwrap_or_else(|| "off".into())
    );
    s += &format!("\nCovariates needed: {}; context halo {} px; cell {} px", m.covariates().len(), m.halo(), m.cell());
    if let Some(macs) = m.provenance.extra.get(super::MULTIPLY_ADDS).and_then(|v| v.parse::<f64>().ok()) {
        let members = m.provenance.extra.get("ensemble_members").map(|n| format!(" ({n} members together)")).unwrap_or_default();
        s += &format!("\nMultiply-adds per output cell: {}{members}", si(macs));
    }
    if !m.time_varying.is_empty() {
        s += &format!("\nTime-varying (one plane per date of a cube): {}", m.time_varying.join(", "));
    }
    if let Some(cv) = &m.metrics {
        let overall: Vec<String> = cv.overall.iter().map(|(k, v)| format!("{k} {v:.4}")).collect();
        s += &format!("\nCross-validation ({}, {} folds): {}", cv.scheme, cv.folds, overall.join(", "));
    }
    if let Some(u) = &m.uncertainty {
        for i in &u.intervals {
            let (lo, hi) = super::uncertainty::interval_names(i.level);
            s += &format!(
                "\nPrediction interval {lo}..{hi}: nominal {:.0} %, cross-validation coverage {:.1} % ({})",
                100.0 * i.level,
                100.0 * i.cv_coverage,
                u.method.words()
            );
        }
        if let Some(f) = u.smearing {
            s += &format!("\nMean: (1 + median) x {f:.4} - 1 (Duan's smearing of the log1p model); the median band is exp(mean log1p) - 1");
        }
        if let Some(a) = &u.aoa {
            s += &format!(
                "\nArea of applicability: DI threshold {:.4} over {} predictors, {} training samples stored ({} multiply-adds per pixel)",
                a.threshold,
                a.features.len(),
                a.training_points,
                a.macs_per_pixel
            );
        }
    }
    let p = &m.provenance;
    for (k, v) in [("created by", &p.created_by), ("created at", &p.created_at), ("training data", &p.training_data), ("method", &p.method)]
    {
        if !v.is_empty() {
            s += &format!("\n{k}: {v}");
        }
    }
    if !m.model_card.is_empty() {
        s += &format!("\n\n--- model card ---\n{}", m.model_card.trim_end());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_layouts_ranges_and_bands() {
        assert_eq!(expand_names("cov[1-3],@x").unwrap(), vec!["cov1", "cov2", "cov3", "@x"]);
        let i = parse_input("x_lstm:series10x12:cov[11-130]").unwrap();
        assert_eq!(i.layout, Layout::Series { steps: 10, features: 12 });
        assert_eq!(i.channels.len(), 120);
        assert_eq!(parse_input("x:window5:a").unwrap().layout, Layout::window(5));
        assert_eq!(parse_input("img:window64/8:a").unwrap().layout, Layout::Window { size: 64, cell: 8 });
        assert!(parse_input("x:blob:a").unwrap_err().contains("not pixel"));
        let b = parse_band("q05=quantiles:0").unwrap();
        assert_eq!((b.graph_output.as_str(), b.index), ("quantiles", 0));
        assert_eq!(b.kind, OutputKind::Quantile { q: 0.05 });
        assert_eq!(parse_band("std=std").unwrap().kind, OutputKind::Std);
    }
}
