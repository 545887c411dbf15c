//! The SIMtrace2 USB transport (`UsbTransport`, `list_boards`) against a replayed board,
//! without hardware: umockdev fakes sysfs, udev and the usbfs ioctls libusb uses, and replays
//! a USB capture written here.
//!
//! The test writes, into a temporary directory, a umockdev device file describing a SIMtrace2
//! running the cardem firmware (descriptors as osmocom's firmware/libcommon/source/usb.c builds
//! them for the simtrace board) and a usbmon pcap of what the board does: string descriptor
//! reads for the serial number, then one card-emulation exchange. It then re-runs this test
//! binary under `umockdev-run` with [`INNER_ENV`] set; that inner run is the rig side, using
//! only the project's public API.
//!
//! umockdev replays the capture strictly in order and completes an OUT transfer only if its
//! bytes equal the recorded ones, so each `send` returning `Ok` proves the transport wrote
//! exactly those bytes to the right endpoint (a mismatch stalls the write until it times out).
//!
//! Why a pcap and not an ioctl/script file: umockdev's ioctl files cannot answer control IN
//! requests (no serial number) and allow one outstanding request only, while the transport
//! keeps a bulk IN and an interrupt IN read pending at all times; scripts drive read()/write(),
//! which libusb does not use.
//!
//! `umockdev-run` is a system package: when it is missing the test fails and says to run
//! ci/setup-debian.sh.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};
use seedrig::hw::simtrace::codec::{CemuStatus, MAX_FRAME_LEN, data_flags, status_flags};
use seedrig::hw::simtrace::{
    BoardInfo, CardemTransport, Frame, Message, TransportError, UsbTransport, list_boards,
};

mod common;

/// Set (to anything) in the run under `umockdev-run`: that process is the rig side.
const INNER_ENV: &str = "SEEDRIG_USB_UMOCKDEV_INNER";
/// Printed by the inner run when every check passed; the outer run looks for it, so an inner
/// run that did nothing (wrong binary, early exit) cannot pass.
const INNER_OK: &str = "seedrig-usb-umockdev: inner run passed";
/// Longest the whole inner run may take (normally about a second).
const INNER_DEADLINE: Duration = Duration::from_secs(120);
/// Longest one expected frame may take to arrive in the inner run.
const RECV_TIMEOUT: Duration = Duration::from_secs(10);

// The board as the test describes it.
const VENDOR: u16 = 0x1d50;
const PRODUCT: u16 = 0x60e3;
const BUS: u8 = 1;
const DEVNUM: u8 = 5;
/// sysfs path of the board (below /sys).
const SYSFS_PATH: &str = "/devices/pci0000:00/0000:00:14.0/usb1/1-2";
/// The firmware's serial: the SAM3's 128-bit unique id as 32 lowercase hex digits.
const SERIAL: &str = "5c9e1d0a313853503038343231302f12";
const MANUFACTURER: &str = "sysmocom - s.f.m.c. GmbH";
/// firmware/libboard/simtrace/product_string.txt
const PRODUCT_NAME: &str = "SIMtrace 2";
// String descriptor indices (enum strDescNum in firmware usb.c).
const STR_MANUFACTURER: u8 = 1;
const STR_PRODUCT: u8 = 2;
const STR_PHONE_CONF: u8 = 5;
const STR_USIM1_INTF: u8 = 7;
const STR_SERIAL: u8 = 11;
const STR_VERSION_CONF: u8 = 12;
const STR_VERSION: u8 = 13;
// Card-emulation interface 0 endpoints (simtrace_usb.h SIMTRACE_CARDEM_USB_EP_USIM1_*).
const EP_OUT: u8 = 0x04;
const EP_IN: u8 = 0x85;
const EP_INT: u8 = 0x86;
/// Full-speed bulk and interrupt max packet size on the SAM3.
const PACKET: u16 = 64;
/// What the transport's reader threads ask for per IN transfer (their buffer size); the
/// capture has to record the same request length.
const READ_LEN: u32 = MAX_FRAME_LEN as u32;

