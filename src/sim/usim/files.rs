//! The card's file system: MF, ADF.USIM, DF_TELECOM, DF_GSM and their EFs, with contents
//! derived from the seed (TS 102 221 §13, TS 31.102 §4, TS 51.011 §10).
//!
//! Contents live apart from the tree so that two EFs can share one content, as the 2G view in
//! DF_GSM shares EF_IMSI, EF_LOCI and others with ADF.USIM on a real dual-mode card: a modem that
//! updates LOCI through one path reads the update back through the other. DF_TELECOM's
//! EF_MSISDN and EF_SMSP are likewise the ADF's.
//!
//! The card carries every EF that TS 31.102 §4.2 makes mandatory and the optional ones a
//! commercial USIM commonly has, so that general-purpose SIM readers walk it without a 6A82;
//! EF_UST and EF_SST announce exactly the services whose files exist (see [`UST_SERVICES`],
//! [`SST_SERVICES`]). docs/virtual-bench.md lists the files.

use super::names::{PNN_RECORD, pnn_record, spn_bytes};
use super::numbers::{DIALLING_RECORD, SMSP_RECORD, dialling_record, msisdn, service_centre, smsp_record};
use crate::encoding::{bcd, tlv};
use crate::model::Rat;

pub(crate) type NodeId = usize;
type DataId = usize;

/// The MF is always the first node.
pub(crate) const MF: NodeId = 0;

/// AID of ADF.USIM: the 3GPP RID and USIM application code, then a sysmocom-style tail.
pub(crate) const USIM_AID: [u8; 16] =
    [0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x07, 0x09, 0x00, 0x00];

/// FID by which the active application's ADF can be selected (TS 102 221 §8).
pub(crate) const ADF_ALIAS: u16 = 0x7FFF;

/// FIDs of the access rule files, in the MF and in ADF.USIM.
pub(crate) const ARR_MF: u16 = 0x2F06;
pub(crate) const ARR_ADF: u16 = 0x6F06;

/// Who may perform an access. There is no way to present ADM here, so ADM-protected
/// operations always fail with "security status not satisfied", as they do for a modem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Always,
    Pin1,
    Adm,
}

/// A file's read and update conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rule {
    pub read: Access,
    pub update: Access,
}

/// The rules in use, in the order of their records in EF_ARR (record n = RULES[n - 1]).
pub(crate) const RULES: [Rule; 4] = [
    Rule { read: Access::Always, update: Access::Adm },
    Rule { read: Access::Pin1, update: Access::Adm },
    Rule { read: Access::Pin1, update: Access::Pin1 },
    Rule { read: Access::Always, update: Access::Pin1 },
];
const ALW_ADM: Rule = RULES[0];
const PIN_ADM: Rule = RULES[1];
const PIN_PIN: Rule = RULES[2];

/// The EF_ARR record that states `rule`.
pub(crate) fn arr_record(rule: Rule) -> u8 {
    let index = RULES.iter().position(|r| *r == rule).unwrap_or(0);
    u8::try_from(index + 1).unwrap_or(1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Structure {
    Transparent,
    LinearFixed { rec_len: usize },
}

#[derive(Debug, Clone)]
pub(crate) struct Ef {
    pub structure: Structure,
    pub rule: Rule,
    pub sfi: Option<u8>,
    data: DataId,
}

#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// The MF, a DF or an ADF (which carries its AID).
    Dir {
        aid: Option<Vec<u8>>,
        children: Vec<NodeId>,
    },
    Ef(Ef),
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub fid: u16,
    pub parent: NodeId,
    pub body: Body,
}

impl Node {
    pub(crate) fn is_dir(&self) -> bool {
        matches!(self.body, Body::Dir { .. })
    }

    pub(crate) fn ef(&self) -> Option<&Ef> {
        match &self.body {
            Body::Ef(ef) => Some(ef),
            Body::Dir { .. } => None,
        }
    }

    pub(crate) fn children(&self) -> &[NodeId] {
        match &self.body {
            Body::Dir { children, .. } => children,
            Body::Ef(_) => &[],
        }
    }
}

/// What the card's contents are made from.
pub(crate) struct Profile<'a> {
    pub iccid: &'a str,
    pub imsi: &'a str,
    /// 2 or 3: how many IMSI digits after the MCC are the MNC.
    pub mnc_len: u8,
    pub rats: &'a [Rat],
    /// The home carrier's display name, for EF_SPN and EF_PNN: the carrier fixture's `name`
    /// (or, from the constructors that are not given it, the seed's home carrier id).
    pub carrier_name: &'a str,
}

