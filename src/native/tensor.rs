//! The values a native graph passes between its nodes: row-major tensors of f32, i64 or bool.

#[derive(Clone, Debug)]
pub enum Data {
    F32(Vec<f32>),
    I64(Vec<i64>),
    Bool(Vec<bool>),
}

#[derive(Clone, Debug)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Data,
}

impl Tensor {
    pub fn f32(shape: Vec<usize>, data: Vec<f32>) -> Tensor {
        Tensor { shape, data: Data::F32(data) }
    }

    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn floats(&self) -> Result<&[f32], String> {
        match &self.data {
            Data::F32(v) => Ok(v),
            _ => Err("expected a float tensor".into()),
        }
    }

    pub fn ints(&self) -> Result<Vec<i64>, String> {
        match &self.data {
            Data::I64(v) => Ok(v.clone()),
            _ => Err("expected an int64 tensor".into()),
        }
    }

    /// The same values under another shape.
    pub fn reshaped(&self, shape: Vec<usize>) -> Result<Tensor, String> {
        if shape.iter().product::<usize>() != self.len() {
            return Err(format!("cannot reshape {:?} to {shape:?}", self.shape));
        }
        Ok(Tensor { shape, data: self.data.clone() })
    }

    /// Picks elements by flat index (the same order for every element type).
    pub fn pick(&self, shape: Vec<usize>, index: impl Iterator<Item = usize>) -> Tensor {
        let data = match &self.data {
            Data::F32(v) => Data::F32(index.map(|i| v[i]).collect()),
            Data::I64(v) => Data::I64(index.map(|i| v[i]).collect()),
            Data::Bool(v) => Data::Bool(index.map(|i| v[i]).collect()),
        };
        Tensor { shape, data }
    }
}

/// Row-major strides of `shape`.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// The most values one intermediate tensor may hold (1 GiB of f32): a hostile graph gets an
/// error, never an allocation that aborts the host.
pub const MAX_VALUES: usize = 1 << 28;

/// Refuses a shape over [`MAX_VALUES`] before anything is allocated for it.
pub fn check_size(shape: &[usize]) -> Result<(), String> {
    let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).unwrap_or(usize::MAX);
    if n > MAX_VALUES {
        return Err(format!("a tensor of shape {shape:?} is larger than terrapix computes natively ({MAX_VALUES} values)"));
    }
    Ok(())
}

/// The numpy broadcast of two shapes.
pub fn broadcast(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    let n = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| if i + s.len() >= n { s[i + s.len() - n] } else { 1 };
    let shape = (0..n)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            (x, y) => Err(format!("shapes {a:?} and {b:?} do not broadcast ({x} against {y})")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_size(&shape)?;
    Ok(shape)
}

/// For each flat index of `out`, the flat index into a tensor of shape `s` broadcast to it.
pub fn broadcast_index(s: &[usize], out: &[usize]) -> Vec<usize> {
    let n = out.len();
    let total: usize = out.iter().product();
    if s == out {
        return (0..total).collect();
    }
    let mut padded = vec![1; n - s.len()];
    padded.extend_from_slice(s);
    let st = strides(&padded);
    let ost = strides(out);
    (0..total)
        .map(|flat| {
            let mut rem = flat;
            let mut idx = 0;
            for d in 0..n {
                let c = rem / ost[d];
                rem %= ost[d];
                if padded[d] != 1 {
                    idx += c * st[d];
                }
            }
            idx
        })
        .collect()
}