fn main() {
    if std::env::var_os(INNER_ENV).is_some() {
        // The rig side, under umockdev-run: a panic exits non-zero, which the outer run
        // reports. The panic also goes to stdout, away from umockdev's messages on stderr.
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            println!("seedrig-usb-umockdev: inner run failed: {info}");
            default_hook(info);
        }));
        inner();
        println!("{INNER_OK}");
        return;
    }
    let args = Arguments::from_args();
    let trials = vec![
        Trial::test("cardem_frames_are_byte_exact", cardem_frames_are_byte_exact),
        Trial::test("simtrace2_usb_transport_under_umockdev", simtrace2_usb_transport_under_umockdev),
    ];
    libtest_mimic::run(&args, trials).exit();
}

// ---------------------------------------------------------------------------------------------
// The card-emulation exchange, as frames and as the bytes on the wire (simtrace_prot.h layout:
// class, type, seq, slot, reserved u16, msg_len u16, then the payload; little-endian).

/// A USIM's ATR (T=0, T=15 indicated), 22 bytes.
const ATR: [u8; 22] = [
    0x3b, 0x9f, 0x96, 0x80, 0x1f, 0xc7, 0x80, 0x31, 0xa0, 0x73, 0xbe, 0x21, 0x13, 0x67, 0x43, 0x20, 0x07,
    0x18, 0x00, 0x00, 0x01, 0xa5,
];
/// The command header the phone sends: READ BINARY of 0x31 = 49 bytes (a case-2 TPDU).
const TPDU_HEADER: [u8; 5] = [0x00, 0xb0, 0x00, 0x00, 0x31];
/// Chosen so the rig's DT_CEMU_TX_DATA (14 header/flag/length bytes + INS + 49) fills one
/// 64-byte packet exactly: the transport must then send a zero-length packet.
const RESPONSE_LEN: usize = 49;

fn response_data() -> Vec<u8> {
    (0..RESPONSE_LEN as u8).map(|i| 0x40 + i).collect()
}

/// Rig → board, bulk OUT: DT_CEMU_SET_ATR.
fn set_atr() -> (Frame, Vec<u8>) {
    let frame = Frame::new(0, Message::SetAtr { atr: ATR.to_vec() });
    let mut wire = vec![0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x1f, 0x00, 0x16];
    wire.extend_from_slice(&ATR);
    (frame, wire)
}

/// Board → rig, interrupt IN: BD_CEMU_STATUS once the phone powers the card (VCC and clock
/// on, reset released, card emulation active, card present).
fn status() -> (Frame, Vec<u8>) {
    let flags = status_flags::VCC_PRESENT
        | status_flags::CLK_ACTIVE
        | status_flags::RCEMU_ACTIVE
        | status_flags::CARD_INSERT;
    let status = CemuStatus { flags, voltage_mv: 3300, fi: 1, di: 1, wi: 10, waiting_time: 9600 };
    let frame = Frame::new(0, Message::Status(status));
    let wire = vec![
        0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x15, 0x00, // CARDEM STATUS, 21 bytes
        0x0f, 0x00, 0x00, 0x00, // flags
        0xe4, 0x0c, // 3300 mV
        0x01, 0x01, 0x0a, // F index, D index, WI
        0x80, 0x25, 0x00, 0x00, // waiting time 9600 etu
    ];
    (frame, wire)
}

/// Board → rig, bulk IN: DO_CEMU_RX_DATA with the 5-byte TPDU header.
fn rx_header() -> (Frame, Vec<u8>) {
    let frame = Frame::new(0, Message::RxData { flags: data_flags::TPDU_HDR, data: TPDU_HEADER.to_vec() });
    let mut wire = vec![
        0x01, 0x06, 0x00, 0x00, 0x00, 0x00, 0x13, 0x00, // CARDEM RX_DATA, 19 bytes
        0x01, 0x00, 0x00, 0x00, // TPDU_HDR
        0x05, 0x00, // data_len
    ];
    wire.extend_from_slice(&TPDU_HEADER);
    (frame, wire)
}