#[derive(Debug, Clone)]
pub(crate) struct FileSystem {
    nodes: Vec<Node>,
    contents: Vec<Vec<u8>>,
    adf: NodeId,
}

impl FileSystem {
    pub(crate) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    pub(crate) fn adf(&self) -> NodeId {
        self.adf
    }

    pub(crate) fn content(&self, ef: &Ef) -> &[u8] {
        &self.contents[ef.data]
    }

    pub(crate) fn content_mut(&mut self, id: NodeId) -> Option<&mut Vec<u8>> {
        let data = self.nodes[id].ef()?.data;
        self.contents.get_mut(data)
    }

    /// The child of directory `dir` with FID `fid`.
    pub(crate) fn child(&self, dir: NodeId, fid: u16) -> Option<NodeId> {
        self.nodes[dir].children().iter().copied().find(|&c| self.nodes[c].fid == fid)
    }

    /// The EF of directory `dir` with short file identifier `sfi`.
    pub(crate) fn child_by_sfi(&self, dir: NodeId, sfi: u8) -> Option<NodeId> {
        let has_sfi = |c: &NodeId| self.nodes[*c].ef().is_some_and(|ef| ef.sfi == Some(sfi));
        self.nodes[dir].children().iter().copied().find(has_sfi)
    }

    /// Whether `id` is ADF.USIM or lies below it (its access rules are in the ADF's EF_ARR).
    pub(crate) fn in_adf(&self, mut id: NodeId) -> bool {
        loop {
            if id == self.adf {
                return true;
            }
            if id == MF {
                return false;
            }
            id = self.nodes[id].parent;
        }
    }

    /// Builds the card's tree for one seed.
    pub(crate) fn build(profile: &Profile<'_>) -> FileSystem {
        let mut b = Builder { fs: FileSystem { nodes: Vec::new(), contents: Vec::new(), adf: MF } };
        b.fs.nodes.push(Node {
            fid: 0x3F00,
            parent: MF,
            body: Body::Dir { aid: None, children: Vec::new() },
        });
        b.mf_files(profile);
        let adf = b.dir(MF, ADF_ALIAS, Some(USIM_AID.to_vec()), false);
        b.fs.adf = adf;
        let shared = b.adf_files(adf, profile);
        let telecom = b.dir(MF, 0x7F10, None, true);
        b.telecom_files(telecom, &shared);
        let gsm = b.dir(MF, 0x7F20, None, true);
        b.gsm_files(gsm, &shared);
        b.fs
    }
}

/// Contents that ADF.USIM shares with DF_GSM and DF_TELECOM.
struct Shared {
    imsi: DataId,
    ad: DataId,
    loci: DataId,
    spn: DataId,
    acc: DataId,
    fplmn: DataId,
    hpplmn: DataId,
    plmn_act: DataId,
    msisdn: DataId,
    smsp: DataId,
}

struct Builder {
    fs: FileSystem,
}

impl Builder {
    /// Adds a directory; `listed` is false for the ADF, which is reached by AID, not by FID.
    fn dir(&mut self, parent: NodeId, fid: u16, aid: Option<Vec<u8>>, listed: bool) -> NodeId {
        self.push(parent, fid, Body::Dir { aid, children: Vec::new() }, listed)
    }

    /// Adds a node under `parent`; an unlisted node knows its parent but is not its child.
    fn push(&mut self, parent: NodeId, fid: u16, body: Body, listed: bool) -> NodeId {
        let id = self.fs.nodes.len();
        self.fs.nodes.push(Node { fid, parent, body });
        if listed && let Body::Dir { children, .. } = &mut self.fs.nodes[parent].body {
            children.push(id);
        }
        id
    }

    fn data(&mut self, bytes: Vec<u8>) -> DataId {
        self.fs.contents.push(bytes);
        self.fs.contents.len() - 1
    }

    /// A transparent EF with its own content; returns the content for sharing.
    fn transparent(&mut self, dir: NodeId, fid: u16, sfi: Option<u8>, rule: Rule, bytes: Vec<u8>) -> DataId {
        let data = self.data(bytes);
        self.link(dir, fid, sfi, rule, Structure::Transparent, data);
        data
    }

