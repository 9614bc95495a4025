//! The progress protocol of long runs: one type for what a run reports as it goes. The command
//! line writes each event as one JSON line (`--progress-json`, read by the QGIS plugin and the
//! Python package through one parser, `_capi.progress_event`); the C ABI hands its words to the
//! host's callback; the command line's bars show its counts.

use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;

/// One step of a long run, e.g. `{"event": "fold", "done": 2, "total": 5, "metrics": {"rmse": 0.4}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// A cross-validation fold was fitted and scored (training, bias correction, gap filling).
    Fold { done: usize, total: usize, metrics: Metrics },
    /// A pretraining epoch ended (`metrics.loss`: its NT-Xent loss).
    Epoch { done: usize, total: usize, metrics: Metrics },
    /// A stage of a run began ("training the gap filler", "predicting 1461 dates"); an empty
    /// `what` only says the run goes on (a chance to stop it), and is shown to nobody.
    Stage { what: String },
    /// Counted work within a stage: `done` of `total` `what` (tiles, strips, locations).
    Step { what: String, done: usize, total: usize },
}

impl Event {
    /// The event as one line of JSON (the `--progress-json` protocol).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// How far the run is, 0 to 1, when the event says (folds leave a share for the final model).
    pub fn fraction(&self) -> Option<f64> {
        match self {
            Event::Fold { done, total, .. } => Some(*done as f64 / (*total + 1) as f64),
            Event::Epoch { done, total, .. } => Some(*done as f64 / (*total).max(1) as f64),
            Event::Step { done, total, .. } => Some(*done as f64 / (*total).max(1) as f64),
            Event::Stage { .. } => None,
        }
    }

    /// The event in words, for a log or a progress bar's message.
    pub fn words(&self) -> String {
        match self {
            Event::Fold { done, total, metrics } => {
                format!("fold {done}/{total}: RMSE {:.4}, R² {:.3}", metrics["rmse"], metrics["r2"])
            }
            Event::Epoch { done, total, metrics } => format!("epoch {done}/{total}: NT-Xent {:.4}", metrics["loss"]),
            Event::Stage { what } => what.clone(),
            Event::Step { what, done, total } => format!("{done}/{total} {what}"),
        }
    }
}

/// Where a run sends its events; returning false asks it to stop (it then returns its
/// "cancelled" error and writes nothing).
pub type Progress<'a> = dyn FnMut(&Event) -> bool + 'a;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_the_json_lines_hosts_read() {
        let e = Event::Fold { done: 2, total: 5, metrics: [("rmse".to_string(), 0.5)].into_iter().collect() };
        assert_eq!(e.to_line(), r#"{"event":"fold","done":2,"total":5,"metrics":{"rmse":0.5}}"#);
        assert_eq!(serde_json::from_str::<Event>(&e.to_line()).unwrap(), e);
        assert_eq!(e.words(), "fold 2/5: RMSE 0.5000, R² NaN");
    }
}
