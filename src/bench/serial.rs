//! Serial ports of a lab bench, by stable path: a port that is not there yet is waited for (it
//! may be re-enumerating after a power cycle), then is an error naming the device.

use std::path::Path;
use std::time::Duration;

use tokio_serial::{SerialPortBuilderExt, SerialStream};

use super::error::{BenchError, Port, PortCause};

const POLL: Duration = Duration::from_millis(100);

/// Opens `path` at `baud`, waiting up to `hotplug_wait` for it to appear; errors name it as
/// `port`.
pub async fn open(
    port: Port,
    path: &Path,
    baud: u32,
    hotplug_wait: Duration,
) -> Result<SerialStream, BenchError> {
    let error = |cause| BenchError::SerialPort { port, path: path.to_owned(), cause };
    let until = tokio::time::Instant::now() + hotplug_wait;
    while !path.exists() {
        if tokio::time::Instant::now() >= until {
            return Err(error(PortCause::NotThere { waited: hotplug_wait }));
        }
        tokio::time::sleep(POLL).await;
    }
    tokio_serial::new(path.to_string_lossy(), baud)
        .open_native_async()
        .map_err(|e| error(PortCause::CannotOpen(e)))
}