    /// A linear fixed EF from its records, each padded with FF to `rec_len`; returns the
    /// content for sharing.
    fn records(
        &mut self,
        dir: NodeId,
        fid: u16,
        sfi: Option<u8>,
        rule: Rule,
        rec_len: usize,
        recs: &[&[u8]],
    ) -> DataId {
        let mut bytes = Vec::with_capacity(rec_len * recs.len());
        for rec in recs {
            bytes.extend(pad(rec, rec_len));
        }
        let data = self.data(bytes);
        self.link(dir, fid, sfi, rule, Structure::LinearFixed { rec_len }, data);
        data
    }

    /// An EF over an existing content.
    fn link(
        &mut self,
        dir: NodeId,
        fid: u16,
        sfi: Option<u8>,
        rule: Rule,
        structure: Structure,
        data: DataId,
    ) {
        self.push(dir, fid, Body::Ef(Ef { structure, rule, sfi, data }), true);
    }

    /// TS 102 221 §13: EF_DIR, EF_ICCID, EF_PL, EF_ARR, EF_UMPC.
    fn mf_files(&mut self, p: &Profile<'_>) {
        self.records(MF, 0x2F00, Some(0x1E), ALW_ADM, 32, &[&dir_record()]);
        self.transparent(MF, 0x2FE2, Some(0x02), ALW_ADM, iccid_bytes(p.iccid));
        self.transparent(MF, 0x2F05, Some(0x05), RULES[3], pad(b"en", 10));
        self.arr(MF, ARR_MF, Some(0x06));
        self.transparent(MF, 0x2F08, Some(0x08), ALW_ADM, UMPC.to_vec());
    }

    /// TS 31.102 §4.2: the mandatory files, the ones a modem reads while attaching, and the
    /// optional ones of [`UST_SERVICES`].
    fn adf_files(&mut self, adf: NodeId, p: &Profile<'_>) -> Shared {
        let home = home_plmn(p.imsi, p.mnc_len);
        self.transparent(adf, 0x6F05, Some(0x02), ALW_ADM, pad(b"en", 4));
        let imsi = self.transparent(adf, 0x6F07, Some(0x07), PIN_ADM, imsi_bytes(p.imsi));
        self.transparent(adf, 0x6F08, Some(0x08), PIN_PIN, no_keys());
        self.transparent(adf, 0x6F09, Some(0x09), PIN_PIN, no_keys());
        let plmn_act = self.transparent(adf, 0x6F60, Some(0x0A), PIN_PIN, plmn_act_list(&[], 8));
        let hpplmn = self.transparent(adf, 0x6F31, Some(0x12), PIN_ADM, vec![0x00]);
        self.transparent(adf, 0x6F38, Some(0x04), PIN_ADM, service_table(UST_SERVICES));
        // Group identifiers: none (all FF), as on a card of no particular group or MVNO.
        self.transparent(adf, 0x6F3E, None, PIN_ADM, vec![0xFF; 8]);
        self.transparent(adf, 0x6F3F, None, PIN_ADM, vec![0xFF; 8]);
        let spn = self.transparent(adf, 0x6F46, None, ALW_ADM, spn_bytes(p.carrier_name));
        let acc = self.transparent(adf, 0x6F78, Some(0x06), PIN_ADM, access_class(p.imsi));
        let fplmn = self.transparent(adf, 0x6F7B, Some(0x0D), PIN_PIN, vec![0xFF; 12]);
        let loci = self.transparent(adf, 0x6F7E, Some(0x0B), PIN_PIN, empty_loci());
        let ad = self.transparent(adf, 0x6FAD, Some(0x03), ALW_ADM, vec![0x00, 0x00, 0x00, p.mnc_len]);
        self.records(
            adf,
            0x6FB7,
            Some(0x01),
            ALW_ADM,
            4,
            &[&[0x11, 0xF2, 0xFF, 0x00], &[0x19, 0xF1, 0xFF, 0x00]],
        );
        self.transparent(adf, 0x6F73, Some(0x0C), PIN_PIN, empty_psloci());
        let own = msisdn(p.imsi, p.mnc_len);
        let msisdn = self.records(adf, 0x6F40, None, PIN_PIN, DIALLING_RECORD, &[&dialling_record("", &own)]);
        let centre = service_centre(p.imsi, p.mnc_len);
        let smsp = self.records(adf, 0x6F42, None, PIN_PIN, SMSP_RECORD, &[&smsp_record(&centre)]);
        // EF_EST: none of FDN, BDN, ACL is available, so none is enabled.
        self.transparent(adf, 0x6F56, Some(0x05), PIN_ADM, vec![0x00]);
        self.transparent(adf, 0x6F5B, Some(0x0F), PIN_PIN, vec![0xF0, 0x00, 0x00, 0xF0, 0x00, 0x00]);
        self.transparent(adf, 0x6F5C, Some(0x10), PIN_ADM, vec![0xFF; 3]);
        self.transparent(adf, 0x6F61, Some(0x11), PIN_ADM, plmn_act_list(&[], 8));
        self.transparent(adf, 0x6F62, Some(0x13), PIN_ADM, plmn_act_list(&[(home, act_bits(p.rats))], 1));
        self.arr(adf, ARR_ADF, Some(0x17));
        // EF_NETPAR: no cell information stored yet (the ME writes it at power-off).
        self.transparent(adf, 0x6FC4, None, PIN_PIN, vec![0xFF; 32]);
        let pnn = pnn_record(p.carrier_name);
        self.records(adf, 0x6FC5, Some(0x19), PIN_ADM, PNN_RECORD, &[&pnn, &[], &[], &[]]);
        self.records(adf, 0x6FC6, None, PIN_ADM, 8, &[&opl_record(home, 1), &[], &[], &[]]);
        self.transparent(adf, 0x6FCD, None, PIN_ADM, spdi_bytes(&[home]));
        self.transparent(adf, 0x6FD9, Some(0x1D), PIN_ADM, plmn_list(&[home], 4));
        self.transparent(adf, 0x6FE3, Some(0x1E), PIN_PIN, empty_epsloci());
        self.records(adf, 0x6FE4, Some(0x18), PIN_PIN, 54, &[&[]]);
        let gsm_access = self.dir(adf, 0x5F3B, None, true);
        self.transparent(gsm_access, 0x4F20, Some(0x01), PIN_PIN, no_kc());
        self.transparent(gsm_access, 0x4F52, Some(0x02), PIN_PIN, no_kc());
        Shared { imsi, ad, loci, spn, acc, fplmn, hpplmn, plmn_act, msisdn, smsp }
    }

