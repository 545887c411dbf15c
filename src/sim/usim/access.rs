//! READ/UPDATE BINARY and READ/UPDATE RECORD (TS 102 221 §11.1.3–6, TS 51.011 §9.2.3–6).
//!
//! Checks run in the order a card runs them: is an EF selected, does the command fit its
//! structure, is access allowed, are the parameters inside the file.

use super::apdu::{Command, Dialect, Fail, len_byte};
use super::card::{Handled, Out, VirtualUsim};
use super::files::{Access, Ef, NodeId, Structure};
use super::select::exact;

#[derive(Clone, Copy)]
enum Op {
    Read,
    Update,
}

/// READ/UPDATE RECORD modes (P2 b3–b1).
const NEXT: u8 = 0x02;
const PREVIOUS: u8 = 0x03;
const ABSOLUTE: u8 = 0x04;

impl VirtualUsim {
    /// READ BINARY. Le = 0 reads to the end of the file (at most 256 bytes); an Le beyond the
    /// end is answered with the length that is left (6Cxx; 2G: out of range).
    pub(crate) fn read_binary(&mut self, cmd: &Command<'_>, dialect: Dialect) -> Handled {
        let le = cmd.le()?;
        let (sfi, offset) = binary_address(cmd, dialect)?;
        let (_, ef) = self.checked_ef(sfi, Op::Read, false)?;
        let content = self.fs.content(&ef);
        let remaining = content.len().checked_sub(offset).filter(|&n| n > 0).ok_or(Fail::OutOfRange)?;
        let count = match usize::from(le) {
            0 => remaining.min(256),
            n if n <= remaining => n,
            _ if dialect == Dialect::Gsm => return Err(Fail::Overflow),
            _ => return Err(Fail::WrongLe(len_byte(remaining))),
        };
        Ok(Out::Data(content[offset..offset + count].to_vec()))
    }

    /// UPDATE BINARY: the data must lie inside the file.
    pub(crate) fn update_binary(&mut self, cmd: &Command<'_>, dialect: Dialect) -> Handled {
        let data = cmd.body(false)?;
        if data.is_empty() {
            return Err(Fail::WrongLength);
        }
        let (sfi, offset) = binary_address(cmd, dialect)?;
        let (id, _) = self.checked_ef(sfi, Op::Update, false)?;
        let content = self.fs.content_mut(id).ok_or(Fail::Technical)?;
        if offset >= content.len() {
            return Err(Fail::OutOfRange);
        }
        let end = offset + data.len();
        let target = content.get_mut(offset..end).ok_or(Fail::Overflow)?;
        target.copy_from_slice(data);
        Ok(Out::Data(Vec::new()))
    }

    /// READ RECORD: a whole record; Le must be its length or 0.
    pub(crate) fn read_record(&mut self, cmd: &Command<'_>, dialect: Dialect) -> Handled {
        let le = cmd.le()?;
        let (sfi, mode) = record_address(cmd, dialect)?;
        let (_, ef) = self.checked_ef(sfi, Op::Read, true)?;
        let rec_len = record_length(&ef);
        let count = self.fs.content(&ef).len() / rec_len.max(1);
        let number = self.record_number(cmd.p1, mode, count)?;
        let start = (number - 1) * rec_len;
        let record = self.fs.content(&ef)[start..start + rec_len].to_vec();
        let answer = exact(record, le)?;
        self.sel.record = Some(number);
        Ok(answer)
    }

    /// UPDATE RECORD: replaces a whole record; the data must be exactly one record long.
    pub(crate) fn update_record(&mut self, cmd: &Command<'_>, dialect: Dialect) -> Handled {
        let data = cmd.body(false)?;
        let (sfi, mode) = record_address(cmd, dialect)?;
        let (id, ef) = self.checked_ef(sfi, Op::Update, true)?;
        let rec_len = record_length(&ef);
        if data.len() != rec_len {
            return Err(Fail::WrongLength);
        }
        let count = self.fs.content(&ef).len() / rec_len.max(1);
        let number = self.record_number(cmd.p1, mode, count)?;
        let start = (number - 1) * rec_len;
        let content = self.fs.content_mut(id).ok_or(Fail::Technical)?;
        content[start..start + rec_len].copy_from_slice(data);
        self.sel.record = Some(number);
        Ok(Out::Data(Vec::new()))
    }

