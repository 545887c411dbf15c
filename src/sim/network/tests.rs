//! The network against the starter fixtures and real virtual USIMs, at time scale 0.001.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::OnceLock;
use std::time::Duration;

use super::*;
use crate::encoding::hex;
use crate::method::view::best_cell;
use crate::model::secret::SecretFormat;
use crate::model::{Catalog, Secret};
use crate::sim::usim::VirtualUsim;

const SCALE: f64 = 0.001;
/// Far longer than any scaled latency (50 nominal seconds): a future still pending after this
/// never completes.
const NEVER: Duration = Duration::from_millis(50);
const USIM_AID: &str = "a0000000871002ffffffff8907090000";

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let loaded = crate::fixture::load_default(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert!(loaded.diagnostics.errors.is_empty(), "starter fixtures have errors");
        loaded.catalog
    })
}

struct Bench {
    net: Network,
    backend: Backend,
    clock: RigClock,
}

fn bench(scenario: &str) -> Bench {
    let catalog = catalog();
    let clock = RigClock::start();
    let backend = Backend::new(clock);
    let net =
        Network::new(catalog, &catalog.scenarios[scenario], TimeScale::new(SCALE), clock, backend.clone())
            .expect("network builds");
    Bench { net, backend, clock }
}

fn imsi(seed: &str) -> String {
    catalog().seeds[seed].imsi.as_str().to_owned()
}

/// A virtual USIM driven with the APDUs a modem sends: SELECT ADF.USIM, AUTHENTICATE (3G
/// context), GET RESPONSE.
struct CardAuth {
    card: VirtualUsim,
    /// Flip a bit of RES, as the bridge's `corrupt_auth` does.
    corrupt_res: bool,
    asked: usize,
}

impl CardAuth {
    fn of(seed: &str) -> CardAuth {
        CardAuth::from_seed(&catalog().seeds[seed])
    }

    fn from_seed(seed: &crate::model::Seed) -> CardAuth {
        CardAuth { card: VirtualUsim::from_seed(seed).unwrap(), corrupt_res: false, asked: 0 }
    }

    fn answer(&mut self, rand: [u8; 16], autn: [u8; 16]) -> AuthAnswer {
        self.asked += 1;
        if self.card.transmit(&hex::bytes(&format!("00a4040c10{USIM_AID}"))) != [0x90, 0x00] {
            return AuthAnswer::CardError;
        }
        let mut cmd = vec![0x00, 0x88, 0x00, 0x81, 0x22, 0x10];
        cmd.extend(rand);
        cmd.push(0x10);
        cmd.extend(autn);
        let data = match self.card.transmit(&cmd)[..] {
            [0x98, 0x62] => return AuthAnswer::MacFailure,
            [0x61, len] => self.card.transmit(&[0x00, 0xC0, 0x00, 0x00, len]),
            _ => return AuthAnswer::CardError,
        };
        let mut answer = parse_auth(&data[..data.len() - 2]);
        if let AuthAnswer::Res { res, .. } = &mut answer
            && self.corrupt_res
        {
            res[0] ^= 0x01;
        }
        answer
    }
}

impl SimAuth for CardAuth {
    fn authenticate<'a>(
        &'a mut self,
        rand: [u8; 16],
        autn: [u8; 16],
    ) -> Pin<Box<dyn Future<Output = AuthAnswer> + Send + 'a>> {
        Box::pin(async move { self.answer(rand, autn) })
    }
}

/// `DB 08 RES 10 CK 10 IK 08 Kc` or `DC 0E AUTS`.
fn parse_auth(data: &[u8]) -> AuthAnswer {
    match data {
        [0xDB, 0x08, res @ ..] if res.len() == 8 + 1 + 16 + 1 + 16 + 1 + 8 => AuthAnswer::Res {
            res: res[..8].to_vec(),
            ck: res[9..25].try_into().unwrap(),
            ik: res[26..42].try_into().unwrap(),
        },
        [0xDC, 0x0E, auts @ ..] if auts.len() == 14 => AuthAnswer::Resync { auts: auts.try_into().unwrap() },
        _ => AuthAnswer::CardError,
    }
}

