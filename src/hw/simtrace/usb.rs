//! A SIMtrace2-class board in card-emulation mode, over USB (rusb / libusb).
//!
//! libusb calls block, so none of them runs on the async runtime's workers: the bulk IN and
//! interrupt IN endpoints are each read by a dedicated std thread that feeds decoded frames
//! into one tokio channel, and writes go through `spawn_blocking`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rusb::{Context, Device, DeviceHandle, Direction, TransferType, UsbContext};
use tokio::sync::mpsc;

use super::boards::{self, VENDOR_ID};
use super::codec::{Decoder, Frame, MAX_FRAME_LEN};
use super::transport::{CardemTransport, TransportError};

/// Card-emulation interface: vendor-specific class, SIMtrace card-emulation subclass.
const CARDEM_CLASS: (u8, u8, u8) = (0xff, 0x02, 0x00);

/// How long a reader thread blocks before checking whether it should stop; bounds how long
/// dropping a transport takes.
const READ_POLL: Duration = Duration::from_millis(100);
/// A write that takes longer means the board has stopped taking data.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Frames waiting for the bridge; beyond this the reader threads wait (USB then NAKs).
const CHANNEL_DEPTH: usize = 256;
/// Consecutive failed reads after which an endpoint is declared dead.
const MAX_READ_ERRORS: u32 = 20;

/// A SIMtrace2-family board seen on the USB bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardInfo {
    pub bus: u8,
    pub address: u8,
    pub vendor_id: u16,
    pub product_id: u16,
    /// The product string descriptor, or the known model name when it cannot be read.
    pub product: String,
    /// The serial number, when readable (needs permission to open the device).
    pub serial: Option<String>,
}

impl fmt::Display for BoardInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:04x}:{:04x} at bus {} address {}",
            self.product, self.vendor_id, self.product_id, self.bus, self.address
        )?;
        match &self.serial {
            Some(serial) => write!(f, " (serial {serial})"),
            None => Ok(()),
        }
    }
}

/// The SIMtrace2-family boards on this machine's USB buses. Blocking (it reads string
/// descriptors). Boards the user may not open are listed without a serial number.
pub fn list_boards() -> Result<Vec<BoardInfo>, TransportError> {
    let ctx = usb_context("USB bus")?;
    let devices = ctx.devices().map_err(|e| usb_error("USB bus", format!("cannot list devices: {e}")))?;
    Ok(devices.iter().filter(is_simtrace).map(|d| board_info(&d)).collect())
}

/// One claimed card-emulation interface of a board.
pub struct UsbTransport {
    device: String,
    claimed: Arc<Claimed>,
    ep_out: u8,
    out_packet: usize,
    rx: mpsc::Receiver<Result<Frame, TransportError>>,
    stop: Arc<AtomicBool>,
    readers: Vec<JoinHandle<()>>,
}

impl fmt::Debug for UsbTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsbTransport").field("device", &self.device).finish_non_exhaustive()
    }
}

impl UsbTransport {
    /// Opens card-emulation interface number `interface` (0 = first SIM; 1 = second SIM on
    /// QMOD) of the board `vendor:product`, picked by `serial` when several are connected.
    ///
    /// Selects the configuration holding that interface, detaches a kernel driver, claims
    /// the interface and starts the reader threads. Blocking: from async code call it in
    /// `spawn_blocking`.
    pub fn open(
        vendor: u16,
        product: u16,
        serial: Option<&str>,
        interface: u8,
    ) -> Result<UsbTransport, TransportError> {
        let wanted = wanted_name(vendor, product, serial);
        let ctx = usb_context(&wanted)?;
        let (device, info) = find_board(&ctx, vendor, product, serial, &wanted)?;
        let name = format!("{info} interface {interface}");
        let cardem = find_cardem(&device, interface).map_err(|reason| usb_error(&name, reason))?;
        let handle = device.open().map_err(|e| open_error(&name, &info, e))?;
        let claimed = Arc::new(claim(handle, &cardem, &name)?);
        tracing::info!(device = %name, ep_out = cardem.ep_out, ep_in = cardem.ep_in, ep_int = cardem.ep_int, "claimed card-emulation interface");
        UsbTransport::start(name, claimed, &cardem)
    }

