//! The ONNX operators of [`super::OPS`] (but the trees), over [`Tensor`]s.

use super::tensor::{broadcast, broadcast_index, check_size, strides, Data, Tensor};
use crate::bundle::onnx::{NodeProto, TensorProto};

/// A node's attributes, read once at compile time.
#[derive(Default)]
pub struct Attrs {
    ints: Vec<(String, Vec<i64>)>,
    floats: Vec<(String, Vec<f32>)>,
    tensor: Option<Tensor>,
}

impl Attrs {
    pub fn of(n: &NodeProto, tensor_of: &dyn Fn(&TensorProto) -> Result<Tensor, String>) -> Result<Attrs, String> {
        let mut a = Attrs::default();
        for at in &n.attribute {
            let name = at.name.clone().unwrap_or_default();
            if let Some(i) = at.i {
                a.ints.push((name.clone(), vec![i]));
            } else if !at.ints.is_empty() {
                a.ints.push((name.clone(), at.ints.clone()));
            }
            if let Some(f) = at.f {
                a.floats.push((name.clone(), vec![f]));
            } else if !at.floats.is_empty() {
                a.floats.push((name.clone(), at.floats.clone()));
            }
            if name == "value" {
                if let Some(t) = &at.t {
                    a.tensor = Some(tensor_of(t)?);
                }
            }
        }
        Ok(a)
    }

    fn ints(&self, name: &str) -> Option<&[i64]> {
        self.ints.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }

    fn int(&self, name: &str, default: i64) -> i64 {
        self.ints(name).and_then(|v| v.first().copied()).unwrap_or(default)
    }
}

type Args<'a> = [Option<&'a Tensor>];

fn arg<'a>(args: &Args<'a>, i: usize) -> Result<&'a Tensor, String> {
    args.get(i).copied().flatten().ok_or_else(|| format!("input {i} is missing"))
}

/// An axis attribute (negative from the end) checked against `rank`.
fn axis(a: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    let v = if a < 0 { a + r } else { a };
    if v < 0 || v >= r.max(1) {
        return Err(format!("axis {a} out of range for rank {rank}"));
    }
    Ok(v as usize)
}