fn kinds(net: &Network) -> Vec<TruthKind> {
    net.ground_truth().into_iter().map(|e| e.kind).collect()
}

fn assert_time_ordered(events: &[TruthEvent]) {
    assert!(events.windows(2).all(|w| w[0].at <= w[1].at), "{events:?}");
}

fn report(mcc: &str) -> Vec<u8> {
    format!(
        r#"{{"type":"report","iccid":"8986009900000000713","imsi":"460009900000071","mcc":"{mcc}",
            "site_cells":[{{"plmn":"46000","rat":"lte","dbm":-66}}],"rats":["gsm","lte","nr"]}}"#
    )
    .into_bytes()
}

async fn never<F: Future>(f: F) {
    assert!(tokio::time::timeout(NEVER, f).await.is_err(), "the future completed");
}

#[tokio::test]
async fn healthy_seed_connects_on_the_oracles_cell_and_reaches_the_backend() {
    let b = bench("master-connects");
    let cat = catalog();
    let seed = &cat.seeds["china-mobile-1"];
    let best = best_cell(cat, seed, &cat.sites["shanghai-pudong"]).unwrap();
    let mut card = CardAuth::of("china-mobile-1");
    let started = tokio::time::Instant::now();

    let reg = b.net.attach(seed.imsi.as_str(), &mut card).await.unwrap();
    assert_eq!(reg.plmn, cat.carriers[&best.carrier].plmn);
    assert_eq!((reg.rat, &reg.cell_label, reg.roaming), (best.rat, &best.label, false));
    let ctx = b.net.activate(&reg, "cmnet").await.unwrap();
    assert!(ctx.ip.starts_with("10.") && ctx.apn == "cmnet" && ctx.imsi == reg.imsi, "{ctx:?}");
    let answer = b.net.request(&ctx, "backend.seedrig.test", 7000, &report("460")).await.unwrap();
    assert!(started.elapsed() >= TimeScale::new(SCALE).ms(best.timing.connect_ms()));

    let vsim: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!((vsim["type"].as_str(), vsim["plmn"].as_str()), (Some("vsim"), Some("46099")));
    let reports = b.backend.reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].imsi, seed.imsi.as_str());

    let plmn = reg.plmn.clone();
    let expected = vec![
        TruthKind::AttachStart { plmn: plmn.clone(), rat: reg.rat },
        TruthKind::AuthOk,
        TruthKind::Registered { plmn, rat: reg.rat },
        TruthKind::ContextUp { apn: "cmnet".into(), ip: ctx.ip.clone() },
        TruthKind::DataDelivered { bytes: report("460").len() },
    ];
    assert_eq!(kinds(&b.net), expected);
    let events = b.net.ground_truth();
    assert_time_ordered(&events);
    assert!(events.iter().all(|e| e.imsi == reg.imsi && e.at <= b.clock.now()));
}

#[tokio::test]
async fn detach_ends_registration_and_contexts() {
    let b = bench("master-connects");
    let reg = b.net.attach(&imsi("china-mobile-1"), &mut CardAuth::of("china-mobile-1")).await.unwrap();
    let first = b.net.activate(&reg, "cmnet").await.unwrap();
    let second = b.net.activate(&reg, "cmnet").await.unwrap();
    assert_ne!(first.ip, second.ip);

    b.net.deactivate(&first);
    let payload = report("460");
    assert_eq!(
        b.net.request(&first, "backend.seedrig.test", 7000, &payload).await,
        Err(DataFailure::NoContext)
    );
    assert!(
        b.net.request(&second, "backend.seedrig.test", 7000, &payload).await.is_ok(),
        "registration stays"
    );

    b.net.detach(&reg);
    b.net.detach(&reg);
    assert_eq!(
        b.net.request(&second, "backend.seedrig.test", 7000, &payload).await,
        Err(DataFailure::NoContext)
    );
    assert_eq!(b.net.activate(&reg, "cmnet").await, Err(ActivationFailure::NotRegistered));
    let detached = kinds(&b.net).iter().filter(|k| **k == TruthKind::Detached).count();
    assert_eq!(detached, 1, "detaching twice records once");
}

