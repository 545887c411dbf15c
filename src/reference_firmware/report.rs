//! The exchange with the backend through the winning seed (docs/method.md §5): the report of
//! location and radio conditions out, the VSIM assignment back.

use serde::{Deserialize, Serialize};

use super::measure::MeasuredCell;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub iccid: &'a str,
    pub imsi: &'a str,
    /// Of the network the seed registered on.
    pub mcc: &'a str,
    /// The site's label from the config.
    pub site: &'a str,
    pub site_cells: &'a [MeasuredCell],
    pub rats: Vec<&'static str>,
}

impl Report<'_> {
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("reports serialize")
    }
}

/// What the backend answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Vsim {
        iccid: String,
        imsi: String,
        plmn: String,
    },
    /// The backend got the report but would not assign: `{"type":"error","reason":…}`.
    Refused(String),
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Wire {
    Vsim {
        iccid: String,
        imsi: String,
        #[serde(default)]
        plmn: String,
    },
    Error {
        reason: String,
    },
}

/// `Ok(None)`: not a whole JSON value yet (the answer may come in more than one piece).
pub fn parse_answer(bytes: &[u8]) -> Result<Option<Answer>, String> {
    match serde_json::from_slice::<Wire>(bytes) {
        Ok(Wire::Vsim { iccid, imsi, plmn }) => Ok(Some(Answer::Vsim { iccid, imsi, plmn })),
        Ok(Wire::Error { reason }) => Ok(Some(Answer::Refused(reason))),
        Err(e) if e.is_eof() => Ok(None),
        Err(e) => Err(format!("the backend's answer is not a VSIM assignment: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Rat;

    #[test]
    fn the_report_has_the_contracts_fields() {
        let cells = [MeasuredCell { plmn: "26201".into(), rat: Rat::Lte, dbm: -71.0 }];
        let r = Report {
            kind: "report",
            iccid: "8949",
            imsi: "262011234567890",
            mcc: "262",
            site: "frankfurt-airport",
            site_cells: &cells,
            rats: vec!["lte", "nr"],
        };
        assert_eq!(
            String::from_utf8(r.to_bytes()).unwrap(),
            r#"{"type":"report","iccid":"8949","imsi":"262011234567890","mcc":"262","site":"frankfurt-airport","site_cells":[{"plmn":"26201","rat":"lte","dbm":-71}],"rats":["lte","nr"]}"#
        );
    }

    #[test]
    fn answers() {
        let vsim = br#"{"type":"vsim","iccid":"8949000","imsi":"26201999","plmn":"26201"}"#;
        assert_eq!(
            parse_answer(vsim),
            Ok(Some(Answer::Vsim { iccid: "8949000".into(), imsi: "26201999".into(), plmn: "26201".into() }))
        );
        assert_eq!(parse_answer(&vsim[..20]), Ok(None));
        assert_eq!(
            parse_answer(br#"{"type":"error","reason":"no mcc"}"#),
            Ok(Some(Answer::Refused("no mcc".into())))
        );
        assert!(parse_answer(b"HTTP/1.1 400").is_err());
    }
}
