#!/usr/bin/env python3
"""hotspotd: a seed-SIM failover daemon, written independently of the rig's reference firmware.

Usage: failover_dut.py CONFIG [--at-port PATH] [--console PATH|-]
       (CONFIG: the firmware TOML the rig writes, docs/virtual-bench.md; the options supply or
       override its at_port and console, which a lab's configuration leaves out)

It tries the master seed, then the standbys by descending evaluation index (docs/method.md §2),
judging each attempt by `result`, `timeout` or `both` (§4). It prints plain log lines on its
console (patterns for them are in virtual.toml next to this file) and takes `start`, `status`
and `reset` there. Stdlib only; one thread: a select() loop drives the modem, the console and
every timer, and the work itself is written as generators that yield what they wait for.
"""
import json, os, re, select, sys, termios, time, tomllib, tty
from collections import deque

TIMEOUT = object()          # what a waiting generator gets when its deadline passed
ABANDON_GRACE_S = 10.0      # an abandoned command's answer is taken as lost after this
URC_PREFIXES = ("+CEREG", "+CREG", "+CGREG", "+CPIN", "+QSIMSTAT", "+CGEV", "+QIOPEN", "+QIURC", "+QPING")
FINALS = ("OK", "SEND OK", "ERROR", "NO CARRIER", "SEND FAIL")
RATS = {"GSM": "gsm", "WCDMA": "umts", "TDSCDMA": "umts", "LTE": "lte", "CAT-M": "lte",
        "NBIOT": "lte", "NR5G": "nr", "NR": "nr"}


class Explicit(Exception):
    """The modem or network said no: an explicit failure of the attempt."""


class Cmd:        # send an AT command (with `data` after the `> ` prompt); get (final, lines)
    def __init__(self, text, data=None):
        self.text, self.data, self.until, self.entry = text, data, None, None


class NextUrc:    # the next unsolicited report, oldest first
    until = None


class Sleep:      # nothing but the clock
    def __init__(self, until):
        self.until = until