#[tokio::test]
async fn unknown_host_is_not_resolved() {
    let b = bench("master-connects");
    let reg = b.net.attach(&imsi("china-mobile-1"), &mut CardAuth::of("china-mobile-1")).await.unwrap();
    let ctx = b.net.activate(&reg, "cmnet").await.unwrap();
    assert_eq!(b.net.request(&ctx, "example.com", 80, b"{}").await, Err(DataFailure::UnknownHost));
    assert!(b.net.request(&ctx, "BACKEND.seedrig.test.", 1, &report("460")).await.is_ok());
}

#[tokio::test]
async fn roaming_standby_registers_on_the_visited_network() {
    // vodafone-uk-1 at Frankfurt: its best cell is Vodafone DE GSM -76.
    let b = bench("master-reject");
    let reg = b.net.attach(&imsi("vodafone-uk-1"), &mut CardAuth::of("vodafone-uk-1")).await.unwrap();
    assert_eq!(reg.plmn.numeric(), "26202");
    assert!(reg.roaming);
}

#[tokio::test]
async fn sqn_ahead_of_the_network_is_resynchronised() {
    let imsi = imsi("china-mobile-1");
    let mut card = CardAuth::of("china-mobile-1");
    // A first network moves the card's SQN on by a few vectors ...
    let first = bench("master-connects");
    for _ in 0..3 {
        first.net.attach(&imsi, &mut card).await.unwrap();
    }
    // ... so a second network, starting again from the seed's SQN, is behind: the card answers AUTS.
    let second = bench("master-connects");
    let reg = second.net.attach(&imsi, &mut card).await.unwrap();
    let k = kinds(&second.net);
    assert_eq!(
        k[1..4],
        [TruthKind::Resync, TruthKind::AuthOk, TruthKind::Registered { plmn: reg.plmn, rat: reg.rat }]
    );
    assert_eq!(card.asked, 3 + 2);
    // Resynchronised for good: the next attach needs no resync.
    second.net.attach(&imsi, &mut card).await.unwrap();
    assert_eq!(kinds(&second.net).iter().filter(|k| **k == TruthKind::Resync).count(), 1);
}

#[tokio::test]
async fn wrong_res_is_rejected_with_cause_3() {
    let b = bench("master-corrupt-auth");
    let mut card = CardAuth { corrupt_res: true, ..CardAuth::of("vodafone-de-1") };
    let got = b.net.attach(&imsi("vodafone-de-1"), &mut card).await;
    assert_eq!(got, Err(AttachFailure::Rejected { cause: CAUSE_ILLEGAL_UE }));
    assert_eq!(kinds(&b.net)[1..], [TruthKind::AuthFailed, TruthKind::Rejected { cause: 3 }]);
}

#[tokio::test]
async fn card_with_other_keys_fails_mac_and_is_rejected_with_cause_3() {
    let b = bench("master-connects");
    // vodafone-de-1's card under china-mobile-1's IMSI: the card finds MAC-A wrong.
    let mut card = CardAuth::of("vodafone-de-1");
    let got = b.net.attach(&imsi("china-mobile-1"), &mut card).await;
    assert_eq!(got, Err(AttachFailure::Rejected { cause: 3 }));
    assert_eq!(card.asked, 1);
}

#[tokio::test]
async fn unknown_imsi_is_rejected_with_cause_2_without_asking_the_card() {
    let b = bench("master-connects");
    let mut card = CardAuth::of("china-mobile-1");
    let got = b.net.attach("460009999999999", &mut card).await;
    assert_eq!(got, Err(AttachFailure::Rejected { cause: CAUSE_IMSI_UNKNOWN }));
    assert_eq!(card.asked, 0);
    assert_eq!(kinds(&b.net).last(), Some(&TruthKind::Rejected { cause: 2 }));
}