pub fn run(op: &str, at: &Attrs, args: &Args) -> Result<Vec<Tensor>, String> {
    let one = |t: Tensor| Ok(vec![t]);
    match op {
        "Identity" => one(arg(args, 0)?.clone()),
        "Constant" => {
            if let Some(t) = &at.tensor {
                return one(t.clone());
            }
            if let Some(v) = at.floats.iter().find(|(n, _)| n == "value_float" || n == "value_floats") {
                let shape = if v.0 == "value_float" { vec![] } else { vec![v.1.len()] };
                return one(Tensor::f32(shape, v.1.clone()));
            }
            if let Some(v) = at.ints.iter().find(|(n, _)| n == "value_int" || n == "value_ints") {
                let shape = if v.0 == "value_int" { vec![] } else { vec![v.1.len()] };
                return one(Tensor { shape, data: Data::I64(v.1.clone()) });
            }
            Err("a Constant without a value".into())
        }
        "Flatten" => {
            let x = arg(args, 0)?;
            let k = axis(at.int("axis", 1), x.shape.len() + 1)?;
            let rows: usize = x.shape[..k].iter().product();
            one(x.reshaped(vec![rows, x.shape[k..].iter().product()])?)
        }
        "Reshape" => {
            let x = arg(args, 0)?;
            let spec = arg(args, 1)?.ints()?;
            let mut shape = Vec::with_capacity(spec.len());
            let mut infer = None;
            for (i, &d) in spec.iter().enumerate() {
                match d {
                    0 if at.int("allowzero", 0) == 0 => shape.push(*x.shape.get(i).ok_or("0 beyond the input's rank")?),
                    -1 => {
                        infer = Some(i);
                        shape.push(1);
                    }
                    d if d < 0 => return Err(format!("bad dimension {d}")),
                    d => shape.push(d as usize),
                }
            }
            if let Some(i) = infer {
                let known: usize = shape.iter().product();
                shape[i] = x.len().checked_div(known).unwrap_or(0);
            }
            one(x.reshaped(shape)?)
        }
        "Squeeze" | "Unsqueeze" => {
            let x = arg(args, 0)?;
            let axes: Vec<i64> = match args.get(1).copied().flatten() {
                Some(t) => t.ints()?,
                None => at.ints("axes").map(<[i64]>::to_vec).unwrap_or_default(),
            };
            let shape = if op == "Squeeze" {
                let rank = x.shape.len();
                let drop: Vec<usize> = if axes.is_empty() {
                    (0..rank).filter(|&i| x.shape[i] == 1).collect()
                } else {
                    axes.iter().map(|&a| axis(a, rank)).collect::<Result<_, _>>()?
                };
                x.shape.iter().enumerate().filter(|(i, _)| !drop.contains(i)).map(|(_, &d)| d).collect()
            } else {
                let rank = x.shape.len() + axes.len();
                let add: Vec<usize> = axes.iter().map(|&a| axis(a, rank)).collect::<Result<_, _>>()?;
                let mut it = x.shape.iter();
                (0..rank).map(|i| if add.contains(&i) { 1 } else { *it.next().unwrap_or(&1) }).collect()
            };
            one(x.reshaped(shape)?)
        }
        "Concat" => {
            let parts: Vec<&Tensor> = args.iter().flatten().copied().collect();
            let first = parts.first().ok_or("no inputs")?;
            let k = axis(at.int("axis", 0), first.shape.len())?;
            let outer: usize = first.shape[..k].iter().product();
            let mut shape = first.shape.clone();
            shape[k] = parts.iter().map(|p| p.shape.get(k).copied().unwrap_or(0)).sum();
            check_size(&shape)?;
            let mut data = Vec::with_capacity(shape.iter().product());
            for o in 0..outer {
                for p in &parts {
                    if p.shape.len() != first.shape.len() || p.shape[..k] != first.shape[..k] || p.shape[k + 1..] != first.shape[k + 1..] {
                        return Err(format!("shapes {:?} and {:?} do not concatenate", first.shape, p.shape));
                    }
                    let inner: usize = p.shape[k..].iter().product();
                    data.extend_from_slice(&p.floats()?[o * inner..(o + 1) * inner]);
                }
            }
            one(Tensor::f32(shape, data))
        }
        "Slice" => {
            let x = arg(args, 0)?;
            let (starts, ends) = (arg(args, 1)?.ints()?, arg(args, 2)?.ints()?);
            let rank = x.shape.len();
            let axes: Vec<usize> = match args.get(3).copied().flatten() {
                Some(t) => t.ints()?.iter().map(|&a| axis(a, rank)).collect::<Result<_, _>>()?,
                None => (0..starts.len()).collect(),
            };
            let steps = match args.get(4).copied().flatten() {
                Some(t) => t.ints()?,
                None => vec![1; starts.len()],
            };
            let mut ranges: Vec<(i64, i64, i64)> = x.shape.iter().map(|&d| (0, d as i64, 1)).collect();
            for (i, &a) in axes.iter().enumerate() {
                let d = x.shape[a] as i64;
                let step = steps[i];
                if step == 0 {
                    return Err("a step of 0".into());
                }
                let clamp = |v: i64, lo: i64, hi: i64| v.clamp(lo, hi);
                let norm = |v: i64| if v < 0 { v + d } else { v };
                let (s, e) = if step > 0 {
                    (clamp(norm(starts[i]), 0, d), clamp(norm(ends[i]), 0, d))
                } else {
                    (clamp(norm(starts[i]), 0, d - 1), clamp(norm(ends[i]), -1, d - 1))
                };
                ranges[a] = (s, e, step);
            }
            let shape: Vec<usize> = ranges
                .iter()
                .map(|&(s, e, st)| if st > 0 { ((e - s).max(0) + st - 1) / st } else { ((s - e).max(0) + (-st) - 1) / (-st) } as usize)
                .collect();
            let xs = strides(&x.shape);
            let os = strides(&shape);
            let total: usize = shape.iter().product();
            let index = (0..total).map(|flat| {
                let mut rem = flat;
                let mut idx = 0i64;
                for d in 0..rank {
                    let c = (rem / os[d]) as i64;
                    rem %= os[d];
                    idx += (ranges[d].0 + c * ranges[d].2) * xs[d] as i64;
                }
                idx as usize
            });
            one(x.pick(shape, index))
        }
        "Gather" => {
            let x = arg(args, 0)?;
            let idx = arg(args, 1)?.ints()?;
            let ishape = arg(args, 1)?.shape.clone();
            let k = axis(at.int("axis", 0), x.shape.len())?;
            let d = x.shape[k] as i64;
            let outer: usize = x.shape[..k].iter().product();
            let inner: usize = x.shape[k + 1..].iter().product();
            let mut shape = x.shape[..k].to_vec();
            shape.extend(&ishape);
            shape.extend(&x.shape[k + 1..]);
            check_size(&shape)?;
            let mut flat = Vec::with_capacity(outer * idx.len() * inner);
            for o in 0..outer {
                for &i in &idx {
                    let i = if i < 0 { i + d } else { i };
                    if i < 0 || i >= d {
                        return Err(format!("index {i} out of range {d}"));
                    }
                    for j in 0..inner {
                        flat.push((o * d as usize + i as usize) * inner + j);
                    }
                }
            }
            one(x.pick(shape, flat.into_iter()))
        }
        "Add" | "Sub" | "Mul" | "Div" | "Max" | "Min" => {
            let f: fn(f32, f32) -> f32 = match op {
                "Add" => |a, b| a + b,
                "Sub" => |a, b| a - b,
                "Mul" => |a, b| a * b,
                "Div" => |a, b| a / b,
                // ONNX Max/Min propagate NaN.
                "Max" => |a, b| if a.is_nan() || b.is_nan() { f32::NAN } else { a.max(b) },
                _ => |a, b| if a.is_nan() || b.is_nan() { f32::NAN } else { a.min(b) },
            };
            let mut acc = arg(args, 0)?.clone();
            for b in args.iter().skip(1).flatten() {
                acc = binary(&acc, b, f)?;
            }
            one(acc)
        }
        "Less" | "LessOrEqual" | "Greater" | "GreaterOrEqual" | "Equal" => {
            let f: fn(f32, f32) -> bool = match op {
                "Less" => |a, b| a < b,
                "LessOrEqual" => |a, b| a <= b,
                "Greater" => |a, b| a > b,
                "GreaterOrEqual" => |a, b| a >= b,
                _ => |a, b| a == b,
            };
            let (a, b) = (arg(args, 0)?, arg(args, 1)?);
            let shape = broadcast(&a.shape, &b.shape)?;
            let (ia, ib) = (broadcast_index(&a.shape, &shape), broadcast_index(&b.shape, &shape));
            let (va, vb) = (a.floats()?, b.floats()?);
            one(Tensor { data: Data::Bool(ia.iter().zip(&ib).map(|(&i, &j)| f(va[i], vb[j])).collect()), shape })
        }
        "Where" => {
            let (c, a, b) = (arg(args, 0)?, arg(args, 1)?, arg(args, 2)?);
            let Data::Bool(cv) = &c.data else { return Err("condition is not bool".into()) };
            let shape = broadcast(&broadcast(&c.shape, &a.shape)?, &b.shape)?;
            let (ic, ia, ib) = (broadcast_index(&c.shape, &shape), broadcast_index(&a.shape, &shape), broadcast_index(&b.shape, &shape));
            let (va, vb) = (a.floats()?, b.floats()?);
            let data = (0..ic.len()).map(|k| if cv[ic[k]] { va[ia[k]] } else { vb[ib[k]] }).collect();
            one(Tensor::f32(shape, data))
        }
        "Sqrt" | "Abs" | "Neg" | "Relu" | "Exp" | "Log" | "Reciprocal" => {
            let f: fn(f32) -> f32 = match op {
                "Sqrt" => f32::sqrt,
                "Abs" => f32::abs,
                "Neg" => |v| -v,
                "Relu" => |v| if v > 0.0 || v.is_nan() { v } else { 0.0 },
                "Exp" => f32::exp,
                "Log" => f32::ln,
                _ => |v| 1.0 / v,
            };
            let x = arg(args, 0)?;
            one(Tensor::f32(x.shape.clone(), x.floats()?.iter().map(|&v| f(v)).collect()))
        }
        "Cast" => {
            let x = arg(args, 0)?;
            let to = at.int("to", 1);
            let data = match (to, &x.data) {
                (1, Data::F32(v)) => Data::F32(v.clone()),
                (1, Data::I64(v)) => Data::F32(v.iter().map(|&i| i as f32).collect()),
                (1, Data::Bool(v)) => Data::F32(v.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect()),
                (7, Data::F32(v)) => Data::I64(v.iter().map(|&f| f as i64).collect()),
                (7, Data::I64(v)) => Data::I64(v.clone()),
                (7, Data::Bool(v)) => Data::I64(v.iter().map(|&b| b as i64).collect()),
                (9, Data::F32(v)) => Data::Bool(v.iter().map(|&f| f != 0.0).collect()),
                (9, Data::Bool(v)) => Data::Bool(v.clone()),
                (9, Data::I64(v)) => Data::Bool(v.iter().map(|&i| i != 0).collect()),
                (to, _) => return Err(format!("Cast to type {to} is not implemented natively")),
            };
            one(Tensor { shape: x.shape.clone(), data })
        }
        "ReduceMean" | "ReduceSum" | "ReduceMin" | "ReduceMax" => {
            let x = arg(args, 0)?;
            let rank = x.shape.len();
            let listed: Vec<i64> = match args.get(1).copied().flatten() {
                Some(t) => t.ints()?,
                None => at.ints("axes").map(<[i64]>::to_vec).unwrap_or_default(),
            };
            if listed.is_empty() && at.int("noop_with_empty_axes", 0) == 1 {
                return one(x.clone());
            }
            let axes: Vec<usize> =
                if listed.is_empty() { (0..rank).collect() } else { listed.iter().map(|&a| axis(a, rank)).collect::<Result<_, _>>()? };
            one(reduce(op, x, &axes, at.int("keepdims", 1) == 1)?)
        }
        "CumSum" => {
            let x = arg(args, 0)?;
            let k = axis(*arg(args, 1)?.ints()?.first().ok_or("CumSum without an axis")?, x.shape.len())?;
            let (exclusive, reverse) = (at.int("exclusive", 0) == 1, at.int("reverse", 0) == 1);
            let v = x.floats()?;
            let (outer, len): (usize, usize) = (x.shape[..k].iter().product(), x.shape[k]);
            let inner: usize = x.shape[k + 1..].iter().product();
            let mut out = vec![0f32; v.len()];
            for o in 0..outer {
                for j in 0..inner {
                    let mut acc = 0f32;
                    for step in 0..len {
                        let i = if reverse { len - 1 - step } else { step };
                        let idx = (o * len + i) * inner + j;
                        if exclusive {
                            out[idx] = acc;
                            acc += v[idx];
                        } else {
                            acc += v[idx];
                            out[idx] = acc;
                        }
                    }
                }
            }
            one(Tensor::f32(x.shape.clone(), out))
        }
        "MatMul" => {
            let (a, b) = (arg(args, 0)?, arg(args, 1)?);
            if a.shape.len() != 2 || b.shape.len() != 2 || a.shape[1] != b.shape[0] {
                return Err(format!("MatMul of {:?} and {:?} (2-D only natively)", a.shape, b.shape));
            }
            let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1]);
            check_size(&[m, n])?;
            let (va, vb) = (a.floats()?, b.floats()?);
            let mut out = vec![0f32; m * n];
            use rayon::prelude::*;
            out.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
                for p in 0..k {
                    let av = va[i * k + p];
                    let brow = &vb[p * n..(p + 1) * n];
                    for (o, &bv) in row.iter_mut().zip(brow) {
                        *o += av * bv;
                    }
                }
            });
            one(Tensor::f32(vec![m, n], out))
        }
        other => Err(format!("op {other} is not implemented natively")),
    }
}

