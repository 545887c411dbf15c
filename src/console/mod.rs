//! The DUT console protocol: what a failover firmware prints on its console, one JSON object
//! per line (every one with `event` and `t_ms`), and what the rig reads back from it.
//!
//! The reference firmware writes these events; the runner reads them, either as JSON lines
//! (the default) or from a firmware's own log lines through a lab bench's event patterns
//! ([`reader`]). Both sides use these types, so neither can drift from the other.

pub mod reader;

use serde::{Deserialize, Serialize};

use crate::model::{Rat, Weights};

/// One line of the console, as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stamped {
    /// Nominal milliseconds since the firmware booted (the rig stamps each line with its own
    /// clock, so it does not read this).
    #[serde(default)]
    pub t_ms: u64,
    #[serde(flatten)]
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Boot {
        /// The `--fault` mode, when the build is a self-test.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fault: Option<String>,
    },
    Measure {
        cells: Vec<MeasuredCell>,
    },
    Rank {
        order: Vec<RankEntry>,
    },
    // The rig reads only `slot` here; the other fields are for people and may be left out.
    Attempt {
        slot: u8,
        #[serde(default)]
        iccid: String,
        #[serde(default)]
        role: Role,
        /// The standby's evaluation index; `null` for the master, which is not ranked.
        #[serde(default)]
        index: Option<f64>,
        /// Attempts of pass 1 are the attempt order (default 1).
        #[serde(default = "first_pass")]
        pass: u32,
    },
    // The rig reads `slot`, `explicit` and `reason`.
    Judged {
        slot: u8,
        #[serde(default)]
        iccid: String,
        #[serde(default)]
        ok: bool,
        reason: String,
        explicit: bool,
    },
    // The rig reads only `slot`.
    Connected {
        slot: u8,
        #[serde(default)]
        iccid: String,
        #[serde(default)]
        imsi: String,
        /// Numeric, from `AT+COPS?` (`null` if the modem did not say).
        #[serde(default)]
        plmn: Option<String>,
        #[serde(default)]
        rat: Option<String>,
    },
    ReportSent {
        slot: u8,
        #[serde(default)]
        iccid: String,
        #[serde(default)]
        bytes: usize,
    },
    VsimAssigned {
        slot: u8,
        #[serde(default)]
        vsim_iccid: String,
        #[serde(default)]
        vsim_imsi: String,
    },
    Exhausted {
        #[serde(default = "first_pass")]
        pass: u32,
    },
    Status(Status),
    Error {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankEntry {
    pub slot: u8,
    pub iccid: String,
    #[serde(serialize_with = "ser::compact")]
    pub signal_dbm: f64,
    pub tariff: Option<f64>,
    pub a1: f64,
    pub b1: f64,
    pub index: f64,
}

fn first_pass() -> u32 {
    1
}

/// The answer to `status`. The rig reads only that it came (and `state`, for people); every
/// other field may be left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// `boot`, `measuring`, `attempting`, `connected`, `exhausted` or `backoff`.
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub pass: u32,
    /// The seed being tried, or the winner.
    #[serde(default)]
    pub slot: Option<u8>,
    #[serde(default)]
    pub iccid: Option<String>,
    /// What the current attempt waits for.
    #[serde(default)]
    pub step: Option<String>,
    #[serde(default)]
    pub weights: Option<WeightsJson>,
    #[serde(default)]
    pub judgement: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WeightsJson {
    pub signal: f64,
    pub tariff: f64,
}

impl From<Weights> for WeightsJson {
    fn from(w: Weights) -> Self {
        WeightsJson { signal: w.signal, tariff: w.tariff }
    }
}

/// Serde helpers for the console and report JSON.
pub mod ser {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::model::Rat;

    /// Whole numbers without a fraction (`-71`, as the modem printed them).
    pub fn compact<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.fract() == 0.0 && v.abs() < 1e15 { s.serialize_i64(*v as i64) } else { s.serialize_f64(*v) }
    }

    pub fn rat<S: Serializer>(r: &Rat, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(r.name())
    }

    pub fn de_rat<'de, D: Deserializer<'de>>(d: D) -> Result<Rat, D::Error> {
        let name = String::deserialize(d)?;
        Rat::parse(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown RAT \"{name}\"")))
    }
}

/// Whether a seed is the master or a standby.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Master,
    #[default]
    Standby,
}

/// One cell as the firmware measured it.
/// One heard cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasuredCell {
    /// Numeric PLMN, e.g. `"26201"`.
    pub plmn: String,
    #[serde(serialize_with = "ser::rat", deserialize_with = "ser::de_rat")]
    pub rat: Rat,
    #[serde(serialize_with = "ser::compact")]
    pub dbm: f64,
}
