//! Serial ports of a lab bench, by stable path: a port that is not there yet is waited for (it
//! may be re-enumerating after a power cycle), then is an error naming the device.

use std::path::Path;
use std::time::Duration;

use tokio_serial::{SerialPortBuilderExt, SerialStream};

const POLL: Duration = Duration::from_millis(100);

/// Opens `path` at `baud`, waiting up to `hotplug_wait` for it to appear.
pub async fn open(
    what: &str,
    path: &Path,
    baud: u32,
    hotplug_wait: Duration,
) -> Result<SerialStream, String> {
    let until = tokio::time::Instant::now() + hotplug_wait;
    while !path.exists() {
        if tokio::time::Instant::now() >= until {
            return Err(format!(
                "{what} {}: not there after waiting {hotplug_wait:?} (unplugged? `ls -l /dev/serial/by-id/` lists the ports)",
                path.display()
            ));
        }
        tokio::time::sleep(POLL).await;
    }
    tokio_serial::new(path.to_string_lossy(), baud)
        .open_native_async()
        .map_err(|e| format!("{what} {}: cannot open: {e}", path.display()))
}