    /// What error messages call this board interface.
    pub fn device(&self) -> &str {
        &self.device
    }

    fn start(device: String, claimed: Arc<Claimed>, cardem: &Cardem) -> Result<UsbTransport, TransportError> {
        let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
        let stop = Arc::new(AtomicBool::new(false));
        let mut transport = UsbTransport {
            device,
            claimed,
            ep_out: cardem.ep_out,
            out_packet: cardem.out_packet,
            rx,
            stop,
            readers: Vec::new(),
        };
        for (kind, ep) in [(EndpointKind::Bulk, cardem.ep_in), (EndpointKind::Interrupt, cardem.ep_int)] {
            let reader = EndpointReader {
                claimed: transport.claimed.clone(),
                ep,
                kind,
                tx: tx.clone(),
                stop: transport.stop.clone(),
                device: transport.device.clone(),
            };
            let thread = std::thread::Builder::new()
                .name(format!("simtrace-{kind}-{ep:02x}"))
                .spawn(move || reader.run())
                .map_err(|e| {
                    usb_error(&transport.device, format!("cannot start the {kind} reader thread: {e}"))
                })?;
            transport.readers.push(thread);
        }
        Ok(transport)
    }
}

impl CardemTransport for UsbTransport {
    async fn send(&mut self, frame: &Frame) -> Result<(), TransportError> {
        let bytes = frame
            .try_encode()
            .map_err(|source| TransportError::Codec { device: self.device.clone(), source })?;
        let (claimed, ep, packet, device) =
            (self.claimed.clone(), self.ep_out, self.out_packet, self.device.clone());
        tokio::task::spawn_blocking(move || write_frame(&claimed, ep, packet, &bytes, &device))
            .await
            .map_err(|e| usb_error(&self.device, format!("write task failed: {e}")))?
    }

    async fn recv(&mut self) -> Result<Frame, TransportError> {
        // Readers drop their senders only after reporting why; an empty closed channel
        // therefore means the board is gone.
        self.rx.recv().await.unwrap_or_else(|| Err(TransportError::Closed { device: self.device.clone() }))
    }
}

impl Drop for UsbTransport {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Closing wakes a reader blocked on a full channel, so the joins below finish within
        // one READ_POLL. Joining makes the interface free again when drop returns.
        self.rx.close();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }
}

/// Writes one encoded frame. A frame filling whole packets is followed by a zero-length
/// packet: the SAM3 firmware ends an OUT transfer only on a short packet, and without it
/// would sit on the frame until the next one arrives.
fn write_frame(
    claimed: &Claimed,
    ep: u8,
    packet: usize,
    bytes: &[u8],
    device: &str,
) -> Result<(), TransportError> {
    let written = claimed.handle.write_bulk(ep, bytes, WRITE_TIMEOUT).map_err(|e| write_error(device, e))?;
    if written != bytes.len() {
        let reason = format!(
            "wrote {written} of {} bytes before timing out; the board stopped taking data (reset it)",
            bytes.len()
        );
        return Err(usb_error(device, reason));
    }
    if packet > 0 && bytes.len().is_multiple_of(packet) {
        claimed.handle.write_bulk(ep, &[], WRITE_TIMEOUT).map_err(|e| write_error(device, e))?;
    }
    Ok(())
}

fn write_error(device: &str, e: rusb::Error) -> TransportError {
    match e {
        rusb::Error::NoDevice => TransportError::Closed { device: device.to_owned() },
        rusb::Error::Timeout => {
            usb_error(device, "write timed out; the board stopped taking data (reset it)".to_owned())
        }
        e => usb_error(device, format!("write failed: {e}")),
    }
}