/// Rig → board, bulk OUT: procedure byte (INS) and the response data.
fn tx_data() -> (Frame, Vec<u8>) {
    let mut data = vec![TPDU_HEADER[1]];
    data.extend(response_data());
    let frame = Frame::new(0, Message::TxData { flags: data_flags::PB_AND_TX, data });
    let mut wire = vec![
        0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, // CARDEM TX_DATA, 64 bytes
        0x04, 0x00, 0x00, 0x00, // PB_AND_TX
        0x32, 0x00, // data_len 50
        0xb0, // procedure byte: INS, all data follows
    ];
    wire.extend(response_data());
    (frame, wire)
}

/// Rig → board, bulk OUT: the status word 90 00, last of the command.
fn tx_final() -> (Frame, Vec<u8>) {
    let frame = Frame::new(
        0,
        Message::TxData { flags: data_flags::PB_AND_TX | data_flags::FINAL, data: vec![0x90, 0x00] },
    );
    let wire =
        vec![0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x06, 0x00, 0x00, 0x00, 0x02, 0x00, 0x90, 0x00];
    (frame, wire)
}

/// The codec agrees with the hand-written wire bytes both ways. Runs without umockdev.
fn cardem_frames_are_byte_exact() -> Result<(), Failed> {
    for (name, (frame, wire)) in [
        ("SET_ATR", set_atr()),
        ("STATUS", status()),
        ("RX_DATA", rx_header()),
        ("TX_DATA", tx_data()),
        ("TX_DATA final", tx_final()),
    ] {
        let encoded = frame.try_encode().map_err(|e| format!("{name}: encode: {e}"))?;
        if encoded != wire {
            return Err(
                format!("{name}: encoded {} but the wire form is {}", hex(&encoded), hex(&wire)).into()
            );
        }
        let decoded = Frame::decode(&wire).map_err(|e| format!("{name}: decode: {e}"))?;
        if decoded != frame {
            return Err(format!("{name}: decoded {decoded:?}, expected {frame:?}").into());
        }
    }
    let (_, tx) = tx_data();
    if tx.len() != usize::from(PACKET) {
        return Err(
            format!("TX_DATA is {} bytes; the exchange needs exactly one full packet", tx.len()).into()
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The rig side, run under umockdev-run.

fn expected_board() -> BoardInfo {
    BoardInfo {
        bus: BUS,
        address: DEVNUM,
        vendor_id: VENDOR,
        product_id: PRODUCT,
        product: PRODUCT_NAME.to_owned(),
        serial: Some(SERIAL.to_owned()),
    }
}

fn inner() {
    // Never talk to real USB: only run with umockdev's preload library mapped in.
    let maps = std::fs::read_to_string("/proc/self/maps").expect("read /proc/self/maps");
    assert!(
        std::env::var_os("UMOCKDEV_DIR").is_some() && maps.contains("libumockdev-preload"),
        "{INNER_ENV} is set but this process does not run under umockdev-run; refusing to touch real USB"
    );

    // Enumeration: vendor, product and the serial number (read through control transfers).
    let boards = list_boards().expect("list_boards under umockdev");
    assert_eq!(boards, vec![expected_board()], "list_boards");
    // rusb uses the system's shared libusb (found through pkg-config), not a vendored copy:
    // this exercises the library the lab machine runs.
    assert!(maps_now().contains("libusb-1.0.so"), "libusb-1.0 is not dynamically linked:\n{}", maps_now());

    // A serial number that is not connected is refused, naming the board that is.
    let err = UsbTransport::open(VENDOR, PRODUCT, Some("0000000000000000000000000000dead"), 0)
        .expect_err("opening by a serial number that is not connected");
    match &err {
        TransportError::NotFound { device, hint } => {
            assert_eq!(device, "SIMtrace2 1d50:60e3 with serial 0000000000000000000000000000dead");
            assert!(
                hint.contains(&expected_board().to_string()),
                "hint should list the connected board: {hint}"
            );
        }
        other => panic!("expected NotFound, got {other:?}"),
    }

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    rt.block_on(async {
        // Open by serial: finds the card-emulation interface in configuration 1 (skipping the
        // DFU interface and the version configuration), claims it, starts the readers.
        let mut transport =
            tokio::task::spawn_blocking(|| UsbTransport::open(VENDOR, PRODUCT, Some(SERIAL), 0))
                .await
                .expect("open task")
                .expect("open the board by serial");
        assert_eq!(
            transport.device(),
            format!("SIMtrace 2 1d50:60e3 at bus {BUS} address {DEVNUM} (serial {SERIAL}) interface 0")
        );

        // The rig programs the ATR (umockdev completes the write only if the bytes match).
        transport.send(&set_atr().0).await.expect("send SET_ATR");

        // The board reports the card powered (interrupt IN) and sends the command header
        // (bulk IN). Two reader threads feed the channel, so between endpoints the order is
        // not fixed; each must arrive once, decoded.
        let mut got = Vec::new();
        for _ in 0..2 {
            let frame = tokio::time::timeout(RECV_TIMEOUT, transport.recv())
                .await
                .unwrap_or_else(|_| panic!("no frame from the board after {got:?}"))
                .expect("recv");
            got.push(frame);
        }
        let status = status().0;
        let header = rx_header().0;
        assert!(
            got == vec![status.clone(), header.clone()] || got == vec![header, status],
            "frames from the board: {got:?}"
        );

        // The rig answers: procedure byte + data (a full packet, so a zero-length packet
        // follows), then the status word.
        transport.send(&tx_data().0).await.expect("send TX_DATA with the response data");
        transport.send(&tx_final().0).await.expect("send TX_DATA with the status word");

        // The last write completing means umockdev reached the capture's last record (it
        // replays strictly in order). Nothing else arrives.
        if let Ok(extra) = tokio::time::timeout(Duration::from_millis(300), transport.recv()).await {
            panic!("unexpected frame after the exchange: {extra:?}");
        }
        drop(transport);
    });
}

fn maps_now() -> String {
    std::fs::read_to_string("/proc/self/maps").unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The outer run: writes the device description and the capture, runs the inner one.

fn simtrace2_usb_transport_under_umockdev() -> Result<(), Failed> {
    let umockdev_run = find_in_path("umockdev-run").ok_or(
        "umockdev-run is not installed: run ci/setup-debian.sh (it installs the Debian package umockdev, \
         which CI has) and run the tests again",
    )?;
    let dir = tempfile::Builder::new().prefix("seedrig-usb-umockdev").tempdir()?;
    let device_file = dir.path().join("simtrace2.umockdev");
    let capture_file = dir.path().join("simtrace2-cardem.pcap");
    std::fs::write(&device_file, device_description())?;
    std::fs::write(&capture_file, capture())?;
    let stdout_file = dir.path().join("inner.stdout");
    let stderr_file = dir.path().join("inner.stderr");

    let mut child = Command::new(&umockdev_run)
        .arg("--device")
        .arg(&device_file)
        .arg("--pcap")
        .arg(format!("/sys{SYSFS_PATH}={}", capture_file.display()))
        .arg("--")
        .arg(std::env::current_exe()?)
        .env(INNER_ENV, "1")
        .env_remove("RUST_LOG")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_file)?)
        .stderr(File::create(&stderr_file)?)
        // Its own process group, so a hung run can be stopped with everything it started.
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", umockdev_run.display()))?;
    let status = wait_with_deadline(&mut child, INNER_DEADLINE)?;
    let stdout = std::fs::read_to_string(&stdout_file).unwrap_or_default();
    let stderr = std::fs::read_to_string(&stderr_file).unwrap_or_default();
    // Every read that times out with nothing to replay (the readers poll every 100 ms) makes
    // umockdev print this; it is expected and would bury the useful lines.
    let (polls, stderr): (Vec<&str>, Vec<&str>) = stderr
        .lines()
        .partition(|l| l.contains("Reaping discard URB") && l.contains("without corresponding submit"));
    let stderr =
        format!("{}\n({} messages about IN reads timing out left out)", stderr.join("\n"), polls.len());
    if status.is_some_and(|s| s.success()) && stdout.contains(INNER_OK) {
        return Ok(());
    }
    // Keep the files for a look at what was replayed.
    let dir = dir.keep();
    let report = |what: &str| -> Failed {
        format!(
            "{what}\n--- inner stdout ---\n{stdout}\n--- inner stderr (last 60 lines) ---\n{}\n\
             (device file and capture kept in {})",
            tail(&stderr, 60),
            dir.display()
        )
        .into()
    };
    match status {
        None => Err(report(&format!("the run under umockdev-run did not finish within {INNER_DEADLINE:?}"))),
        Some(s) if !s.success() => Err(report(&format!("the run under umockdev-run failed ({s})"))),
        Some(_) => Err(report("the run under umockdev-run exited 0 without passing")),
    }
}

/// `Ok(None)` if the deadline passed (the process group is then killed).
fn wait_with_deadline(
    child: &mut std::process::Child,
    deadline: Duration,
) -> Result<Option<ExitStatus>, Failed> {
    if let Some(status) = common::wait_exit(child, deadline) {
        return Ok(Some(status));
    }
    // The group this test created for the child (process_group(0) above).
    let pgid = rustix::process::Pid::from_child(child);
    let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
    let _ = child.wait();
    Ok(None)
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------------------------
// The device description (umockdev-record text format).

/// Device descriptor and every configuration descriptor, as sysfs `descriptors` holds them.
/// The cardem firmware on the simtrace board has two configurations: 1 = card emulation
/// (interface 0 ff/02/00 with bulk OUT 0x04, bulk IN 0x85, interrupt IN 0x86; interface 1 the
/// DFU runtime interface) and 2 = a version-string placeholder.
fn descriptors() -> Vec<u8> {
    let [vendor_lo, vendor_hi] = VENDOR.to_le_bytes();
    let [product_lo, product_hi] = PRODUCT.to_le_bytes();
    let mut d = vec![
        18,
        0x01, // device descriptor
        0x00,
        0x02, // USB 2.00
        0x00,
        0x00,
        0x00, // class per interface
        64,   // ep0 max packet
        vendor_lo,
        vendor_hi,
        product_lo,
        product_hi,
        0x02,
        0x00, // bcdDevice
        STR_MANUFACTURER,
        STR_PRODUCT,
        STR_SERIAL,
        2, // configurations
    ];
    let mut cardem = interface(0, 3, (0xff, 0x02, 0x00), STR_USIM1_INTF);
    cardem.extend(endpoint(EP_OUT, 0x02, PACKET, 0));
    cardem.extend(endpoint(EP_IN, 0x02, PACKET, 0));
    cardem.extend(endpoint(EP_INT, 0x03, PACKET, 1));
    cardem.extend(interface(1, 0, (0xfe, 0x01, 0x01), 0)); // DFU runtime
    cardem.extend([9, 0x21, 0x0b, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]); // DFU functional: 512-byte pages, DFU 1.0
    d.extend(configuration(1, 2, STR_PHONE_CONF, &cardem));
    d.extend(configuration(2, 1, STR_VERSION_CONF, &interface(0, 0, (0xff, 0xff, 0x00), STR_VERSION)));
    d
}

fn configuration(value: u8, interfaces: u8, name: u8, body: &[u8]) -> Vec<u8> {
    let total = (9 + body.len()) as u16;
    // Bus powered, 100 mA.
    let mut c =
        vec![9, 0x02, total.to_le_bytes()[0], total.to_le_bytes()[1], interfaces, value, name, 0x80, 50];
    c.extend_from_slice(body);
    c
}

fn interface(number: u8, endpoints: u8, (class, subclass, protocol): (u8, u8, u8), name: u8) -> Vec<u8> {
    vec![9, 0x04, number, 0, endpoints, class, subclass, protocol, name]
}

fn endpoint(address: u8, attributes: u8, max_packet: u16, interval: u8) -> Vec<u8> {
    let [lo, hi] = max_packet.to_le_bytes();
    vec![7, 0x05, address, attributes, lo, hi, interval]
}

fn device_description() -> String {
    // Upper case: umockdev's N: lines accept nothing else.
    let desc: String = descriptors().iter().map(|b| format!("{b:02X}")).collect();
    let node = format!("bus/usb/{BUS:03}/{DEVNUM:03}");
    format!(
        "P: {SYSFS_PATH}
N: {node}={desc}
E: DEVNAME=/dev/{node}
E: DEVTYPE=usb_device
E: DRIVER=usb
E: PRODUCT={VENDOR:x}/{PRODUCT:x}/2
E: TYPE=0/0/0
E: BUSNUM={BUS:03}
E: DEVNUM={DEVNUM:03}
E: MAJOR=189
E: MINOR={minor}
E: SUBSYSTEM=usb
A: authorized=1
A: bConfigurationValue=1
A: bDeviceClass=00
A: bDeviceProtocol=00
A: bDeviceSubClass=00
A: bMaxPacketSize0=64
A: bMaxPower=100mA
A: bNumConfigurations=2
A: bNumInterfaces= 2
A: bcdDevice=0002
A: bmAttributes=80
A: busnum={BUS}
A: configuration=SIMtrace Card Emulation
H: descriptors={desc}
A: dev=189:{minor}
A: devnum={DEVNUM}
A: devpath=2
A: idProduct={PRODUCT:04x}
A: idVendor={VENDOR:04x}
A: manufacturer={MANUFACTURER}
A: maxchild=0
A: product={PRODUCT_NAME}
A: serial={SERIAL}
A: speed=12
A: version= 2.00
",
        minor = (u32::from(BUS) - 1) * 128 + u32::from(DEVNUM) - 1,
    )
}

// ---------------------------------------------------------------------------------------------
// The capture: classic pcap, LINKTYPE_USB_LINUX_MMAPPED (220), one 64-byte usbmon header per
// record. Each transfer is a submit ('S') and a completion ('C') with the same id.

/// What the board does, in the order the rig asks for it.
fn capture() -> Vec<u8> {
    let mut c = Capture::new(BUS, DEVNUM);
    // list_boards: product and serial strings of the one SIMtrace2-family board.
    c.board_strings();
    // open with a serial number that is not there: the board's strings to compare, then
    // again for the "boards connected" hint.
    c.board_strings();
    c.board_strings();
    // open with the right serial.
    c.board_strings();
    // The card-emulation exchange. The reader threads keep IN transfers of READ_LEN bytes
    // pending; umockdev answers the one recorded next.
    c.bulk_out(EP_OUT, &set_atr().1);
    c.interrupt_in(EP_INT, READ_LEN, &status().1);
    c.bulk_in(EP_IN, READ_LEN, &rx_header().1);
    c.bulk_out(EP_OUT, &tx_data().1);
    c.bulk_out(EP_OUT, &[]); // zero-length packet ending the full-packet transfer
    c.bulk_out(EP_OUT, &tx_final().1);
    c.bytes
}

const XFER_INTERRUPT: u8 = 1;
const XFER_CONTROL: u8 = 2;
const XFER_BULK: u8 = 3;
/// usbmon's status of a submission still in flight (-EINPROGRESS).
const EINPROGRESS: i32 = -115;

struct Capture {
    bytes: Vec<u8>,
    bus: u16,
    devnum: u8,
    next_id: u64,
    usec: u64,
}

impl Capture {
    fn new(bus: u8, devnum: u8) -> Capture {
        let mut bytes = Vec::new();
        bytes.extend(0xa1b2_c3d4u32.to_le_bytes()); // magic, microsecond timestamps
        bytes.extend(2u16.to_le_bytes());
        bytes.extend(4u16.to_le_bytes());
        bytes.extend(0i32.to_le_bytes()); // thiszone
        bytes.extend(0u32.to_le_bytes()); // sigfigs
        bytes.extend(65_535u32.to_le_bytes()); // snaplen
        bytes.extend(220u32.to_le_bytes()); // LINKTYPE_USB_LINUX_MMAPPED
        Capture { bytes, bus: u16::from(bus), devnum, next_id: 1, usec: 0 }
    }

    /// What libusb's `get_string_descriptor_ascii` asks for, once for the product and once
    /// for the serial number.
    fn board_strings(&mut self) {
        self.string(STR_PRODUCT, PRODUCT_NAME);
        self.string(STR_SERIAL, SERIAL);
    }

    /// The language-id list (4 bytes asked), then the string in US English (255 bytes asked).
    fn string(&mut self, index: u8, text: &str) {
        self.control_in(get_descriptor(0x03, 0, 0x0000, 4), &[4, 0x03, 0x09, 0x04]);
        let mut desc = vec![(2 + 2 * text.len()) as u8, 0x03];
        desc.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        self.control_in(get_descriptor(0x03, index, 0x0409, 255), &desc);
    }

    fn control_in(&mut self, setup: [u8; 8], reply: &[u8]) {
        let id = self.id();
        let w_length = u32::from(u16::from_le_bytes([setup[6], setup[7]]));
        self.record(id, b'S', XFER_CONTROL, 0x80, Some(setup), EINPROGRESS, w_length, &[]);
        self.record(id, b'C', XFER_CONTROL, 0x80, None, 0, reply.len() as u32, reply);
    }

    fn bulk_out(&mut self, ep: u8, data: &[u8]) {
        let id = self.id();
        self.record(id, b'S', XFER_BULK, ep, None, EINPROGRESS, data.len() as u32, data);
        self.record(id, b'C', XFER_BULK, ep, None, 0, data.len() as u32, &[]);
    }

    fn bulk_in(&mut self, ep: u8, requested: u32, data: &[u8]) {
        self.transfer_in(XFER_BULK, ep, requested, data);
    }

    fn interrupt_in(&mut self, ep: u8, requested: u32, data: &[u8]) {
        self.transfer_in(XFER_INTERRUPT, ep, requested, data);
    }

    fn transfer_in(&mut self, xfer: u8, ep: u8, requested: u32, data: &[u8]) {
        let id = self.id();
        self.record(id, b'S', xfer, ep, None, EINPROGRESS, requested, &[]);
        self.record(id, b'C', xfer, ep, None, 0, data.len() as u32, data);
    }

    fn id(&mut self) -> u64 {
        // umockdev treats id 0 as "not matched yet": start at 1.
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// One usbmon record: the 64-byte `mon_bin_hdr` and the captured data.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        id: u64,
        event: u8,
        xfer: u8,
        ep: u8,
        setup: Option<[u8; 8]>,
        status: i32,
        length: u32,
        data: &[u8],
    ) {
        self.usec += 100;
        let (sec, usec) = (self.usec / 1_000_000, (self.usec % 1_000_000) as u32);
        let mut h = Vec::with_capacity(64 + data.len());
        h.extend(id.to_le_bytes());
        h.extend([event, xfer, ep, self.devnum]);
        h.extend(self.bus.to_le_bytes());
        // flag_setup: 0 when setup bytes follow, else '-'; flag_data: 0 when data follows,
        // else '<' (IN, data still to come) or '>' (OUT, data already sent).
        h.push(if setup.is_some() { 0 } else { b'-' });
        h.push(if !data.is_empty() {
            0
        } else if ep & 0x80 != 0 {
            b'<'
        } else {
            b'>'
        });
        h.extend((sec as i64).to_le_bytes());
        h.extend((usec as i32).to_le_bytes());
        h.extend(status.to_le_bytes());
        h.extend(length.to_le_bytes());
        h.extend((data.len() as u32).to_le_bytes()); // len_cap
        h.extend(setup.unwrap_or([0; 8]));
        h.extend(0i32.to_le_bytes()); // interval
        h.extend(0i32.to_le_bytes()); // start_frame
        h.extend(0u32.to_le_bytes()); // xfer_flags
        h.extend(0u32.to_le_bytes()); // ndesc
        assert_eq!(h.len(), 64);
        h.extend_from_slice(data);
        // pcap record header: timestamp, captured and original length.
        self.bytes.extend((sec as u32).to_le_bytes());
        self.bytes.extend(usec.to_le_bytes());
        self.bytes.extend((h.len() as u32).to_le_bytes());
        self.bytes.extend((h.len() as u32).to_le_bytes());
        self.bytes.extend(h);
    }
}

/// A standard GET_DESCRIPTOR request (device to host).
fn get_descriptor(kind: u8, index: u8, language: u16, length: u16) -> [u8; 8] {
    let [lang_lo, lang_hi] = language.to_le_bytes();
    let [len_lo, len_hi] = length.to_le_bytes();
    [0x80, 0x06, index, kind, lang_lo, lang_hi, len_lo, len_hi]
}