#[tokio::test]
async fn reject_fault_rejects_with_its_cause_after_auth_and_register() {
    let b = bench("master-reject");
    let started = tokio::time::Instant::now();
    let got = b.net.attach(&imsi("o2-de-1"), &mut CardAuth::of("o2-de-1")).await;
    assert_eq!(got, Err(AttachFailure::Rejected { cause: 15 }));
    // O2 Germany: auth 350 + register 800 ms.
    assert!(started.elapsed() >= TimeScale::new(SCALE).ms(350 + 800));
    assert_eq!(kinds(&b.net)[1..], [TruthKind::AuthOk, TruthKind::Rejected { cause: 15 }]);
}

#[tokio::test]
async fn expired_subscription_is_rejected_with_cause_8() {
    let b = bench("master-expired");
    let got = b.net.attach(&imsi("orange-fr-1"), &mut CardAuth::of("orange-fr-1")).await;
    assert_eq!(got, Err(AttachFailure::Rejected { cause: 8 }));
}

#[tokio::test]
async fn dial_fail_rejects_the_context_with_its_cause() {
    let b = bench("master-dial-fail");
    let reg = b.net.attach(&imsi("tmobile-us-1"), &mut CardAuth::of("tmobile-us-1")).await.unwrap();
    assert_eq!(
        b.net.activate(&reg, "fast.t-mobile.com").await,
        Err(ActivationFailure::Rejected { cause: 27 })
    );
    assert_eq!(kinds(&b.net).last(), Some(&TruthKind::ContextRejected { cause: 27 }));
}

#[tokio::test]
async fn data_fail_never_answers_and_records_the_loss() {
    let b = bench("master-data-fail");
    let reg = b.net.attach(&imsi("china-mobile-1"), &mut CardAuth::of("china-mobile-1")).await.unwrap();
    let ctx = b.net.activate(&reg, "cmnet").await.unwrap();
    never(b.net.request(&ctx, "backend.seedrig.test", 7000, &report("460"))).await;
    assert_eq!(kinds(&b.net).last(), Some(&TruthKind::DataLost));
    assert!(b.backend.reports().is_empty());
}

#[tokio::test]
async fn slow_attach_registers_late() {
    let b = bench("master-slow-attach-connects");
    let started = tokio::time::Instant::now();
    let reg = b.net.attach(&imsi("china-mobile-1"), &mut CardAuth::of("china-mobile-1")).await;
    assert!(reg.is_ok(), "{reg:?}");
    // China Mobile: auth 450 + register 900 ms, plus the fault's 8000 ms.
    assert!(started.elapsed() >= TimeScale::new(SCALE).ms(450 + 900 + 8000));
}

#[tokio::test]
async fn silent_network_never_answers_and_never_asks_the_card() {
    let b = bench("master-silent-timeout");
    let mut card = CardAuth::of("telekom-de-2");
    never(b.net.attach(&imsi("telekom-de-2"), &mut card)).await;
    assert_eq!(card.asked, 0);
}

#[tokio::test]
async fn no_coverage_never_answers() {
    let b = bench("master-no-coverage");
    never(b.net.attach(&imsi("docomo-jp-1"), &mut CardAuth::of("docomo-jp-1"))).await;
    assert!(b.net.ground_truth().is_empty());
}

#[tokio::test]
async fn seed_without_a_usable_cell_never_answers() {
    // claro-br-1 has no partner at Heathrow.
    let b = bench("result-no-cell-stalls");
    never(b.net.attach(&imsi("claro-br-1"), &mut CardAuth::of("claro-br-1"))).await;
}

#[test]
fn cells_are_every_site_cell_strongest_first() {
    let b = bench("master-reject");
    let cells = b.net.cells();
    assert_eq!(cells.len(), catalog().sites["frankfurt-airport"].cells.len());
    assert!(cells.windows(2).all(|w| w[0].dbm >= w[1].dbm));
    let first = &cells[0];
    assert_eq!(
        (first.plmn.numeric().as_str(), first.rat, first.dbm),
        ("26201", crate::model::Rat::Lte, -71.0)
    );
    assert_eq!((first.carrier_name.as_str(), first.short_name.as_str()), ("Telekom Deutschland", "Telekom"));
    assert_eq!(first.label.as_deref(), Some("26201-FRA-L800-1A2B3C"));
}