    /// TS 51.011 §10.5: DF_TELECOM. EF_ADN is an empty phone book; EF_MSISDN and EF_SMSP are
    /// the ADF's (a 2G terminal finds the same number and service centre as a 3G one).
    fn telecom_files(&mut self, telecom: NodeId, s: &Shared) {
        let empty: Vec<&[u8]> = vec![&[]; ADN_RECORDS];
        self.records(telecom, 0x6F3A, None, PIN_PIN, DIALLING_RECORD, &empty);
        let records = |rec_len| Structure::LinearFixed { rec_len };
        self.link(telecom, 0x6F40, None, PIN_PIN, records(DIALLING_RECORD), s.msisdn);
        self.link(telecom, 0x6F42, None, PIN_PIN, records(SMSP_RECORD), s.smsp);
    }

    /// TS 51.011 §10.3: the 2G view; the identity and location files are the ADF's own.
    fn gsm_files(&mut self, gsm: NodeId, s: &Shared) {
        let t = Structure::Transparent;
        self.link(gsm, 0x6F07, None, PIN_ADM, t, s.imsi);
        self.transparent(gsm, 0x6F20, None, PIN_PIN, no_kc());
        self.transparent(gsm, 0x6F30, None, PIN_PIN, vec![0xFF; 24]);
        self.link(gsm, 0x6F31, None, PIN_ADM, t, s.hpplmn);
        self.transparent(gsm, 0x6F38, None, PIN_ADM, sim_service_table());
        self.link(gsm, 0x6F46, None, ALW_ADM, t, s.spn);
        self.link(gsm, 0x6F60, None, PIN_PIN, t, s.plmn_act);
        self.link(gsm, 0x6F78, None, PIN_ADM, t, s.acc);
        self.link(gsm, 0x6F7B, None, PIN_PIN, t, s.fplmn);
        self.link(gsm, 0x6F7E, None, PIN_PIN, t, s.loci);
        self.link(gsm, 0x6FAD, None, ALW_ADM, t, s.ad);
        self.transparent(gsm, 0x6FAE, None, ALW_ADM, vec![0x03]);
        // The 2G EF_ECC is transparent, 3 bytes per code (TS 51.011 §10.3.27): 112, 911.
        self.transparent(gsm, 0x6FB7, None, ALW_ADM, pad(&[0x11, 0xF2, 0xFF, 0x19, 0xF1, 0xFF], 15));
    }