/// The claimed interface; releasing it (and giving a detached kernel driver back) happens
/// when the last user — transport, reader thread or in-flight write — lets go.
struct Claimed {
    handle: DeviceHandle<Context>,
    interface: u8,
    reattach: bool,
}

impl Drop for Claimed {
    fn drop(&mut self) {
        let _ = self.handle.release_interface(self.interface);
        if self.reattach {
            let _ = self.handle.attach_kernel_driver(self.interface);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EndpointKind {
    Bulk,
    Interrupt,
}

impl fmt::Display for EndpointKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EndpointKind::Bulk => "bulk-in",
            EndpointKind::Interrupt => "irq-in",
        })
    }
}

/// One IN endpoint's reader thread. Each endpoint has its own decoder: a frame never spans
/// two endpoints, and interleaving their bytes would corrupt both.
struct EndpointReader {
    claimed: Arc<Claimed>,
    ep: u8,
    kind: EndpointKind,
    tx: mpsc::Sender<Result<Frame, TransportError>>,
    stop: Arc<AtomicBool>,
    device: String,
}

impl EndpointReader {
    fn run(self) {
        let mut decoder = Decoder::new();
        let mut buf = vec![0u8; MAX_FRAME_LEN];
        let mut errors = 0;
        while !self.stop.load(Ordering::Relaxed) {
            match self.read(&mut buf) {
                Ok(n) => {
                    errors = 0;
                    decoder.push(&buf[..n]);
                    if !self.forward(&mut decoder) {
                        return;
                    }
                }
                Err(rusb::Error::Timeout | rusb::Error::Interrupted) => {}
                Err(rusb::Error::NoDevice) => {
                    let _ =
                        self.tx.blocking_send(Err(TransportError::Closed { device: self.device.clone() }));
                    return;
                }
                Err(e) => {
                    errors += 1;
                    if !self.recover(e, errors) {
                        return;
                    }
                }
            }
        }
    }

    fn read(&self, buf: &mut [u8]) -> rusb::Result<usize> {
        match self.kind {
            EndpointKind::Bulk => self.claimed.handle.read_bulk(self.ep, buf, READ_POLL),
            EndpointKind::Interrupt => self.claimed.handle.read_interrupt(self.ep, buf, READ_POLL),
        }
    }

    /// Hands decoded frames to the transport; `false` once the transport is gone.
    fn forward(&self, decoder: &mut Decoder) -> bool {
        while let Some(result) = decoder.pop() {
            let item = result.map_err(|source| TransportError::Codec { device: self.device.clone(), source });
            if self.tx.blocking_send(item).is_err() {
                return false;
            }
        }
        true
    }

    /// Transient errors are logged and retried; `false` (after reporting) once the endpoint
    /// has failed too often in a row to be worth retrying.
    fn recover(&self, e: rusb::Error, errors: u32) -> bool {
        tracing::warn!(device = %self.device, endpoint = self.ep, kind = %self.kind, error = %e, "USB read failed");
        if e == rusb::Error::Pipe {
            let _ = self.claimed.handle.clear_halt(self.ep);
        }
        if errors < MAX_READ_ERRORS {
            std::thread::sleep(READ_POLL);
            return true;
        }
        let reason = format!(
            "{} endpoint {:#04x} keeps failing ({e}); unplug and replug the board",
            self.kind, self.ep
        );
        let _ = self.tx.blocking_send(Err(usb_error(&self.device, reason)));
        false
    }
}

/// Where the card-emulation interface lives and its endpoints, from the descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cardem {
    config: u8,
    interface: u8,
    alt_setting: u8,
    ep_out: u8,
    ep_in: u8,
    ep_int: u8,
    out_packet: usize,
}

/// Endpoint addresses of a card-emulation interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Endpoints {
    out: u8,
    bulk_in: u8,
    int_in: u8,
    out_packet: usize,
}

