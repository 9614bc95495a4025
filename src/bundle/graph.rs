//! A small builder for ONNX graphs written from Rust (the trainer's exports).

use super::onnx::{
    attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto::dimension::Value as Dim, tensor_shape_proto::Dimension,
    type_proto, AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto,
};

/// ONNX opset of the graphs terrapix writes.
pub const OPSET: i64 = 17;

/// A node attribute value.
pub enum Attr {
    Int(i64),
    Ints(Vec<i64>),
    Float(f32),
    Floats(Vec<f32>),
    Str(String),
    Strs(Vec<String>),
}

/// The ONNX-ML operator domain (tree ensembles) and the opset terrapix writes for it.
pub const ML_DOMAIN: &str = "ai.onnx.ml";
pub const ML_OPSET: i64 = 3;

#[derive(Default)]
pub struct GraphBuilder {
    graph: GraphProto,
    next: usize,
    uses_ml: bool,
    /// Continuing an existing model ([`GraphBuilder::extend`]): the rest of it, and the prefix
    /// that keeps new value names apart from its own.
    base: Option<ModelProto>,
    prefix: String,
}

/// A float32 tensor value info; `None` dims are the batch dimension "N".
pub fn value_info(name: &str, dims: &[Option<i64>]) -> ValueInfoProto {
    let dim = |d: &Option<i64>| Dimension {
        value: Some(match d {
            Some(v) => Dim::DimValue(*v),
            None => Dim::DimParam("N".into()),
        }),
        ..Default::default()
    };
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(DataType::Float as i32),
                shape: Some(TensorShapeProto { dim: dims.iter().map(dim).collect() }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

impl GraphBuilder {
    pub fn new(name: &str) -> GraphBuilder {
        GraphBuilder { graph: GraphProto { name: Some(name.into()), ..Default::default() }, ..Default::default() }
    }

    /// Continues `model`'s graph: new nodes may read its values and outputs; every name this
    /// builder makes starts with `prefix`. [`GraphBuilder::finish`] returns `model` with them.
    pub fn extend(mut model: ModelProto, prefix: &str) -> GraphBuilder {
        let graph = model.graph.take().unwrap_or_default();
        GraphBuilder { graph, base: Some(model), prefix: prefix.into(), ..Default::default() }
    }

    /// Declares a graph input of shape `[N, dims...]`.
    pub fn input(&mut self, name: &str, dims: &[i64]) -> String {
        let mut all = vec![None];
        all.extend(dims.iter().map(|d| Some(*d)));
        self.graph.input.push(value_info(name, &all));
        name.into()
    }

    /// Adds a float initializer.
    pub fn constant(&mut self, hint: &str, dims: &[i64], data: Vec<f32>) -> String {
        debug_assert_eq!(dims.iter().product::<i64>().max(1) as usize, data.len().max(1));
        let name = self.fresh(hint);
        self.graph.initializer.push(TensorProto {
            name: Some(name.clone()),
            data_type: Some(DataType::Float as i32),
            dims: dims.to_vec(),
            float_data: data,
            ..Default::default()
        });
        name
    }

    /// Adds an int64 initializer (shapes, axes).
    pub fn int_constant(&mut self, hint: &str, data: Vec<i64>) -> String {
        let name = self.fresh(hint);
        self.graph.initializer.push(TensorProto {
            name: Some(name.clone()),
            data_type: Some(DataType::Int64 as i32),
            dims: vec![data.len() as i64],
            int64_data: data,
            ..Default::default()
        });
        name
    }

    /// Adds a node with one output; returns the output's name.
    pub fn op(&mut self, op: &str, inputs: &[&str], attrs: Vec<(&str, Attr)>) -> String {
        let out = self.fresh(&op.to_lowercase());
        self.op_outputs(op, inputs, attrs, &[&out]);
        out
    }

    /// Adds a node with given outputs ("" for an unused optional output).
    pub fn op_outputs(&mut self, op: &str, inputs: &[&str], attrs: Vec<(&str, Attr)>, outputs: &[&str]) {
        self.node_in("", op, inputs, attrs, outputs);
    }

    /// Adds an ONNX-ML node (`ai.onnx.ml`, e.g. TreeEnsembleRegressor) with one output.
    pub fn ml_op(&mut self, op: &str, inputs: &[&str], attrs: Vec<(&str, Attr)>) -> String {
        let out = self.fresh(&op.to_lowercase());
        self.uses_ml = true;
        self.node_in(ML_DOMAIN, op, inputs, attrs, &[&out]);
        out
    }

    fn node_in(&mut self, domain: &str, op: &str, inputs: &[&str], attrs: Vec<(&str, Attr)>, outputs: &[&str]) {
        let attribute = attrs
            .into_iter()
            .map(|(name, a)| {
                let mut p = AttributeProto { name: Some(name.into()), ..Default::default() };
                match a {
                    Attr::Int(v) => (p.i, p.r#type) = (Some(v), Some(AttributeType::Int as i32)),
                    Attr::Ints(v) => (p.ints, p.r#type) = (v, Some(AttributeType::Ints as i32)),
                    Attr::Float(v) => (p.f, p.r#type) = (Some(v), Some(AttributeType::Float as i32)),
                    Attr::Floats(v) => (p.floats, p.r#type) = (v, Some(AttributeType::Floats as i32)),
                    Attr::Str(v) => (p.s, p.r#type) = (Some(v.into_bytes()), Some(AttributeType::String as i32)),
                    Attr::Strs(v) => {
                        (p.strings, p.r#type) = (v.into_iter().map(String::into_bytes).collect(), Some(AttributeType::Strings as i32))
                    }
                }
                p
            })
            .collect();
        let name = self.fresh(&format!("{}_node", op.to_lowercase()));
        self.graph.node.push(NodeProto {
            op_type: Some(op.into()),
            domain: (!domain.is_empty()).then(|| domain.to_string()),
            name: Some(name),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            attribute,
            ..Default::default()
        });
    }

    /// Every input flattened to `[N, values]` and concatenated in order: the feature rows of
    /// tree ensembles, MLPs and the dissimilarity index.
    pub fn flat_features(&mut self, xs: &[&str]) -> String {
        let flat: Vec<String> = xs.iter().map(|x| self.op("Flatten", &[x], vec![("axis", Attr::Int(1))])).collect();
        let refs: Vec<&str> = flat.iter().map(String::as_str).collect();
        if refs.len() == 1 {
            refs[0].to_string()
        } else {
            self.op("Concat", &refs, vec![("axis", Attr::Int(1))])
        }
    }

    /// Columns `from..to` of a `[N, columns]` value.
    pub fn slice_columns(&mut self, x: &str, from: i64, to: i64) -> String {
        let (s, e, ax) = (self.int_constant("start", vec![from]), self.int_constant("end", vec![to]), self.int_constant("axes", vec![1]));
        self.op("Slice", &[x, &s, &e, &ax], vec![])
    }

    /// A fresh value name.
    pub fn fresh(&mut self, hint: &str) -> String {
        self.next += 1;
        format!("{}{hint}_{}", self.prefix, self.next)
    }

    /// Names `value` as a graph output of shape `[N, dims...]` (through an Identity).
    pub fn output(&mut self, value: &str, name: &str, dims: &[i64]) {
        self.op_outputs("Identity", &[value], vec![], &[name]);
        let mut all = vec![None];
        all.extend(dims.iter().map(|d| Some(*d)));
        self.graph.output.push(value_info(name, &all));
    }

    pub fn finish(self) -> ModelProto {
        if let Some(mut model) = self.base {
            if self.uses_ml && !model.opset_import.iter().any(|o| o.domain.as_deref() == Some(ML_DOMAIN)) {
                model.opset_import.push(OperatorSetIdProto { domain: Some(ML_DOMAIN.into()), version: Some(ML_OPSET) });
            }
            model.graph = Some(self.graph);
            return model;
        }
        let mut opset_import = vec![OperatorSetIdProto { domain: Some(String::new()), version: Some(OPSET) }];
        if self.uses_ml {
            opset_import.push(OperatorSetIdProto { domain: Some(ML_DOMAIN.into()), version: Some(ML_OPSET) });
        }
        ModelProto {
            ir_version: Some(8),
            opset_import,
            producer_name: Some("terrapix".into()),
            producer_version: Some(env!("CARGO_PKG_VERSION").into()),
            graph: Some(self.graph),
            ..Default::default()
        }
    }
}