#[test]
fn short_names() {
    assert_eq!(short_name("Vodafone Germany"), "Vodafone");
    assert_eq!(short_name("AT&T Mobility"), "AT&T");
    assert_eq!(short_name("China Mobile"), "China Mobile");
    assert_eq!(short_name("EE"), "EE");
}

#[test]
fn attach_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let b = bench("master-connects");
    let mut card = CardAuth::of("china-mobile-1");
    let fut = b.net.attach("460009900000071", &mut card);
    assert_send(&fut);
}

#[test]
fn secrets_never_shown() {
    let cat = catalog();
    let b = bench("master-corrupt-auth");
    let shown = format!("{:?}", b.net);
    for seed in cat.seeds.values() {
        let k = seed.k.expose().unwrap();
        assert!(!shown.contains(&k[..8]), "{shown}");
    }
    let answer = AuthAnswer::Res { res: vec![0xA5; 8], ck: [0xB4; 16], ik: [0xF7; 16] };
    let shown = format!("{answer:?}");
    assert!(!shown.contains("a5") && !shown.contains("b4") && !shown.contains("180"), "{shown}");
}

#[test]
fn missing_secret_error_names_seed_and_origin() {
    let mut cat = catalog().clone();
    let var = "SEEDRIG_NETWORK_TEST_UNSET_K";
    cat.seeds.get_mut("o2-de-1").unwrap().k =
        Secret::parse(&format!("env:{var}"), SecretFormat::Hex(32), Path::new(".")).unwrap();
    let scenario = &cat.scenarios["master-reject"];
    let err = Network::new(
        &cat,
        scenario,
        TimeScale::new(SCALE),
        RigClock::start(),
        Backend::new(RigClock::start()),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("o2-de-1") && err.contains(&format!("env:{var}")) && err.contains(" K "), "{err}");
}

#[test]
fn malformed_secret_file_is_not_echoed() {
    let dir = std::env::temp_dir().join(format!("seedrig-network-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let value = "0123456789abcdef0123456789abcdeZ";
    std::fs::write(dir.join("opc"), value).unwrap();
    let mut cat = catalog().clone();
    cat.seeds.get_mut("o2-de-1").unwrap().opc =
        Secret::parse("file:opc", SecretFormat::Hex(32), &dir).unwrap();
    let scenario = &cat.scenarios["master-reject"];
    let err = Network::new(
        &cat,
        scenario,
        TimeScale::new(SCALE),
        RigClock::start(),
        Backend::new(RigClock::start()),
    )
    .unwrap_err();
    let text = format!("{err} {err:?}");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(text.contains("o2-de-1") && text.contains("OPc") && text.contains("file:"), "{text}");
    assert!(!text.contains("0123456789"), "{text}");
}

#[test]
fn unknown_site_is_an_error() {
    let mut cat = catalog().clone();
    cat.scenarios.get_mut("master-reject").unwrap().site = "atlantis".into();
    let scenario = &cat.scenarios["master-reject"];
    let err = Network::new(
        &cat,
        scenario,
        TimeScale::new(SCALE),
        RigClock::start(),
        Backend::new(RigClock::start()),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "scenario master-reject: site atlantis is not in the catalog");
}

// The emulated lab: a data path forwarded over TCP, the whole catalog as subscribers, and a
// network swapped under a running modem.

use crate::backend::tcp::TcpBackend;
use crate::sim::modem::RadioNetwork;
use std::net::SocketAddr;

fn lab(site: &str, faults: &[(&str, FaultKind)], route: BackendRoute) -> Network {
    lab_in(catalog(), site, faults, route).expect("lab network builds")
}

fn lab_in(
    catalog: &Catalog,
    site: &str,
    faults: &[(&str, FaultKind)],
    route: BackendRoute,
) -> Result<Network, NetworkError> {
    let faults: Vec<(String, FaultKind)> = faults.iter().map(|(s, k)| (s.to_string(), *k)).collect();
    Network::for_lab(catalog, site, &faults, TimeScale::new(SCALE), RigClock::start(), route)
}

fn stub() -> BackendRoute {
    BackendRoute::Stub(Backend::new(RigClock::start()))
}

/// A report (over several lines, as a firmware might send it) claiming `imsi`.
fn report_claiming(imsi: &str) -> Vec<u8> {
    format!(
        r#"{{"type":"report","iccid":"8949010999000000019","imsi":"{imsi}","mcc":"460",
            "site_cells":[{{"plmn":"46000","rat":"lte","dbm":-66}}],"rats":["lte"]}}"#
    )
    .into_bytes()
}