/// Picks bulk OUT, bulk IN and interrupt IN from `(address, type, direction, max packet)`.
fn pick_endpoints(eps: &[(u8, TransferType, Direction, u16)]) -> Option<Endpoints> {
    let find = |t: TransferType, d: Direction| eps.iter().find(|e| e.1 == t && e.2 == d);
    let out = find(TransferType::Bulk, Direction::Out)?;
    let bulk_in = find(TransferType::Bulk, Direction::In)?;
    let int_in = find(TransferType::Interrupt, Direction::In)?;
    Some(Endpoints { out: out.0, bulk_in: bulk_in.0, int_in: int_in.0, out_packet: usize::from(out.3) })
}

/// Searches every configuration for card-emulation interface `interface`, preferring the
/// active configuration so a working setup is not reconfigured. `Err` explains what the
/// board offers instead.
fn find_cardem(device: &Device<Context>, interface: u8) -> Result<Cardem, String> {
    let active = device.active_config_descriptor().ok().map(|c| c.number());
    let count = device
        .device_descriptor()
        .map_err(|e| format!("cannot read the device descriptor: {e}"))?
        .num_configurations();
    let mut found = Vec::new();
    let mut seen = Vec::new();
    for index in 0..count {
        let Ok(config) = device.config_descriptor(index) else { continue };
        for alt in config.interfaces().flat_map(|i| i.descriptors()) {
            seen.push(format!(
                "{}.{} class {:02x}/{:02x}/{:02x}",
                alt.interface_number(),
                alt.setting_number(),
                alt.class_code(),
                alt.sub_class_code(),
                alt.protocol_code()
            ));
            let class = (alt.class_code(), alt.sub_class_code(), alt.protocol_code());
            if alt.interface_number() != interface || class != CARDEM_CLASS {
                continue;
            }
            let eps: Vec<_> = alt
                .endpoint_descriptors()
                .map(|e| (e.address(), e.transfer_type(), e.direction(), e.max_packet_size()))
                .collect();
            if let Some(ep) = pick_endpoints(&eps) {
                found.push(Cardem {
                    config: config.number(),
                    interface,
                    alt_setting: alt.setting_number(),
                    ep_out: ep.out,
                    ep_in: ep.bulk_in,
                    ep_int: ep.int_in,
                    out_packet: ep.out_packet,
                });
            }
        }
    }
    let preferred = found.iter().find(|c| Some(c.config) == active).or(found.first());
    preferred.copied().ok_or_else(|| {
        format!(
            "no card-emulation interface {interface} (class ff/02/00 with bulk OUT, bulk IN and interrupt IN) in any configuration; \
             interfaces seen: {}. The board may be in DFU mode or run sniffer firmware: flash the cardem firmware",
            if seen.is_empty() { "none".to_owned() } else { seen.join(", ") }
        )
    })
}

/// Selects the configuration, takes the interface from any kernel driver and claims it.
fn claim(handle: DeviceHandle<Context>, cardem: &Cardem, name: &str) -> Result<Claimed, TransportError> {
    let iface = cardem.interface;
    if handle.active_configuration().ok() != Some(cardem.config) {
        handle
            .set_active_configuration(cardem.config)
            .map_err(|e| busy_or(name, e, format!("cannot select configuration {}", cardem.config)))?;
    }
    let reattach = match handle.kernel_driver_active(iface) {
        Ok(true) => {
            handle
                .detach_kernel_driver(iface)
                .map_err(|e| busy_or(name, e, "cannot detach the kernel driver".to_owned()))?;
            true
        }
        // NotSupported on platforms without kernel drivers to detach.
        Ok(false) | Err(_) => false,
    };
    let claimed = Claimed { handle, interface: iface, reattach };
    claimed
        .handle
        .claim_interface(iface)
        .map_err(|e| busy_or(name, e, "cannot claim the interface".to_owned()))?;
    if cardem.alt_setting != 0 {
        claimed.handle.set_alternate_setting(iface, cardem.alt_setting).map_err(|e| {
            usb_error(name, format!("cannot select alternate setting {}: {e}", cardem.alt_setting))
        })?;
    }
    Ok(claimed)
}