    /// EF_ARR: one record per entry of [`RULES`].
    fn arr(&mut self, dir: NodeId, fid: u16, sfi: Option<u8>) {
        let recs: Vec<Vec<u8>> = RULES.iter().map(|r| arr_rule(*r)).collect();
        let refs: Vec<&[u8]> = recs.iter().map(Vec::as_slice).collect();
        self.records(dir, fid, sfi, ALW_ADM, 40, &refs);
    }
}

/// USIM services offered (TS 31.102 §4.2.8; numbers checked against pySim's EF_UST_map,
/// ts_31_102.py), each exactly because its files exist: 12 SMSP (6F42), 17 GID1 (6F3E),
/// 18 GID2 (6F3F), 19 SPN (6F46), 20 user PLMN selector (6F60), 21 MSISDN (6F40), 27 GSM access
/// (DF 5F3B with Kc and KcGPRS; GSM-context AUTHENTICATE is allowed and Kc is returned), 33
/// "shall be set to 1" (formerly the PS domain; no file), 34 enabled services table (6F56), 42
/// operator PLMN selector (6F61), 43 HPLMN selector (6F62), 45 PLMN network name (6FC5), 46
/// operator PLMN list (6FC6), 51 service provider display information (6FCD), 71 equivalent
/// HPLMN (6FD9), 85 EPS mobility management (6FE3, 6FE4).
///
/// Not offered, though a reader may expect them: 1 local phone book (no DF_PHONEBOOK; the 2G
/// EF_ADN in DF_TELECOM is under the SST), 2 FDN, 6 BDN, 35 ACL (so EF_EST enables nothing),
/// 10 SMS storage, 13 advice of charge (no EF_ACM/ACMmax/PUCT). Unsure: whether 38 (GSM
/// security context) should accompany 27 for GSM-context AUTHENTICATE; it has no file, so the
/// rule "bit set exactly when the files exist" leaves it clear.
pub(crate) const UST_SERVICES: &[u16] = &[12, 17, 18, 19, 20, 21, 27, 33, 34, 42, 43, 45, 46, 51, 71, 85];

/// A service table with one bit per service, service 1 in bit 1 of byte 1.
fn service_table(services: &[u16]) -> Vec<u8> {
    let max = services.iter().copied().max().unwrap_or(1);
    let mut table = vec![0u8; usize::from(max).div_ceil(8)];
    for &n in services {
        let bit = usize::from(n.saturating_sub(1));
        table[bit / 8] |= 1 << (bit % 8);
    }
    table
}

/// SIM services offered in the 2G view (TS 51.011 §10.3.7, checked against pySim's
/// EF_SST_map): 1 CHV1 disable function (no file), 2 ADN (DF_TELECOM 6F3A), 7 PLMN selector
/// (DF_GSM 6F30), 9 MSISDN (DF_TELECOM 6F40), 12 SMS parameters (DF_TELECOM 6F42), 17 service
/// provider name (DF_GSM 6F46), 43 user controlled PLMN selector with access technology
/// (DF_GSM 6F60).
pub(crate) const SST_SERVICES: &[usize] = &[1, 2, 7, 9, 12, 17, 43];

/// EF_SST, two bits (allocated, activated) per service of [`SST_SERVICES`].
fn sim_service_table() -> Vec<u8> {
    let max = SST_SERVICES.iter().copied().max().unwrap_or(1);
    let mut table = vec![0u8; max.div_ceil(4)];
    for &n in SST_SERVICES {
        let pos = n - 1;
        table[pos / 4] |= 0b11 << (2 * (pos % 4));
    }
    table
}

/// EF_UMPC (TS 102 221 §13.6): at most 60 mA (3C), operator-defined time out T_OP 10 s (0A),
/// no additional information (00), then two bytes we fill with 00. Unsure: the exact meaning of
/// bytes 4–5 (pySim decodes only the first three of the five); 00 treats them as RFU.
const UMPC: [u8; 5] = [0x3C, 0x0A, 0x00, 0x00, 0x00];

/// Records in DF_TELECOM's EF_ADN, all empty.
const ADN_RECORDS: usize = 10;