/// china-mobile-1 registered at Shanghai with a context up, on `net`.
async fn china_mobile_context(net: &Network) -> Context {
    let reg = net.attach(&imsi("china-mobile-1"), &mut CardAuth::of("china-mobile-1")).await.unwrap();
    net.activate(&reg, "cmnet").await.unwrap()
}

/// An address on which nothing listens (bound, then released).
fn nothing_listening() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test]
async fn forward_delivers_to_a_tcp_backend_which_records_the_claimed_imsi() {
    let stub =
        TcpBackend::listen("127.0.0.1:0".parse().unwrap(), Backend::new(RigClock::start())).await.unwrap();
    let net = lab("shanghai-pudong", &[], BackendRoute::Forward(stub.addr));
    let ctx = china_mobile_context(&net).await;
    let claimed = imsi("telekom-de-1");
    let payload = report_claiming(&claimed);
    let started = tokio::time::Instant::now();

    let answer = net.request(&ctx, "127.0.0.1", stub.addr.port(), &payload).await.unwrap();
    // China Mobile's data_ms is still the round trip's.
    let data_ms = catalog().carriers["china-mobile"].network.data_ms;
    assert!(started.elapsed() >= TimeScale::new(SCALE).ms(data_ms));
    let vsim: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(vsim["type"], "vsim", "{vsim}");
    let reports = stub.backend.reports();
    assert_eq!(reports.len(), 1);
    // Over TCP the stub knows only what the report says, not the context's IMSI.
    assert_eq!(
        (reports[0].imsi.as_str(), ctx.imsi.as_str()),
        (claimed.as_str(), imsi("china-mobile-1").as_str())
    );
    assert_eq!(kinds(&net).last(), Some(&TruthKind::DataDelivered { bytes: payload.len() }));

    // The backend's name reaches it too, on its port.
    assert!(net.request(&ctx, "backend.seedrig.test", stub.addr.port(), &payload).await.is_ok());
    assert_eq!(stub.backend.reports().len(), 2);
}

#[tokio::test]
async fn forward_resolves_only_the_backend_address_and_name_on_its_port() {
    let stub =
        TcpBackend::listen("127.0.0.1:0".parse().unwrap(), Backend::new(RigClock::start())).await.unwrap();
    let net = lab("shanghai-pudong", &[], BackendRoute::Forward(stub.addr));
    let ctx = china_mobile_context(&net).await;
    let port = stub.addr.port();
    let payload = report_claiming(&imsi("china-mobile-1"));
    for (host, port) in [("127.0.0.1", port.wrapping_add(1)), ("127.0.0.2", port), ("example.com", port)] {
        assert_eq!(
            net.request(&ctx, host, port, &payload).await,
            Err(DataFailure::UnknownHost),
            "{host}:{port}"
        );
    }
    assert!(stub.backend.reports().is_empty());
    // AT+QPING's echo request has no port (0): it reaches the backend's address.
    assert!(net.request(&ctx, "127.0.0.1", 0, &[]).await.is_ok());
}

#[tokio::test]
async fn forward_to_nothing_listening_fails_the_request_instead_of_hanging() {
    let net = lab("shanghai-pudong", &[], BackendRoute::Forward(nothing_listening()));
    let ctx = china_mobile_context(&net).await;
    let port = match net.route() {
        BackendRoute::Forward(addr) => addr.port(),
        BackendRoute::Stub(_) => unreachable!(),
    };
    let got = tokio::time::timeout(
        Duration::from_secs(10),
        net.request(&ctx, "127.0.0.1", port, &report_claiming(&ctx.imsi)),
    )
    .await
    .expect("a refused connection answers");
    assert_eq!(got, Err(DataFailure::Unreachable));
    assert_eq!(kinds(&net).last(), Some(&TruthKind::DataLost));
    // The context stays: the next request may find the backend up.
    assert_eq!(
        net.request(&ctx, "127.0.0.1", port, &report_claiming(&ctx.imsi)).await,
        Err(DataFailure::Unreachable)
    );
}

