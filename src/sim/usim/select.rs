//! SELECT and STATUS (TS 102 221 §11.1.1–2, TS 51.011 §9.2.1).

use super::apdu::{Command, Dialect, Fail, len_byte};
use super::card::{Handled, Out, VirtualUsim, expect_p1p2};
use super::fcp::{fcp, gsm_response};
use super::files::{ADF_ALIAS, MF, NodeId, USIM_AID};
use crate::encoding::tlv;

const MF_FID: u16 = 0x3F00;

impl VirtualUsim {
    pub(crate) fn select(&mut self, cmd: &Command<'_>, dialect: Dialect) -> Handled {
        match dialect {
            Dialect::Uicc => self.select_uicc(cmd),
            Dialect::Gsm => self.select_gsm(cmd),
        }
    }

    /// 2G SELECT: by FID only, answered with 9Fxx and the TS 51.011 response.
    fn select_gsm(&mut self, cmd: &Command<'_>) -> Handled {
        expect_p1p2(cmd, 0, 0)?;
        let data = cmd.body_of(2, true)?;
        let target =
            self.by_fid(u16::from_be_bytes([data[0], data[1]]), Dialect::Gsm).ok_or(Fail::FileNotFound)?;
        self.make_current(target);
        Ok(Out::Deferred(gsm_response(&self.fs, target, &self.pin)))
    }

    /// UICC SELECT. P2 b4–b3 choose the answer: 04 (and, leniently, 00 = FCI) the FCP
    /// template through 61xx, 0C nothing.
    fn select_uicc(&mut self, cmd: &Command<'_>) -> Handled {
        let with_fcp = match cmd.p2 & 0x0C {
            0x00 | 0x04 => true,
            0x0C => false,
            _ => return Err(Fail::IncorrectP1P2),
        };
        if cmd.p1 == 0x04 {
            return self.select_aid(cmd, with_fcp);
        }
        if cmd.p2 & !0x0C != 0 {
            return Err(Fail::IncorrectP1P2);
        }
        let target = match cmd.p1 {
            0x00 => self.fid_target(cmd)?,
            0x03 => self.parent_target(cmd)?,
            0x08 => self.path_target(cmd, MF)?,
            0x09 => self.path_target(cmd, self.sel.df)?,
            _ => return Err(Fail::IncorrectP1P2),
        };
        self.make_current(target);
        Ok(Out::Deferred(if with_fcp { fcp(&self.fs, target, &self.pin) } else { Vec::new() }))
    }

    /// P1 = 00: a FID, or no data for the MF (ISO 7816-4).
    fn fid_target(&self, cmd: &Command<'_>) -> Result<NodeId, Fail> {
        match cmd.body(true)? {
            [] => Ok(MF),
            [hi, lo] => self.by_fid(u16::from_be_bytes([*hi, *lo]), Dialect::Uicc).ok_or(Fail::FileNotFound),
            _ => Err(Fail::WrongLength),
        }
    }

    /// P1 = 03: the parent of the current DF; the MF has none.
    fn parent_target(&self, cmd: &Command<'_>) -> Result<NodeId, Fail> {
        if !cmd.body(true)?.is_empty() {
            return Err(Fail::WrongLength);
        }
        if self.sel.df == MF {
            return Err(Fail::FileNotFound);
        }
        Ok(self.fs.node(self.sel.df).parent)
    }

    /// P1 = 08 (from the MF, whose own FID may be left out or given) or 09 (from the current DF):
    /// a chain of FIDs, each but the last a DF. 7FFF at the start stands for the active ADF.
    fn path_target(&self, cmd: &Command<'_>, start: NodeId) -> Result<NodeId, Fail> {
        let path = cmd.body(true)?;
        if path.is_empty() || path.len() % 2 != 0 {
            return Err(Fail::WrongLength);
        }
        let mut fids: Vec<u16> = path.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect();
        if start == MF && fids.len() > 1 && fids[0] == MF_FID {
            fids.remove(0);
        }
        let mut at = start;
        for (i, fid) in fids.into_iter().enumerate() {
            if !self.fs.node(at).is_dir() {
                return Err(Fail::FileNotFound);
            }
            at = if i == 0 && at == MF && fid == ADF_ALIAS && self.sel.app_active {
                self.fs.adf()
            } else if i == 0 && start == MF && fid == MF_FID {
                MF
            } else {
                self.fs.child(at, fid).ok_or(Fail::FileNotFound)?
            };
        }
        Ok(at)
    }