fn busy_or(name: &str, e: rusb::Error, what: String) -> TransportError {
    match e {
        rusb::Error::Busy => usb_error(
            name,
            format!(
                "{what}: it is in use by another program (simtrace2-cardem-pcsc, another seedrig run?); stop that program"
            ),
        ),
        rusb::Error::Access => permission_error(name),
        rusb::Error::NoDevice => TransportError::Closed { device: name.to_owned() },
        e => usb_error(name, format!("{what}: {e}")),
    }
}

/// The one board matching vendor, product and (if given) serial.
fn find_board(
    ctx: &Context,
    vendor: u16,
    product: u16,
    serial: Option<&str>,
    wanted: &str,
) -> Result<(Device<Context>, BoardInfo), TransportError> {
    let devices = ctx.devices().map_err(|e| usb_error(wanted, format!("cannot list USB devices: {e}")))?;
    let candidates: Vec<(Device<Context>, BoardInfo)> = devices
        .iter()
        .filter(|d| {
            d.device_descriptor().is_ok_and(|dd| dd.vendor_id() == vendor && dd.product_id() == product)
        })
        .map(|d| {
            let info = board_info(&d);
            (d, info)
        })
        .collect();
    let unreadable = candidates.iter().any(|(_, info)| info.serial.is_none());
    let mut matching: Vec<_> = match serial {
        Some(s) => candidates.into_iter().filter(|(_, info)| info.serial.as_deref() == Some(s)).collect(),
        None => candidates,
    };
    match matching.len() {
        1 => Ok(matching.remove(0)),
        0 if serial.is_some() && unreadable => Err(permission_error(wanted)),
        0 => Err(not_found(ctx, wanted)),
        _ => {
            let boards: Vec<String> = matching.iter().map(|(_, info)| info.to_string()).collect();
            Err(TransportError::Ambiguous { device: wanted.to_owned(), boards: boards.join("; ") })
        }
    }
}

fn not_found(ctx: &Context, wanted: &str) -> TransportError {
    let devices: Vec<Device<Context>> = ctx.devices().map(|list| list.iter().collect()).unwrap_or_default();
    let present: Vec<String> =
        devices.iter().filter(|d| is_simtrace(d)).map(|d| board_info(d).to_string()).collect();
    let hint = if devices.is_empty() {
        // libusb sees no device at all, not even a root hub: USB is not visible here.
        "this machine shows no USB devices at all (in a container, pass /dev/bus/usb through)".to_owned()
    } else {
        let present = if present.is_empty() { "none".to_owned() } else { present.join("; ") };
        format!(
            "SIMtrace2-family boards connected: {present}. Check the cable and `lsusb -d 1d50:`, \
             and the vendor_id/product_id/serial in the rig file"
        )
    };
    TransportError::NotFound { device: wanted.to_owned(), hint }
}

fn is_simtrace(device: &Device<Context>) -> bool {
    device
        .device_descriptor()
        .is_ok_and(|d| d.vendor_id() == VENDOR_ID && model_name(d.product_id()).is_some())
}

fn model_name(product: u16) -> Option<&'static str> {
    boards::board(product).map(|b| b.name)
}

/// Bus position and, if the device can be opened, its product and serial strings.
fn board_info(device: &Device<Context>) -> BoardInfo {
    let desc = device.device_descriptor().ok();
    let (vendor_id, product_id) = desc.as_ref().map_or((0, 0), |d| (d.vendor_id(), d.product_id()));
    let strings = desc.as_ref().and_then(|d| {
        let handle = device.open().ok()?;
        Some((handle.read_product_string_ascii(d).ok(), handle.read_serial_number_string_ascii(d).ok()))
    });
    let (product, serial) = strings.unwrap_or((None, None));
    let fallback = model_name(product_id).unwrap_or("USB device");
    BoardInfo {
        bus: device.bus_number(),
        address: device.address(),
        vendor_id,
        product_id,
        product: product.unwrap_or_else(|| fallback.to_owned()),
        serial: serial.filter(|s| !s.is_empty()),
    }
}