    /// The EF a command works on (by SFI, or the current one), checked for structure and access.
    fn checked_ef(&mut self, sfi: Option<u8>, op: Op, records: bool) -> Result<(NodeId, Ef), Fail> {
        let id = match sfi {
            Some(sfi) => self.select_by_sfi(sfi)?,
            None => self.sel.ef.ok_or(Fail::NoEfSelected)?,
        };
        let ef = self.fs.node(id).ef().cloned().ok_or(Fail::NoEfSelected)?;
        let is_records = matches!(ef.structure, Structure::LinearFixed { .. });
        if is_records != records {
            return Err(Fail::Incompatible);
        }
        let access = match op {
            Op::Read => ef.rule.read,
            Op::Update => ef.rule.update,
        };
        self.check_access(access)?;
        Ok((id, ef))
    }

    pub(crate) fn check_access(&self, access: Access) -> Result<(), Fail> {
        match access {
            Access::Always => Ok(()),
            Access::Pin1 if self.pin.satisfied() => Ok(()),
            Access::Pin1 | Access::Adm => Err(Fail::SecurityNotSatisfied),
        }
    }

    /// Referencing an EF by SFI makes it the current EF (TS 102 221 §8.4).
    fn select_by_sfi(&mut self, sfi: u8) -> Result<NodeId, Fail> {
        let id = self.fs.child_by_sfi(self.sel.df, sfi).ok_or(Fail::FileNotFound)?;
        if self.sel.ef != Some(id) {
            self.make_current(id);
        }
        Ok(id)
    }

    /// The 1-based record a READ/UPDATE RECORD addresses; P1 = 0 in absolute mode is the current
    /// record. Linear fixed files do not wrap around.
    fn record_number(&self, p1: u8, mode: u8, count: usize) -> Result<usize, Fail> {
        let current = self.sel.record;
        let number = match mode {
            ABSOLUTE if p1 == 0 => current,
            ABSOLUTE => Some(usize::from(p1)),
            NEXT | PREVIOUS if p1 != 0 => return Err(Fail::WrongP1P2),
            NEXT => Some(current.map_or(1, |c| c + 1)),
            PREVIOUS => current.map_or(Some(count), |c| c.checked_sub(1)),
            _ => return Err(Fail::WrongP1P2),
        };
        number.filter(|n| (1..=count).contains(n)).ok_or(Fail::RecordNotFound)
    }
}

fn record_length(ef: &Ef) -> usize {
    match ef.structure {
        Structure::LinearFixed { rec_len } => rec_len,
        Structure::Transparent => 0,
    }
}

/// READ/UPDATE BINARY addressing: a 15-bit offset in P1–P2, or (UICC only) P1 = 100x xxxx with
/// an SFI and an 8-bit offset in P2.
fn binary_address(cmd: &Command<'_>, dialect: Dialect) -> Result<(Option<u8>, usize), Fail> {
    if dialect == Dialect::Uicc && cmd.p1 & 0x80 != 0 {
        let sfi = cmd.p1 & 0x1F;
        if cmd.p1 & 0x60 != 0 || sfi == 0 || sfi == 0x1F {
            return Err(Fail::WrongP1P2);
        }
        return Ok((Some(sfi), usize::from(cmd.p2)));
    }
    Ok((None, usize::from(u16::from_be_bytes([cmd.p1, cmd.p2]))))
}

/// READ/UPDATE RECORD addressing: P2 = SFI (b8–b4, 0 = current EF; UICC only) and mode (b3–b1).
fn record_address(cmd: &Command<'_>, dialect: Dialect) -> Result<(Option<u8>, u8), Fail> {
    let (sfi, mode) = match dialect {
        Dialect::Uicc => (cmd.p2 >> 3, cmd.p2 & 0x07),
        Dialect::Gsm => (0, cmd.p2),
    };
    match sfi {
        0 => Ok((None, mode)),
        0x1F => Err(Fail::WrongP1P2),
        sfi => Ok((Some(sfi), mode)),
    }
}