    /// P1 = 04: ADF.USIM by its full AID or a right-truncated one of at least the RID (5 bytes).
    /// P2 b2–b1 = 00/01 (first/last occurrence) find it, 02/03 (next/previous) find nothing
    /// else; P2 b7 = 1 (4C) terminates the application.
    fn select_aid(&mut self, cmd: &Command<'_>, with_fcp: bool) -> Handled {
        let aid = cmd.body(true)?;
        let terminate = match cmd.p2 & 0xF0 {
            0x00 => false,
            0x40 => true,
            _ => return Err(Fail::IncorrectP1P2),
        };
        let matches = aid.len() >= 5 && USIM_AID.starts_with(aid);
        if !matches || cmd.p2 & 0x03 >= 0x02 {
            return Err(Fail::FileNotFound);
        }
        if terminate {
            self.sel = Default::default();
            return Ok(Out::Deferred(Vec::new()));
        }
        let adf = self.fs.adf();
        self.sel.app_active = true;
        self.make_current(adf);
        Ok(Out::Deferred(if with_fcp { fcp(&self.fs, adf, &self.pin) } else { Vec::new() }))
    }

    /// Which file a FID names from the current DF (TS 102 221 §8.4; TS 51.011 has the same rules): the MF,
    /// the active ADF (7FFF, UICC only), the current DF, its children, its parent, and the
    /// parent's other DFs.
    fn by_fid(&self, fid: u16, dialect: Dialect) -> Option<NodeId> {
        let df = self.sel.df;
        let adf = self.fs.adf();
        if fid == MF_FID {
            return Some(MF);
        }
        if fid == ADF_ALIAS {
            // The ADF is no file of the 2G SIM.
            return (dialect == Dialect::Uicc && self.sel.app_active).then_some(adf);
        }
        if self.fs.node(df).fid == fid {
            return Some(df);
        }
        if let Some(child) = self.fs.child(df, fid) {
            return Some(child);
        }
        if df == MF {
            return None;
        }
        let parent = self.fs.node(df).parent;
        if self.fs.node(parent).fid == fid {
            return Some(parent);
        }
        self.fs.child(parent, fid).filter(|&sibling| self.fs.node(sibling).is_dir())
    }

    /// Makes `target` current: a DF becomes the current DF, an EF the current EF in its DF.
    pub(crate) fn make_current(&mut self, target: NodeId) {
        let node = self.fs.node(target);
        if node.is_dir() {
            self.sel.df = target;
            self.sel.ef = None;
        } else {
            self.sel.df = node.parent;
            self.sel.ef = Some(target);
        }
        self.sel.record = None;
    }

    /// STATUS: the current DF's FCP (P2 = 00), the active application's name (01) or nothing
    /// (0C). Modems poll it; P1 (application status indication) is accepted and ignored.
    pub(crate) fn status(&mut self, cmd: &Command<'_>, dialect: Dialect) -> Handled {
        let le = cmd.le()?;
        if dialect == Dialect::Gsm {
            expect_p1p2(cmd, 0, 0)?;
            return leading(gsm_response(&self.fs, self.sel.df, &self.pin), le);
        }
        if cmd.p1 > 0x02 {
            return Err(Fail::WrongP1P2);
        }
        let data = match cmd.p2 {
            0x00 => fcp(&self.fs, self.sel.df, &self.pin),
            0x01 if self.sel.app_active => tlv(0x84, &USIM_AID),
            0x01 => return Err(Fail::ReferenceNotFound),
            0x0C => return Ok(Out::Data(Vec::new())),
            _ => return Err(Fail::WrongP1P2),
        };
        exact(data, le)
    }
}

/// Case 2 answer of known length under T=0: Le must match (or be 0 for "all").
pub(crate) fn exact(data: Vec<u8>, le: u8) -> Handled {
    if le == 0 || usize::from(le) == data.len() {
        Ok(Out::Data(data))
    } else {
        Err(Fail::WrongLe(len_byte(data.len())))
    }
}

/// 2G answer that may be read in part: the first Le bytes (all when Le = 0).
fn leading(mut data: Vec<u8>, le: u8) -> Handled {
    match usize::from(le) {
        0 => Ok(Out::Data(data)),
        n if n <= data.len() => {
            data.truncate(n);
            Ok(Out::Data(data))
        }
        _ => Err(Fail::WrongLe(len_byte(data.len()))),
    }
}
