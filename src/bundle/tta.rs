//! Test-time augmentation inside the graph: a member is run on its window and patch inputs as
//! they are and flipped left-right and up-down, and the three predictions are averaged (seed
//! 002 averages the original and augmented views). Generated channels (`@patch_x`...) are not
//! flipped, so coordinates stay coordinates.

use super::onnx::{tensor_proto::DataType, NodeProto, TensorProto};
use super::{ensemble, Bundle, BundleError, InputSpec, Layout, Manifest};

/// `member` averaged over the identity and the two flips, as one graph (the mean is its first
/// output). Models without window or patch inputs are returned unchanged.
pub fn with_flips(member: &Bundle, specs: &[InputSpec], manifest: &Manifest) -> Result<Bundle, BundleError> {
    if !specs.iter().any(is_spatial) {
        return Ok(member.clone());
    }
    let views = [member.clone(), flipped(member, specs, 3), flipped(member, specs, 2)];
    ensemble::build(&views, manifest.clone())
}

fn is_spatial(spec: &InputSpec) -> bool {
    matches!(spec.layout, Layout::Window { .. } | Layout::Patch { .. })
}

/// `member` reading its window and patch inputs flipped along `axis` (3: x, 2: y).
fn flipped(member: &Bundle, specs: &[InputSpec], axis: i64) -> Bundle {
    let mut b = member.clone();
    let g = b.model.graph.as_mut().expect("decoded bundles have a graph");
    let mut front = Vec::new();
    for spec in specs.iter().filter(|s| is_spatial(s)) {
        let x = spec.name.clone();
        let p = format!("tta.{x}.");
        let ints = |name: &str, v: i64| TensorProto {
            name: Some(format!("{p}{name}")),
            data_type: Some(DataType::Int64 as i32),
            dims: vec![1],
            int64_data: vec![v],
            ..Default::default()
        };
        g.initializer.extend([ints("starts", -1), ints("ends", i64::MIN), ints("axes", axis), ints("steps", -1)]);
        let c = spec.channels.len() as i64;
        g.initializer.push(TensorProto {
            name: Some(format!("{p}bands")),
            data_type: Some(DataType::Bool as i32),
            dims: vec![1, c, 1, 1],
            int32_data: spec.channels.iter().map(|ch| i32::from(!ch.covariate.starts_with('@'))).collect(),
            ..Default::default()
        });
        let node = |op: &str, inputs: Vec<String>, output: String| NodeProto {
            op_type: Some(op.into()),
            name: Some(output.clone()),
            input: inputs,
            output: vec![output],
            ..Default::default()
        };
        let names = |v: &[&str]| v.iter().map(|s| format!("{p}{s}")).collect::<Vec<_>>();
        let mut slice_inputs = vec![x.clone()];
        slice_inputs.extend(names(&["starts", "ends", "axes", "steps"]));
        front.push(node("Slice", slice_inputs, format!("{p}flip")));
        // Band channels flipped, generated channels as they were.
        front.push(node("Where", vec![format!("{p}bands"), format!("{p}flip"), x.clone()], format!("{p}x")));
        for n in &mut g.node {
            for i in &mut n.input {
                if *i == x {
                    *i = format!("{p}x");
                }
            }
        }
    }
    front.append(&mut g.node);
    g.node = front;
    b
}