fn binary(a: &Tensor, b: &Tensor, f: fn(f32, f32) -> f32) -> Result<Tensor, String> {
    let (va, vb) = (a.floats()?, b.floats()?);
    if a.shape == b.shape {
        return Ok(Tensor::f32(a.shape.clone(), va.iter().zip(vb).map(|(&x, &y)| f(x, y)).collect()));
    }
    let shape = broadcast(&a.shape, &b.shape)?;
    // The common case: a row vector against every row (or a scalar).
    if b.len() == 1 {
        let y = vb[0];
        if shape == a.shape {
            return Ok(Tensor::f32(shape, va.iter().map(|&x| f(x, y)).collect()));
        }
    }
    let (ia, ib) = (broadcast_index(&a.shape, &shape), broadcast_index(&b.shape, &shape));
    Ok(Tensor::f32(shape, ia.iter().zip(&ib).map(|(&i, &j)| f(va[i], vb[j])).collect()))
}

fn reduce(op: &str, x: &Tensor, axes: &[usize], keep: bool) -> Result<Tensor, String> {
    let v = x.floats()?;
    let rank = x.shape.len();
    let out_shape_keep: Vec<usize> = (0..rank).map(|d| if axes.contains(&d) { 1 } else { x.shape[d] }).collect();
    let total: usize = out_shape_keep.iter().product();
    let count: usize = axes.iter().map(|&a| x.shape[a]).product();
    let (init, f): (f32, fn(f32, f32) -> f32) = match op {
        "ReduceMin" => (f32::INFINITY, |a, b| if a.is_nan() || b.is_nan() { f32::NAN } else { a.min(b) }),
        "ReduceMax" => (f32::NEG_INFINITY, |a, b| if a.is_nan() || b.is_nan() { f32::NAN } else { a.max(b) }),
        _ => (0.0, |a, b| a + b),
    };
    let mut out = vec![init; total];
    let xs = strides(&x.shape);
    let os = strides(&out_shape_keep);
    for (flat, &val) in v.iter().enumerate() {
        let mut rem = flat;
        let mut o = 0;
        for d in 0..rank {
            let c = rem / xs[d];
            rem %= xs[d];
            if !axes.contains(&d) {
                o += c * os[d];
            }
        }
        out[o] = f(out[o], val);
    }
    if op == "ReduceMean" {
        let n = count.max(1) as f32;
        out.iter_mut().for_each(|s| *s /= n);
    }
    let shape = if keep { out_shape_keep } else { (0..rank).filter(|d| !axes.contains(d)).map(|d| x.shape[d]).collect() };
    Ok(Tensor::f32(shape, out))
}