/// One EF_OPL record (TS 31.102 §4.2.59): the PLMN, LAC range 0000–FFFE (all LACs), and the
/// EF_PNN record that names it.
fn opl_record(plmn: [u8; 3], pnn_record: u8) -> Vec<u8> {
    let mut rec = plmn.to_vec();
    rec.extend([0x00, 0x00, 0xFF, 0xFE, pnn_record]);
    rec
}

/// EF_SPDI (TS 31.102 §4.2.66): tag A3 (service provider display information) holding tag 80
/// (service provider PLMN list), FF-padded to 16 bytes, room for four PLMNs.
fn spdi_bytes(plmns: &[[u8; 3]]) -> Vec<u8> {
    let list: Vec<u8> = plmns.iter().take(4).flatten().copied().collect();
    pad(&tlv(0xA3, &tlv(0x80, &list)), 16)
}

/// One EF_ARR record (TS 102 221 §9.2, expanded format): an access mode DO for read, one for
/// update/erase, one for (de)activation, each followed by its security condition.
fn arr_rule(rule: Rule) -> Vec<u8> {
    let mut rec = Vec::new();
    for (mode, access) in [(0x01u8, rule.read), (0x02, rule.update), (0x18, Access::Adm)] {
        rec.extend([0x80, 0x01, mode]);
        rec.extend(security_condition(access));
    }
    rec
}

fn security_condition(access: Access) -> Vec<u8> {
    // Key references: 01 = PIN1 (application PIN), 0A = ADM1; usage qualifier 08 = user PIN.
    let key = match access {
        Access::Always => return vec![0x90, 0x00],
        Access::Pin1 => 0x01,
        Access::Adm => 0x0A,
    };
    vec![0xA4, 0x06, 0x83, 0x01, key, 0x95, 0x01, 0x08]
}

/// EF_DIR record: application template with the USIM AID and a label.
fn dir_record() -> Vec<u8> {
    let mut inner = tlv(0x4F, &USIM_AID);
    inner.extend(tlv(0x50, b"USIM"));
    tlv(0x61, &inner)
}

/// `bytes` followed by FF up to `len` (and cut to `len`).
pub(crate) fn pad(bytes: &[u8], len: usize) -> Vec<u8> {
    let mut out: Vec<u8> = bytes.iter().copied().take(len).collect();
    out.resize(len, 0xFF);
    out
}

/// EF_ICCID: 10 bytes of BCD (an ICCID is digits: [`crate::model::Iccid`] checks it).
pub(crate) fn iccid_bytes(iccid: &str) -> Vec<u8> {
    pad(&bcd::encode(iccid).unwrap_or_default(), 10)
}

/// EF_IMSI (TS 31.102 §4.2.2): length byte, then the mobile identity with the parity nibble
/// (9 for an odd digit count, 1 for even) in front of the first digit.
pub(crate) fn imsi_bytes(imsi: &str) -> Vec<u8> {
    let parity = if imsi.len() % 2 == 1 { 9 } else { 1 };
    let body = bcd::pack(std::iter::once(parity).chain(imsi.chars().filter_map(bcd::nibble)));
    let mut out = vec![body.len() as u8];
    out.extend(body);
    pad(&out, 9)
}

/// A PLMN as 3 BCD bytes (TS 24.008 §10.5.1.3): MCC2 MCC1 | MNC3 MCC3 | MNC2 MNC1.
fn plmn_bytes(mcc: &[u8], mnc: &[u8]) -> [u8; 3] {
    let d = |s: &[u8], i: usize| s.get(i).map_or(0x0F, |b| b.wrapping_sub(b'0') & 0x0F);
    [d(mcc, 0) | (d(mcc, 1) << 4), d(mcc, 2) | (d(mnc, 2) << 4), d(mnc, 0) | (d(mnc, 1) << 4)]
}

/// The home PLMN, read off the IMSI with the MNC length the card states in EF_AD.
fn home_plmn(imsi: &str, mnc_len: u8) -> [u8; 3] {
    let digits = imsi.as_bytes();
    let mnc_end = (3 + usize::from(mnc_len)).min(digits.len());
    plmn_bytes(&digits[..3.min(digits.len())], &digits[3.min(digits.len())..mnc_end])
}