#[test]
fn forward_only_to_loopback() {
    let addr: SocketAddr = "192.0.2.7:7000".parse().unwrap();
    let err = lab_in(catalog(), "shanghai-pudong", &[], BackendRoute::Forward(addr)).unwrap_err();
    assert!(matches!(err, NetworkError::NotLoopback { addr: a } if a == addr), "{err}");
    assert!(
        lab_in(catalog(), "shanghai-pudong", &[], BackendRoute::Forward("[::1]:7000".parse().unwrap()))
            .is_ok()
    );
}

#[tokio::test]
async fn lab_knows_every_seed_even_one_no_scenario_lists() {
    // A seed only the catalog has: telekom-de-1's card under another identity.
    let mut cat = catalog().clone();
    let mut extra = cat.seeds["telekom-de-1"].clone();
    extra.id = "lab-only-1".into();
    extra.imsi = crate::model::Imsi::parse("262019900000999", None).unwrap();
    let body = "894901099900000099";
    extra.iccid =
        crate::model::Iccid::parse(&format!("{body}{}", crate::model::luhn_check_digit(body))).unwrap();
    cat.seeds.insert(extra.id.clone(), extra.clone());
    assert!(cat.scenarios.values().all(|s| s.placements().all(|p| p.seed != extra.id)));

    let net = lab_in(&cat, "frankfurt-airport", &[], stub()).unwrap();
    let mut card = CardAuth::from_seed(&extra);
    let reg = net.attach(extra.imsi.as_str(), &mut card).await.unwrap();
    assert_eq!((reg.plmn.numeric().as_str(), reg.roaming), ("26201", false));
    // And every fixture seed is a subscriber, listed at this site or not.
    let shown = format!("{net:?}");
    assert!(cat.seeds.keys().all(|id| shown.contains(&format!("\"{id}\""))), "{shown}");
}

#[tokio::test]
async fn lab_reject_fault_hits_exactly_the_named_seed() {
    let net = lab("frankfurt-airport", &[("telekom-de-1", FaultKind::Reject { cause: 13 })], stub());
    let got = net.attach(&imsi("telekom-de-1"), &mut CardAuth::of("telekom-de-1")).await;
    assert_eq!(got, Err(AttachFailure::Rejected { cause: 13 }));
    // o2-de-1 is rejected in master-reject, but the lab's faults are the rig's, not a scenario's.
    for seed in ["o2-de-1", "telekom-de-2", "vodafone-de-1"] {
        let got = net.attach(&imsi(seed), &mut CardAuth::of(seed)).await;
        assert!(got.is_ok(), "{seed}: {got:?}");
    }
    let rejected: Vec<String> = net
        .ground_truth()
        .into_iter()
        .filter(|e| matches!(e.kind, TruthKind::Rejected { .. }))
        .map(|e| e.imsi)
        .collect();
    assert_eq!(rejected, [imsi("telekom-de-1")]);

    // Faults for one seed combine; without faults the same seed registers.
    let both = lab(
        "frankfurt-airport",
        &[("telekom-de-1", FaultKind::SlowAttach { delay_ms: 5 }), ("telekom-de-1", FaultKind::Expired)],
        stub(),
    );
    let got = both.attach(&imsi("telekom-de-1"), &mut CardAuth::of("telekom-de-1")).await;
    assert_eq!(got, Err(AttachFailure::Rejected { cause: FaultKind::EXPIRED_CAUSE }));
    let clean = lab("frankfurt-airport", &[], stub());
    assert!(clean.attach(&imsi("telekom-de-1"), &mut CardAuth::of("telekom-de-1")).await.is_ok());
}