class Modem:
    """The AT port: cuts the byte stream into finals, info lines, URCs, the prompt and
    `+QIURC: "recv"` payloads, and pairs finals with the commands still outstanding (in order,
    so a command given up on by its attempt still owns its late answer)."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd, termios.TCSANOW)
        self.buf, self.skip_lf, self.payload = b"", False, None
        self.outstanding = deque()          # dicts: text, data, lines, abandoned_at
        self.trace = os.environ.get("HOTSPOTD_AT_TRACE")    # set: every byte both ways on stderr

    def send(self, text, data=None):
        entry = {"text": text, "data": data, "lines": [], "abandoned_at": None}
        # Commands abandoned long ago whose answers never came must not swallow this one's.
        while self.outstanding and (self.outstanding[0]["abandoned_at"] or 1e18) < time.monotonic() - ABANDON_GRACE_S:
            self.outstanding.popleft()
        self.outstanding.append(entry)
        self.write((text + "\r").encode())
        return entry

    def write(self, data):
        if self.trace:
            print(f"{time.monotonic():.4f} AT> {data!r}", file=sys.stderr)
        while data:
            try:
                data = data[os.write(self.fd, data):]
            except BlockingIOError:
                select.select([], [self.fd], [], 1.0)

    def read(self):
        """New items: ('final', entry|None, result, lines), ('urc', urc). Raises EOFError."""
        try:
            chunk = os.read(self.fd, 4096)
        except BlockingIOError:
            return []
        except OSError:             # EIO: the other end of the PTY went away
            chunk = b""
        if not chunk:
            raise EOFError("the modem port closed")
        if self.trace:
            print(f"{time.monotonic():.4f} AT< {chunk!r}", file=sys.stderr)
        self.buf += chunk
        items = []
        while self.buf:
            if self.skip_lf:        # a CR LF pair ends one line, not two
                self.skip_lf = False
                if self.buf[:1] == b"\n":
                    self.buf = self.buf[1:]
                    continue
            if self.payload:        # the recv header said how many raw bytes follow
                conn, n = self.payload
                if len(self.buf) < n:
                    break
                items.append(("urc", ("recv", conn, self.buf[:n])))
                self.buf, self.payload = self.buf[n:], None
                continue
            m = re.search(rb"[\r\n]", self.buf)
            if not m:
                break
            line = self.buf[:m.start()].decode("utf-8", "replace").strip()
            self.buf, self.skip_lf = self.buf[m.end():], m.group() == b"\r"
            if line:
                items += self.line(line)
        # The send prompt has no line end: it is the modem stopping after "> ".
        head = self.outstanding[0] if self.outstanding else None
        if self.buf.strip() == b">" and head and head["data"] is not None:
            self.buf = b""
            self.write(head["data"])    # even for an abandoned send: the modem waits for it
            head["data"] = None
        return items

    def line(self, line):
        head = self.outstanding[0] if self.outstanding else None
        if line in FINALS or line.startswith(("+CME ERROR:", "+CMS ERROR:")):
            if head is None:        # a card failure answering no command
                return [("urc", ("CME", line.split(":", 1)[-1].strip()))] if line.startswith("+CME") else []
            self.outstanding.popleft()
            if head["abandoned_at"] is not None:
                return []
            return [("final", head, line, head["lines"])]
        m = re.match(r'\+QIURC:\s*"recv",(\d+),(\d+)$', line)
        if m:
            self.payload = (int(m.group(1)), int(m.group(2)))
            return []
        name, _, rest = line.partition(":")
        asked = head is not None and head["text"][2:].startswith(name) and "=" not in head["text"]
        if name in URC_PREFIXES and not asked:
            return [("urc", (name, [f.strip().strip('"') for f in rest.split(",")]))]
        if head is not None and line != head["text"]:   # not our own echo
            head["lines"].append(line)
        return []


class Daemon:
    def __init__(self, cfg):
        self.cfg, self.scale = cfg, float(cfg.get("time_scale", 1.0))
        self.t0 = time.monotonic()
        self.seeds = cfg["seeds"]
        self.master = next(s for s in self.seeds if s["role"] == "master")
        self.standbys = [s for s in self.seeds if s["role"] != "master"]
        self.weights = (float(cfg["weights"]["signal"]), float(cfg["weights"]["tariff"]))
        if cfg["console"] == "-":
            self.con_in, self.con_out = 0, 1
        else:
            self.con_in = self.con_out = os.open(cfg["console"], os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            tty.setraw(self.con_in, termios.TCSANOW)   # no echo of commands, no CR added to lines
        os.set_blocking(self.con_out, False)
        self.out, self.inbuf, self.console_open = b"", b"", True
        self.modem = Modem(cfg["at_port"])
        self.gen = self.op = None
        self.urcs = deque()
        self.state, self.pass_no, self.slot, self.step = "waiting", 0, None, ""

    # ---- time and log ------------------------------------------------------------------------
    def real(self, nominal_ms):
        return nominal_ms / 1000.0 * self.scale

    def log(self, text):
        nominal_s = (time.monotonic() - self.t0) / self.scale
        self.out += f"hotspotd[{os.getpid()}]: <{nominal_s:.3f}> {text}\n".encode()
        self.flush()

    def flush(self):
        # Non-blocking: a console nobody reads must not stall the radio work.
        try:
            self.out = self.out[os.write(self.con_out, self.out):] if self.out else b""
        except BlockingIOError:
            pass
        except OSError:         # the reader is gone for good (EIO): nobody will read these
            self.out = b""

    # ---- the main loop -----------------------------------------------------------------------
    def run(self):
        self.log(f"boot: failover daemon up, {len(self.seeds)} seeds, judgement "
                 f"{self.cfg.get('judgement', 'both')}, T {self.cfg['attempt_timeout_ms']} ms")
        if self.cfg.get("autostart"):
            self.start()
        while True:
            readers = [self.modem.fd] + ([self.con_in] if self.console_open else [])
            until = self.op.until if self.op is not None else None
            wait = None if until is None else max(0.0, until - time.monotonic())
            r, _, _ = select.select(readers, [self.con_out] if self.out else [], [], wait)
            self.flush()
            if self.modem.fd in r:
                for kind, *rest in self.modem.read():
                    self.deliver(kind, rest)
            if self.console_open and self.con_in in r:
                self.read_console()
            if self.op is not None and self.op.until is not None and time.monotonic() >= self.op.until:
                if isinstance(self.op, Cmd) and self.op.entry is not None:
                    self.op.entry["abandoned_at"] = time.monotonic()
                self.advance(TIMEOUT)
            if not self.console_open and self.gen is None and not self.out:
                return 0            # nobody left to talk to and nothing in progress

    def deliver(self, kind, rest):
        if kind == "final":
            entry, result, lines = rest
            if isinstance(self.op, Cmd) and self.op.entry is entry:
                self.advance((result, lines))
        elif kind == "urc" and self.gen is not None:    # idle: nobody is waiting for news
            self.urcs.append(rest[0])
            if isinstance(self.op, NextUrc):
                self.advance(self.urcs.popleft())

    def advance(self, value):
        """Resume the work with `value` until it waits on something not yet there."""
        while self.gen is not None:
            try:
                op = self.gen.send(value)
            except StopIteration:
                self.gen = self.op = None
                return
            except Exception as bug:    # keep serving the console; the rig will see no outcome
                self.log(f"error: session aborted: {bug!r}")
                self.gen = self.op = None
                self.state = "error"
                return
            if isinstance(op, NextUrc) and self.urcs:
                value = self.urcs.popleft()
                continue
            if isinstance(op, Sleep) and time.monotonic() >= op.until:
                value = None
                continue
            if isinstance(op, Cmd):
                op.entry = self.modem.send(op.text, op.data)
            self.op = op
            return

    def read_console(self):
        try:
            chunk = os.read(self.con_in, 1024)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.console_open = False
            return
        self.inbuf += chunk
        *lines, self.inbuf = re.split(rb"[\r\n]", self.inbuf)
        for line in (l.decode(errors="replace").strip() for l in lines):
            if line == "start":
                if self.gen is None and self.state == "waiting":
                    self.start()
                else:
                    self.log("console: already started (send reset first)")
            elif line == "status":
                slot = "-" if self.slot is None else self.slot
                step = f" step={self.step.replace(' ', '_')}" if self.state == "attempting" else ""
                self.log(f"status: state={self.state} slot={slot} pass={self.pass_no}{step}")
            elif line == "reset":
                self.reset()
            elif line:
                self.log(f"console: unknown command {line!r} (start, status, reset)")

    def start(self):
        self.state = "measuring"
        self.gen, self.op = self.session(), None
        self.advance(None)

    def reset(self):
        if self.gen is not None:
            self.gen.close()
        if isinstance(self.op, Cmd) and self.op.entry is not None:
            self.op.entry["abandoned_at"] = time.monotonic()
        self.gen = self.op = None
        self.modem.send("AT+COPS=2")["abandoned_at"] = time.monotonic()   # its OK is nobody's
        self.state, self.pass_no, self.slot, self.step = "waiting", 0, None, ""
        self.log("boot: reset, deregistered; waiting for start")

    # ---- the session: passes of attempts ----------------------------------------------------
    def session(self):
        for text in ("ATE0", "AT+CMEE=1", "AT+CEREG=3", "AT+CGEREP=2,1", "AT+QSIMSTAT=1"):
            yield Cmd(text)     # a refusal here is not fatal: the attempts will tell
        while True:
            self.pass_no += 1
            self.state, self.slot = "measuring", None
            cells = yield from self.measure()
            ranked = rank_standbys(self.standbys, cells, *self.weights)
            for pos, r in enumerate(ranked, 1):
                tariff = "none" if r["tariff"] is None else f"{r['tariff']:g}"
                self.log(f"rank: #{pos} slot {r['seed']['slot']} signal {r['signal']:g} dBm tariff {tariff} "
                         f"A1={r['a1']:.3f} B1={r['b1']:.3f} index={r['index']:.4f}")
            plan = [(self.master, None)] + [(r["seed"], r["index"]) for r in ranked]
            for seed, index in plan:
                if (yield from self.attempt(seed, index, cells)):
                    self.state = "connected"
                    return
            backoff = self.cfg.get("retry_backoff_ms")
            self.log(f"exhausted: no seed connected in pass {self.pass_no}"
                     + (f"; next pass in {backoff} ms" if backoff else "; giving up"))
            self.slot = None
            if not backoff:
                self.state = "exhausted"
                return
            self.state = "backoff"
            yield Sleep(time.monotonic() + self.real(backoff))

    def measure(self):
        """The cells the modem hears with their fixture-level signal: Quectel's operator scan."""
        result, lines = yield Cmd("AT+QOPS")
        cells, plmn = [], None
        for line in lines if result == "OK" else []:
            if line.startswith("+QOPS:"):
                f = [x.strip().strip('"') for x in line[6:].split(",")]
                plmn = f[-1] if f[-1].isdigit() else None
                continue
            f = [x.strip().strip('"') for x in line.split(",")]
            try:
                if plmn and len(f) >= 5 and f[1] in RATS:
                    cells.append({"plmn": plmn, "rat": RATS[f[1]], "dbm": float(f[4])})
            except ValueError:
                pass        # one garbled cell must not cost the whole scan
        if result != "OK":
            self.log(f"scan: AT+QOPS answered {result}; ranking without cells")
        self.log(f"scan: {len(cells)} cells: " + " ".join(f"{c['plmn']}/{c['rat']}/{c['dbm']:g}" for c in cells))
        return cells

    def attempt(self, seed, index, cells):
        """One seed, judged by the configured mode; True when it connected."""
        slot, mode = seed["slot"], self.cfg.get("judgement", "both")
        self.state, self.slot, self.step = "attempting", slot, "the slot switch"
        extra = "" if index is None else f", index {index:.4f}"
        self.log(f"attempt: pass {self.pass_no} slot {slot} ({seed['role']}{extra}) iccid {seed['iccid']}")
        self.urcs.clear()       # news about the previous card is none about this one
        deadline = None if mode == "result" else time.monotonic() + self.real(self.cfg["attempt_timeout_ms"])
        steps, value = self.steps(seed, cells), None
        while True:
            try:
                op = steps.send(value)
            except StopIteration as done:
                imsi, plmn, rat, answer = done.value
                self.log(f"connected: slot {slot} online, imsi {imsi} plmn {plmn or '?'} rat {rat or '?'}")
                if answer.get("type") == "vsim":
                    self.log(f"vsim: via slot {slot} iccid {answer.get('iccid')} imsi {answer.get('imsi')}")
                else:
                    self.log(f"vsim: backend refused the report via slot {slot}: {answer.get('reason')}")
                yield Cmd("AT+QICLOSE=0")
                return True
            except Explicit as no:
                if mode == "timeout":       # figure 4: only the clock judges
                    yield Sleep(deadline)
                    self.log(f"judged: slot {slot} failed at T: {no} (answered earlier, judged at T)")
                else:
                    self.log(f"judged: slot {slot} failed on explicit answer: {no}")
                return False
            op.until = deadline
            value = yield op
            if value is TIMEOUT:
                steps.close()
                self.log(f"judged: slot {slot} failed at T: no answer while waiting for {self.step}")
                return False

    def steps(self, seed, cells):
        """The AT work of one attempt, to the backend's answer. Silence never ends it."""
        stage = [0]                         # 1 card ready, 2 registered, 3 context up

        def ok(text, what, data=None):
            result, lines = yield Cmd(text, data)
            if result not in ("OK", "SEND OK"):
                raise Explicit(f"{what} ({text} -> {result})")
            return lines

        def urc():
            u = yield NextUrc()
            name, f = u[0], u[1] if len(u) > 1 else None
            # A report that the seed was lost since the stage reached
            if stage[0] >= 1 and (name == "CME" or (name == "+CPIN" and f[0] != "READY")
                                  or (name == "+QSIMSTAT" and f[1:2] == ["0"])):
                raise Explicit(f"card lost ({name}: {f if name == 'CME' else ','.join(f)})")
            if stage[0] >= 2 and name == "+CEREG" and f[0] == "3":
                raise Explicit(reject_text(f))
            if stage[0] >= 3 and ((name == "+CGEV" and "DEACT" in f[0])
                                  or (name == "+QIURC" and f[0] in ("closed", "pdpdeact"))):
                raise Explicit(f"data path went down ({name}: {','.join(f)})")
            return u

        yield from ok(f"AT+QUIMSLOT={seed['slot'] + 1}", "slot switch refused")
        self.urcs.clear()       # what came before the switch's OK was about the old card
        self.step = "the card (+CPIN)"
        while True:
            u = yield from urc()
            if u[0] == "+CPIN":
                if u[1][0] == "READY":
                    break
                raise Explicit(f"card not usable: +CPIN: {u[1][0]}")
            if u[0] == "CME":
                raise Explicit(f"card failure: +CME ERROR: {u[1]}")
        stage[0] = 1
        self.step = "the IMSI"
        lines = yield from ok("AT+CIMI", "card gave no IMSI")
        imsi = next((l for l in lines if l.isdigit()), None)
        if imsi is None:
            raise Explicit("card gave no IMSI")
        yield from ok(f'AT+CGDCONT=1,"IP","{seed["apn"]}"', "APN refused")
        yield from ok("AT+COPS=0", "registration refused")
        self.step = "registration (+CEREG)"
        while True:
            u = yield from urc()
            if u[0] == "+CEREG" and u[1][0] in ("1", "5"):
                break
            if u[0] == "+CEREG" and u[1][0] == "3":
                raise Explicit(reject_text(u[1]))
        stage[0] = 2
        plmn, rat = None, None
        for line in (yield from ok("AT+COPS?", "operator query failed")):
            f = [x.strip().strip('"') for x in line.partition(":")[2].split(",")]
            if line.startswith("+COPS:") and len(f) >= 3 and f[2]:
                plmn, rat = f[2], act_rat(f[3]) if len(f) > 3 else None
        self.step = "the data context (AT+QIACT)"
        yield from ok("AT+QIACT=1", "context activation rejected")
        stage[0] = 3
        self.step = "the backend socket (+QIOPEN)"
        host, port = self.cfg["backend_host"], self.cfg["backend_port"]
        yield from ok(f'AT+QIOPEN=1,0,"TCP","{host}",{port},0,1', "socket refused")
        while True:
            u = yield from urc()
            if u[0] == "+QIOPEN" and u[1][0] == "0":
                if u[1][1:2] != ["0"]:
                    raise Explicit(f"socket to the backend failed: +QIOPEN: {','.join(u[1])}")
                break
        report = json.dumps({
            "type": "report", "iccid": seed["iccid"], "imsi": imsi, "mcc": (plmn or imsi)[:3],
            "site": self.cfg.get("site", ""), "rats": seed["rats"],
            "site_cells": [dict(c, dbm=int(c["dbm"]) if c["dbm"] == int(c["dbm"]) else c["dbm"]) for c in cells],
        }, separators=(",", ":")).encode() + b"\n"
        self.step = "sending the report (AT+QISEND)"
        yield from ok(f"AT+QISEND=0,{len(report)}", "report not sent", report)
        self.step = "the backend's answer"
        got = b""
        while True:
            u = yield from urc()
            if u[0] == "recv" and u[1] == 0:
                got += u[2]
                try:
                    return imsi, plmn, rat, json.loads(got)
                except ValueError:
                    continue        # more of it is on its way