fn wanted_name(vendor: u16, product: u16, serial: Option<&str>) -> String {
    let model = if vendor == VENDOR_ID { model_name(product) } else { None };
    let mut name = format!("{} {vendor:04x}:{product:04x}", model.unwrap_or("USB device"));
    if let Some(serial) = serial {
        name.push_str(&format!(" with serial {serial}"));
    }
    name
}

fn usb_context(device: &str) -> Result<Context, TransportError> {
    Context::new().map_err(|e| {
        usb_error(
            device,
            format!(
                "cannot initialise libusb ({e}); is /dev/bus/usb present? (in a container, pass it through)"
            ),
        )
    })
}

fn open_error(name: &str, info: &BoardInfo, e: rusb::Error) -> TransportError {
    match e {
        rusb::Error::Access => {
            permission_error(&format!("{name} (/dev/bus/usb/{:03}/{:03})", info.bus, info.address))
        }
        rusb::Error::NoDevice => TransportError::Closed { device: name.to_owned() },
        e => usb_error(name, format!("cannot open: {e}")),
    }
}

fn permission_error(device: &str) -> TransportError {
    TransportError::Permission {
        device: device.to_owned(),
        hint: "install a udev rule giving this user access to vendor 1d50 (osmocom's contrib/99-simtrace2.rules), \
               then replug the board"
            .to_owned(),
    }
}

fn usb_error(device: &str, reason: String) -> TransportError {
    TransportError::Usb { device: device.to_owned(), reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_come_from_descriptors() {
        // SIMtrace2 first SIM, and QMOD's second SIM, in descriptor order.
        let first = [
            (0x04, TransferType::Bulk, Direction::Out, 64),
            (0x85, TransferType::Bulk, Direction::In, 64),
            (0x86, TransferType::Interrupt, Direction::In, 16),
        ];
        assert_eq!(
            pick_endpoints(&first),
            Some(Endpoints { out: 0x04, bulk_in: 0x85, int_in: 0x86, out_packet: 64 })
        );
        let second = [
            (0x83, TransferType::Interrupt, Direction::In, 16),
            (0x82, TransferType::Bulk, Direction::In, 64),
            (0x01, TransferType::Bulk, Direction::Out, 64),
        ];
        assert_eq!(
            pick_endpoints(&second),
            Some(Endpoints { out: 0x01, bulk_in: 0x82, int_in: 0x83, out_packet: 64 })
        );
        assert_eq!(pick_endpoints(&first[..2]), None);
    }

    #[test]
    fn names_say_which_board() {
        assert_eq!(wanted_name(0x1d50, 0x60e3, None), "SIMtrace2 1d50:60e3");
        assert_eq!(wanted_name(0x1d50, 0x4004, Some("ab12")), "QMOD 1d50:4004 with serial ab12");
        assert_eq!(wanted_name(0x1234, 0x60e3, None), "USB device 1234:60e3");
        let info = BoardInfo {
            bus: 1,
            address: 5,
            vendor_id: 0x1d50,
            product_id: 0x60e3,
            product: "SIMtrace2".into(),
            serial: Some("8E2B".into()),
        };
        assert_eq!(info.to_string(), "SIMtrace2 1d50:60e3 at bus 1 address 5 (serial 8E2B)");
    }

    #[test]
    fn listing_boards_never_panics() {
        match list_boards() {
            Ok(boards) => {
                for b in boards {
                    assert_eq!(b.vendor_id, VENDOR_ID, "{b}");
                }
            }
            Err(e) => assert!(matches!(e, TransportError::Usb { .. }), "{e:?}"),
        }
    }

    #[test]
    fn opening_a_missing_board_names_it() {
        let err = UsbTransport::open(0x1d50, 0x616e, Some("no-such-serial-0000"), 0).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("1d50:616e"), "{text}");
        // NotFound where libusb works; a clean USB error where this machine has no USB at all.
        assert!(matches!(err, TransportError::NotFound { .. } | TransportError::Usb { .. }), "{err:?}");
    }
}
