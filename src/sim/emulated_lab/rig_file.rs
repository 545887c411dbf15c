//! The rig file an emulated lab writes about itself: `kind = "lab"`, every part where the lab
//! put it, hooks that call `seedrig sim net` / `seedrig sim dut` on its control socket.

use std::fmt::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::LabOptions;
use crate::model::FaultKind;

pub struct Layout<'a> {
    pub options: &'a LabOptions,
    pub pcsc_socket: &'a Path,
    /// (reader name, seed id)
    pub readers: Vec<(String, String)>,
    pub slot_sockets: Vec<PathBuf>,
    pub console: &'a Path,
    pub observer: &'a Path,
    pub control: &'a Path,
    pub backend: SocketAddr,
}

/// TOML strings: a basic string with `"` and `\` escaped.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn path(p: &Path) -> String {
    quoted(&p.display().to_string())
}

/// `["seedrig", "sim", <what>, "--control", SOCKET, args...]`
fn hook(l: &Layout, what: &str, args: &[&str]) -> String {
    let mut argv =
        vec![path(&l.options.seedrig), quoted("sim"), quoted(what), quoted("--control"), path(l.control)];
    argv.extend(args.iter().map(|a| quoted(a)));
    format!("[{}]", argv.join(", "))
}

pub fn write(l: &Layout) -> String {
    let mut out = String::new();
    let o = l.options;
    let _ =
        writeln!(out, "# An emulated lab (`seedrig sim lab`): the virtual world presented as a lab bench.");
    let _ = writeln!(out, "# Valid while that process runs; every path below is its own.\n");
    let _ = writeln!(out, "kind = \"lab\"\nname = \"emulated-lab\"\nslots = {}", o.slots);
    let _ = writeln!(
        out,
        "time_scale = {}          # the emulated world runs scaled; a real lab runs at 1",
        o.time_scale
    );
    let _ = writeln!(out, "hotplug_wait_s = 2\n");
    let _ = writeln!(out, "[pcsc]\nsocket = {}\n", path(l.pcsc_socket));
    for (name, seed) in &l.readers {
        let _ = writeln!(out, "[[readers]]\nname = {}\nseed = {}\n", quoted(name), quoted(seed));
    }
    for (slot, socket) in l.slot_sockets.iter().enumerate() {
        let _ = writeln!(out, "[[channels]]\nslot = {slot}\nsocket = {}\n", path(socket));
    }
    let boot_timeout_s = o.program.as_ref().map_or(10, |p| p.boot_timeout_ms.div_ceil(1000));
    let _ = writeln!(out, "[dut]\nconsole = {}\nboot_timeout_s = {boot_timeout_s}", path(l.console));
    if let Some(delay) = o.power_delay {
        let timeout_s = delay.as_secs() + 30;
        let _ = writeln!(
            out,
            "power = {{ run = {}, timeout_s = {timeout_s}{} }}   # takes {} s",
            hook(l, "dut", &["power-cycle"]),
            when(o.when.power),
            delay.as_secs_f64()
        );
    }
    let _ = writeln!(
        out,
        "configure = {{ run = {}, timeout_s = 10{} }}",
        hook(l, "dut", &["configure", "{config}"]),
        when(o.when.configure)
    );
    let _ = writeln!(
        out,
        "reset = {{ run = {}, timeout_s = 10{} }}\n",
        hook(l, "dut", &["restart"]),
        when(o.when.reset)
    );
    let patterns = match &o.program {
        Some(program) => match &program.events {
            crate::model::ConsoleFormat::Patterns(p) => Some(p.clone()),
            crate::model::ConsoleFormat::Json => None,
        },
        None => o.text_console.then(crate::reference_firmware::console::text_patterns),
    };
    if let Some(patterns) = patterns {
        let _ = writeln!(out, "[dut.console_events]\nformat = \"patterns\"\n");
        for p in patterns {
            let _ = writeln!(out, "[[dut.console_events.patterns]]\nevent = \"{}\"", p.event.name());
            let _ = writeln!(out, "regex = {}", quoted(&p.regex));
            if let Some(explicit) = p.explicit {
                let _ = writeln!(out, "explicit = {explicit}");
            }
            out.push('\n');
        }
    }
    let _ = writeln!(out, "[observer]\nport = {}\nkind = \"modem_port\"\n", path(l.observer));
    let _ = writeln!(out, "[backend]\nlisten = \"{}\"\n", l.backend);
    if o.measured {
        let _ = writeln!(out, "[network]\nsite = \"measured\"\nambiguity_margin = 0.05");
        return out;
    }
    let _ = writeln!(out, "[network]\nsite = \"fixture\"");
    let _ = writeln!(out, "set_site = {{ run = {} }}", hook(l, "net", &["site", "{site}"]));
    let _ = writeln!(out, "clear = {{ run = {} }}\n", hook(l, "net", &["clear"]));
    let _ = writeln!(out, "[network.faults]");
    for kind in network_kinds().into_iter().filter(|k| !o.without_faults.iter().any(|w| w == k)) {
        let args: Vec<&str> = match kind {
            "reject" | "dial_fail" => vec!["fault", "{seed}", kind, "{cause}"],
            "slow_attach" => vec!["fault", "{seed}", kind, "{delay_ms}"],
            _ => vec!["fault", "{seed}", kind],
        };
        let _ = writeln!(out, "{kind} = {{ run = {} }}", hook(l, "net", &args));
    }
    out
}

/// A DUT hook's `when` key, where it is not the default.
fn when(w: crate::model::When) -> String {
    match w {
        crate::model::When::EveryScenario => String::new(),
        other => format!(", when = \"{}\"", other.name()),
    }
}

/// Every network fault kind, by name.
fn network_kinds() -> Vec<&'static str> {
    FaultKind::NAMES
        .iter()
        .copied()
        .filter(|n| FaultKind::from_name(n).is_some_and(|k| !k.is_card_fault()))
        .collect()
}