def reject_text(f):
    cause = f[5] if len(f) > 5 and f[5] else None
    return f"registration rejected, EMM cause {cause}" if cause else "registration denied (+CEREG: 3)"


def act_rat(act):
    """27.007 <AcT> to the method's RAT names."""
    table = {"0": "gsm", "1": "gsm", "3": "gsm", "8": "gsm", "2": "umts", "4": "umts", "5": "umts",
             "6": "umts", "7": "lte", "9": "lte", "10": "lte", "11": "nr", "12": "nr", "13": "nr"}
    return table.get(act)


def rank_standbys(standbys, cells, a, b):
    """docs/method.md §2: best usable cell per standby, min-max normalized signal and tariff,
    index = a*A1 + b*B1, highest first, equal (to 9 places of index/(a+b)) by lower slot."""
    rows = []
    for seed in standbys:
        prices = {str(k): float(v) for k, v in seed.get("tariffs", {}).items()}
        best = None
        for c in cells:     # strictly stronger only: on equal signal the earlier-listed cell stays
            if c["rat"] in seed["rats"] and c["plmn"] in prices and (best is None or c["dbm"] > best["dbm"]):
                best = c
        rows.append({"seed": seed, "signal": best["dbm"] if best else -140.0,
                     "tariff": prices[best["plmn"]] if best else None})

    def spread(values):
        return (min(values), max(values)) if values else (0.0, 0.0)

    lo, hi = spread([r["signal"] for r in rows])
    tlo, thi = spread([r["tariff"] for r in rows if r["tariff"] is not None])
    for r in rows:
        r["a1"] = 1.0 if hi == lo else (r["signal"] - lo) / (hi - lo)
        if r["tariff"] is None:
            r["b1"] = 0.0
        else:
            r["b1"] = 1.0 if thi == tlo else (thi - r["tariff"]) / (thi - tlo)
        r["index"] = a * r["a1"] + b * r["b1"]
    return sorted(rows, key=lambda r: (-round(r["index"] / (a + b), 9), r["seed"]["slot"]))


def main(argv):
    # On a lab the rig's configuration leaves out the device's own wiring: give it here.
    usage = "usage: failover_dut.py CONFIG [--at-port PATH] [--console PATH|-]"
    if len(argv) < 2 or len(argv) % 2:
        print(usage, file=sys.stderr)
        return 2
    with open(argv[1], "rb") as fh:
        cfg = tomllib.load(fh)
    for flag, value in zip(argv[2::2], argv[3::2]):
        if flag not in ("--at-port", "--console"):
            print(usage, file=sys.stderr)
            return 2
        cfg[flag[2:].replace("-", "_")] = value
    daemon = Daemon(cfg)
    try:
        return daemon.run()
    except EOFError as gone:
        daemon.log(f"fatal: {gone}")
        daemon.flush()
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
