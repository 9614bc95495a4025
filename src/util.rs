//! Small helpers shared by the layers.

use std::sync::RwLock;

/// Where warnings go: stderr by default; a host installs its own (the GDAL plugin sends them
/// to CPLError as warnings).
static WARN: RwLock<Option<fn(&str)>> = RwLock::new(None);

/// Reports something the user should know that does not stop the run.
pub fn warn(msg: &str) {
    match *WARN.read().unwrap_or_else(|p| p.into_inner()) {
        Some(f) => f(msg),
        None => {
            use std::io::Write;
            // Never a panic: stderr may be closed or full.
            let _ = writeln!(std::io::stderr().lock(), "terrapix: warning: {msg}");
        }
    }
}

/// Sends warnings to `f` instead of stderr.
pub fn set_warning_sink(f: fn(&str)) {
    *WARN.write().unwrap_or_else(|p| p.into_inner()) = Some(f);
}

/// Peak resident memory of this process in bytes (Linux VmHWM), if known.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The field names of a serde struct (what its `Deserialize` asks for), so that a JSON object
/// assembled from several flattened structs can still refuse keys none of them knows.
pub fn field_names<'de, T: serde::Deserialize<'de>>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("field probe")
        }
    }
    impl std::error::Error for Stop {}
    impl serde::de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    impl<'de> serde::Deserializer<'de> for Probe<'_> {
        type Error = Stop;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            *self.0 = fields;
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit unit_struct
            newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

/// Parses a JSON object, refusing any key that none of `known` (field lists, see
/// [`field_names`]) names: serde's `deny_unknown_fields` does not work through `flatten`, and
/// one options object carries several option sets.
pub fn json_object(text: &str, known: &[&[&str]]) -> Result<serde_json::Value, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    refuse_duplicate_keys(text)?;
    let Some(object) = value.as_object() else { return Err("expected a JSON object".into()) };
    let mut allowed: Vec<&str> = known.iter().flat_map(|k| k.iter().copied()).collect();
    allowed.sort_unstable();
    for key in object.keys() {
        if allowed.binary_search(&key.as_str()).is_err() {
            return Err(format!("unknown option '{key}' (known: {})", allowed.join(", ")));
        }
    }
    Ok(value)
}

/// Refuses a JSON text in which an object names a key twice (serde_json keeps the last one
/// silently, so `{"model": "a.onnx", "model": "b.onnx"}` would run b without a word).
pub fn refuse_duplicate_keys(text: &str) -> Result<(), String> {
    use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
    struct Unique;
    impl<'de> serde::Deserialize<'de> for Unique {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Unique, D::Error> {
            d.deserialize_any(UniqueVisitor)
        }
    }
    struct UniqueVisitor;
    impl<'de> Visitor<'de> for UniqueVisitor {
        type Value = Unique;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, _: bool) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_str<E>(self, _: &str) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_unit<E>(self) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Unique, A::Error> {
            while seq.next_element::<Unique>()?.is_some() {}
            Ok(Unique)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unique, A::Error> {
            let mut seen = std::collections::HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                if !seen.insert(key.clone()) {
                    return Err(serde::de::Error::custom(format!("the key '{key}' appears twice")));
                }
                map.next_value::<Unique>()?;
            }
            Ok(Unique)
        }
    }
    serde_json::from_str::<Unique>(text).map(|_| ()).map_err(|e| e.to_string())
}