#[test]
fn lab_refuses_card_faults_unknown_seeds_and_sites() {
    let err = lab_in(catalog(), "frankfurt-airport", &[("o2-de-1", FaultKind::Mute)], stub()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "lab: seed o2-de-1: mute is a card fault; the network applies only network faults"
    );
    let err = lab_in(catalog(), "frankfurt-airport", &[("nobody-1", FaultKind::Silent)], stub()).unwrap_err();
    assert!(matches!(&err, NetworkError::UnknownFaultSeed { seed } if seed == "nobody-1"), "{err}");
    let err = lab_in(catalog(), "atlantis", &[], stub()).unwrap_err();
    assert_eq!(err.to_string(), "lab: site atlantis is not in the catalog");
}

#[tokio::test]
async fn switchable_network_sends_later_calls_to_the_network_set_last() {
    let frankfurt = lab("frankfurt-airport", &[], stub());
    let shanghai = lab("shanghai-pudong", &[], stub());
    let sw = SwitchableNetwork::new(frankfurt.clone());
    assert_eq!(RadioNetwork::cells(&sw), frankfurt.cells());

    // An attach under way when the network is replaced finishes where it started.
    let mut o2 = CardAuth::of("o2-de-1");
    let o2_imsi = imsi("o2-de-1");
    let in_flight = sw.attach(&o2_imsi, &mut o2);
    sw.set(shanghai.clone());
    let reg_frankfurt = in_flight.await.unwrap();
    assert_eq!(reg_frankfurt.plmn.numeric(), "26203");

    assert_eq!(RadioNetwork::cells(&sw), shanghai.cells());
    assert_ne!(RadioNetwork::cells(&sw), frankfurt.cells());
    assert_eq!(sw.current().cells(), shanghai.cells());
    let reg = sw.attach(&imsi("china-mobile-1"), &mut CardAuth::of("china-mobile-1")).await.unwrap();
    assert_eq!(reg.plmn.numeric(), "46000");
    let ctx = sw.activate(&reg, "cmnet").await.unwrap();
    assert!(sw.request(&ctx, "backend.seedrig.test", 7000, &report("460")).await.is_ok());
    assert!(shanghai.ground_truth().iter().all(|e| e.imsi == reg.imsi));
    assert!(frankfurt.ground_truth().iter().all(|e| e.imsi == o2_imsi));
    assert!(kinds(&shanghai).contains(&TruthKind::DataDelivered { bytes: report("460").len() }));

    // The replaced network's registration means nothing to the new one.
    assert_eq!(sw.activate(&reg_frankfurt, "internet").await, Err(ActivationFailure::NotRegistered));
    sw.detach(&reg);
    assert_eq!(kinds(&shanghai).last(), Some(&TruthKind::Detached));
}

#[tokio::test]
async fn handles_of_one_network_are_stale_on_another() {
    // Same subscriber, first registration on each of two networks: different ids.
    let (a, b) = (lab("shanghai-pudong", &[], stub()), lab("shanghai-pudong", &[], stub()));
    let imsi = imsi("china-mobile-1");
    let mut card = CardAuth::of("china-mobile-1");
    let reg_a = a.attach(&imsi, &mut card).await.unwrap();
    let reg_b = b.attach(&imsi, &mut card).await.unwrap();
    assert_ne!(reg_a.id, reg_b.id);
    assert_eq!(b.activate(&reg_a, "cmnet").await, Err(ActivationFailure::NotRegistered));
}

#[test]
fn a_replacing_network_continues_each_subscribers_sqn() {
    use crate::sim::network::BackendRoute;
    let catalog =
        crate::fixture::load_default(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap().catalog;
    let site = catalog.sites.keys().next().unwrap().clone();
    let route = || BackendRoute::Stub(crate::backend::Backend::new(RigClock::start()));
    let make =
        || Network::for_lab(&catalog, &site, &[], TimeScale::REAL, RigClock::start(), route()).unwrap();
    let old = make();
    let imsi = catalog.seeds.values().next().unwrap().imsi.to_string();
    let taken: Vec<u64> = (0..3).map(|_| old.inner.subscribers[&imsi].take_sqn()).collect();
    let new = make();
    new.continue_sqns_from(&old);
    assert_eq!(new.inner.subscribers[&imsi].next_sqn(), old.inner.subscribers[&imsi].next_sqn());
    assert!(new.inner.subscribers[&imsi].next_sqn() > taken[2]);
}