/// Access technology bits (TS 31.102 §4.2.5) for the seed's radio technologies.
fn act_bits(rats: &[Rat]) -> [u8; 2] {
    let mut act = [0u8; 2];
    for rat in rats {
        match rat {
            Rat::Umts => act[0] |= 0x80,
            Rat::Lte => act[0] |= 0x40,
            Rat::Nr => act[0] |= 0x08,
            Rat::Gsm => act[1] |= 0x80,
        }
    }
    act
}

/// A PLMN-with-access-technology list of `slots` entries; unused ones are FFFFFF 0000.
fn plmn_act_list(entries: &[([u8; 3], [u8; 2])], slots: usize) -> Vec<u8> {
    (0..slots)
        .flat_map(|i| {
            let (plmn, act) = entries.get(i).copied().unwrap_or(([0xFF; 3], [0x00; 2]));
            plmn.into_iter().chain(act)
        })
        .collect()
}

/// A PLMN list of `slots` entries; unused ones are FFFFFF.
fn plmn_list(entries: &[[u8; 3]], slots: usize) -> Vec<u8> {
    (0..slots).flat_map(|i| entries.get(i).copied().unwrap_or([0xFF; 3])).collect()
}

/// EF_ACC: the access class is the last IMSI digit (TS 22.011), one bit of 16.
fn access_class(imsi: &str) -> Vec<u8> {
    let class = imsi.bytes().last().map_or(0, |b| b.wrapping_sub(b'0') % 10);
    (1u16 << class).to_be_bytes().to_vec()
}

/// EF_LOCI after a fresh card: TMSI and LAI deleted (LAC FFFE), status "not updated".
fn empty_loci() -> Vec<u8> {
    let mut v = vec![0xFF; 4];
    v.extend([0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0x01]);
    v
}

/// EF_PSLOCI: P-TMSI, signature and RAI deleted, status "not updated".
fn empty_psloci() -> Vec<u8> {
    let mut v = vec![0xFF; 7];
    v.extend([0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0x01]);
    v
}

/// EF_EPSLOCI: GUTI deleted, TAI deleted (TAC FFFE), status "not updated".
fn empty_epsloci() -> Vec<u8> {
    let mut v = vec![0xFF; 12];
    v.extend([0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0x01]);
    v
}

/// EF_KEYS / EF_KEYSPS: key set identifier 07 (no key available), CK and IK blank.
fn no_keys() -> Vec<u8> {
    let mut v = vec![0x07];
    v.extend([0xFF; 32]);
    v
}

/// EF_Kc / EF_KcGPRS: Kc blank, ciphering key sequence number 07 (no key).
fn no_kc() -> Vec<u8> {
    let mut v = vec![0xFF; 8];
    v.push(0x07);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_match_published_examples() {
        use crate::encoding::hex::encode_lower as hex;
        assert_eq!(hex(&iccid_bytes("8988211000000430010")), "988812010000400310f0");
        assert_eq!(hex(&imsi_bytes("262011106487504")), "082926101160845740");
        assert_eq!(hex(&home_plmn("310260123456789", 3)), "130062");
        assert_eq!(hex(&home_plmn("262011106487504", 2)), "62f210");
        assert_eq!(hex(&access_class("262011106487504")), "0010");
        assert_eq!(hex(&service_table(&[1, 9, 10])), "0103");
        assert_eq!(hex(&sim_service_table()), "0f30c30003000000000030");
        assert_eq!(hex(&spdi_bytes(&[home_plmn("262011106487504", 2)])), "a305800362f210ffffffffffffffffff");
        assert_eq!(hex(&opl_record(home_plmn("262011106487504", 2), 1)), "62f2100000fffe01");
    }

    #[test]
    fn adf_is_reached_by_aid_only_and_2g_shares_contents() {
        let fs = FileSystem::build(&Profile {
            iccid: "8988211000000430010",
            imsi: "262011106487504",
            mnc_len: 2,
            rats: &[Rat::Lte],
            carrier_name: "test",
        });
        assert_eq!(fs.child(MF, ADF_ALIAS), None);
        let gsm = fs.child(MF, 0x7F20).unwrap();
        let a = fs.node(fs.child(fs.adf(), 0x6F07).unwrap()).ef().unwrap().data;
        let b = fs.node(fs.child(gsm, 0x6F07).unwrap()).ef().unwrap().data;
        assert_eq!(a, b);
        assert!(fs.in_adf(fs.child(fs.adf(), 0x6F07).unwrap()));
        assert!(!fs.in_adf(fs.child(gsm, 0x6F07).unwrap()));
    }
}
