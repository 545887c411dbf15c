use super::*;
use crate::encoding::hex::bytes as hex;

fn round_trip(frame: Frame) -> Vec<u8> {
    let bytes = frame.try_encode().expect("encodes");
    assert_eq!(usize::from(u16::from_le_bytes([bytes[6], bytes[7]])), bytes.len());
    assert_eq!(Frame::decode(&bytes), Ok(frame.clone()), "round trip of {frame:?}");
    assert_eq!(frame.encode(), bytes);
    bytes
}

#[test]
fn reference_card_insert_frame() {
    let bytes = hex("01 05 00 00 00 00 09 00 01");
    let frame = Frame::decode(&bytes).unwrap();
    assert_eq!(frame, Frame::new(0, Message::CardInsert { card_insert: 1 }));
    assert_eq!(frame.encode(), bytes);
}

#[test]
fn reference_final_status_word_frame() {
    let bytes = hex("01 01 00 00 00 00 10 00 | 06 00 00 00 | 02 00 | 90 00");
    let frame = Frame::decode(&bytes).unwrap();
    let flags = data_flags::PB_AND_TX | data_flags::FINAL;
    assert_eq!(frame, Frame::new(0, Message::TxData { flags, data: vec![0x90, 0x00] }));
    assert_eq!(frame.encode(), bytes);
}

#[test]
fn cardem_messages_have_the_upstream_layout() {
    let status = CemuStatus {
        flags: status_flags::VCC_PRESENT | status_flags::CLK_ACTIVE,
        voltage_mv: 1800,
        fi: 1,
        di: 1,
        wi: 10,
        waiting_time: 9600,
    };
    let bytes = round_trip(Frame { seq_nr: 7, slot_nr: 1, msg: Message::Status(status) });
    assert_eq!(bytes, hex("01 04 07 01 00 00 15 00 03 00 00 00 08 07 01 01 0a 80 25 00 00"));

    let atr = hex("3B 9F 96 80 1F C7 80 31 A0 73 BE 21 13 67 43 20 07 18 00 00 01 A5");
    let bytes = round_trip(Frame::new(0, Message::SetAtr { atr: atr.clone() }));
    assert_eq!(&bytes[..9], &[1, 2, 0, 0, 0, 0, 9 + 22, 0, 22]);
    assert_eq!(&bytes[9..], &atr[..]);

    let pts =
        PtsInfo { pts_len: 4, req: [0xff, 0x10, 0x96, 0x79, 0, 0], resp: [0xff, 0x10, 0x96, 0x79, 0, 0] };
    let bytes = round_trip(Frame::new(0, Message::Pts(pts)));
    assert_eq!(bytes, hex("01 07 00 00 00 00 15 00 04 ff 10 96 79 00 00 ff 10 96 79 00 00"));

    let rx = Message::RxData { flags: data_flags::TPDU_HDR, data: hex("A0 A4 00 00 02") };
    assert_eq!(
        round_trip(Frame::new(0, rx)),
        hex("01 06 00 00 00 00 13 00 01 00 00 00 05 00 a0 a4 00 00 02")
    );
    round_trip(Frame::new(0, Message::Stats { raw: vec![1, 2, 3] }));
}

#[test]
fn config_long_and_short_forms() {
    let full = CemuConfig {
        features: features::STATUS_IRQ,
        slot_mux_nr: Some(3),
        pres_pol: Some(pres_pol::VALID | pres_pol::PRES_H),
    };
    assert_eq!(
        round_trip(Frame::new(0, Message::Config(full))),
        hex("01 08 00 00 00 00 0e 00 01 00 00 00 03 03")
    );
    // Pre-2021 firmware sends only the features word.
    let short = Frame::decode(&hex("01 08 00 00 00 00 0c 00 01 00 00 00")).unwrap();
    assert_eq!(short.msg, Message::Config(CemuConfig { features: 1, slot_mux_nr: None, pres_pol: None }));
    round_trip(short);
    let mux_only = CemuConfig { features: 0, slot_mux_nr: Some(2), pres_pol: None };
    round_trip(Frame::new(0, Message::Config(mux_only)));
    // Only pres_pol given: slot_mux_nr goes out as 0, like osmocom's host tool.
    let pol_only = CemuConfig { features: 0, slot_mux_nr: None, pres_pol: Some(2) };
    assert_eq!(
        Frame::new(0, Message::Config(pol_only)).encode(),
        hex("01 08 00 00 00 00 0e 00 00 00 00 00 00 02")
    );
    assert!(matches!(
        Frame::decode(&hex("01 08 00 00 00 00 0a 00 01 00")),
        Err(CodecError::Truncated { need: 4, have: 2, .. })
    ));
}

#[test]
fn modem_messages() {
    let reset = Message::ModemReset { asserted: modem_reset::PULSE, pulse_ms: 300 };
    assert_eq!(round_trip(Frame::new(0, reset)), hex("02 01 00 00 00 00 0b 00 02 2c 01"));
    assert_eq!(
        round_trip(Frame::new(0, Message::ModemSimSelect { remote_sim: 1 })),
        hex("02 02 00 00 00 00 09 00 01")
    );
    let status = ModemStatus { supported: 3, status: modem_status_bits::CARD_INSERTED, changed: 2 };
    assert_eq!(
        round_trip(Frame::new(1, Message::ModemStatus(status))),
        hex("02 03 00 01 00 00 0b 00 03 02 02")
    );
}

#[test]
fn generic_messages() {
    let err = ErrorReport { severity: 2, subsystem: 1, code: 0x0102, message: b"uart overrun".to_vec() };
    let bytes = round_trip(Frame::new(0, Message::Error(err)));
    assert_eq!(&bytes[..13], &hex("00 00 00 00 00 00 19 00 02 01 02 01 0c")[..]);

    let info = BoardDescription {
        hw_manufacturer: "sysmocom".into(),
        hw_model: "SIMtrace2".into(),
        hw_version: "1.1".into(),
        sw_provider: "osmocom".into(),
        sw_name: "cardem".into(),
        sw_version: "0.8.1".into(),
        sw_buildhost: "builder".into(),
        sw_crc: 0xdeadbeef,
        max_baud_rate: 250_000,
        cap_generic: vec![0xff, 0x3f],
        cap_vendor: vec![],
        tail: vec![9, 9],
    };
    let bytes = round_trip(Frame::new(0, Message::BoardInfo(Box::new(info))));
    assert_eq!(bytes.len(), HEADER_LEN + 234 + 2 + 2);
    assert_eq!(&bytes[8..16], b"sysmocom");
    assert_eq!(&bytes[8 + 224..8 + 234], &hex("ef be ad de 90 d0 03 00 02 00")[..]);
}

#[test]
fn empty_bd_payloads_are_queries() {
    for (class, msg_type, query) in [
        (class::GENERIC, msg_type::BD_BOARD_INFO, Query::BoardInfo),
        (class::CARDEM, msg_type::BD_CEMU_STATS, Query::CemuStats),
        (class::CARDEM, msg_type::BD_CEMU_STATUS, Query::CemuStatus),
        (class::CARDEM, msg_type::BD_CEMU_CONFIG, Query::CemuConfig),
        (class::MODEM, msg_type::BD_MODEM_STATUS, Query::ModemStatus),
    ] {
        let bytes = round_trip(Frame::new(0, Message::Query(query)));
        assert_eq!(bytes, [class, msg_type, 0, 0, 0, 0, 8, 0]);
    }
    // A DT/DO message without its payload is an error, not a query.
    assert!(Frame::decode(&hex("01 05 00 00 00 00 08 00")).is_err());
}

#[test]
fn unknown_messages_are_kept_not_rejected() {
    for bytes in [
        hex("03 04 00 00 00 00 0b 00 aa bb cc"),
        hex("01 63 02 00 00 00 08 00"),
        hex("7f 01 00 00 00 00 09 00 01"),
    ] {
        let frame = Frame::decode(&bytes).unwrap();
        assert!(matches!(frame.msg, Message::Unknown { .. }), "{frame:?}");
        assert_eq!(frame.encode(), bytes);
    }
}

#[test]
fn bad_lengths_are_clear_errors() {
    let cases: [(&str, &str); 7] = [
        ("01 05 00 00 00", "shorter than the 8-byte"),
        ("01 05 00 00 00 00 04 00", "outside 8..=4096"),
        ("01 05 00 00 00 00 0a 00 01", "does not match the 9 bytes"),
        (
            "01 06 00 00 00 00 10 00 01 00 00 00 05 00 a0 a4",
            "DO_CEMU_RX_DATA: length field says 5 bytes but 2 follow",
        ),
        (
            "01 06 00 00 00 00 10 00 01 00 00 00 01 00 a0 a4",
            "DO_CEMU_RX_DATA: length field says 1 bytes but 2 follow",
        ),
        ("01 04 00 00 00 00 0a 00 01 00", "BD_CEMU_STATUS: payload truncated: needs 4 bytes, has 2"),
        ("02 01 00 00 00 00 0a 00 02 2c", "DT_MODEM_RESET: payload truncated"),
    ];
    for (input, expected) in cases {
        let err = Frame::decode(&hex(input)).unwrap_err().to_string();
        assert!(err.contains(expected), "{input}: {err}");
    }
}

#[test]
fn oversized_parts_are_refused_by_try_encode_and_cut_by_encode() {
    let atr = Frame::new(0, Message::SetAtr { atr: vec![0x3b; 300] });
    assert!(matches!(atr.try_encode(), Err(CodecError::TooLong { len: 300, max: 255, .. })));
    let cut = Frame::decode(&atr.encode()).unwrap();
    assert_eq!(cut.msg, Message::SetAtr { atr: vec![0x3b; 255] });

    let big = Frame::new(0, Message::TxData { flags: 0, data: vec![0; 70_000] });
    assert!(big.try_encode().is_err());
    let bytes = big.encode();
    assert_eq!(bytes.len(), MAX_FRAME_LEN);
    assert!(Frame::decode(&bytes).is_ok());
}

#[test]
fn decoder_reassembles_300_byte_rx_data_from_64_byte_packets() {
    let data: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
    let frame = Frame::new(0, Message::RxData { flags: data_flags::FINAL, data });
    let bytes = frame.encode();
    assert_eq!(bytes.len(), 314);
    let mut dec = Decoder::new();
    let mut got = Vec::new();
    for packet in bytes.chunks(64) {
        assert!(got.is_empty(), "frame popped before its last packet");
        dec.push(packet);
        while let Some(f) = dec.pop() {
            got.push(f.unwrap());
        }
    }
    assert_eq!(got, vec![frame]);
    assert_eq!(dec.buffered(), 0);
}

#[test]
fn decoder_splits_several_frames_in_one_buffer() {
    let frames = vec![
        Frame::new(0, Message::CardInsert { card_insert: 1 }),
        Frame::new(0, Message::Status(CemuStatus { flags: 0x1f, ..Default::default() })),
        Frame { seq_nr: 3, slot_nr: 1, msg: Message::RxData { flags: 1, data: hex("a0 c0 00 00 10") } },
        Frame::new(0, Message::Query(Query::CemuConfig)),
    ];
    let stream: Vec<u8> = frames.iter().flat_map(Frame::encode).collect();
    let mut dec = Decoder::new();
    dec.push(&stream);
    let got: Vec<Frame> = std::iter::from_fn(|| dec.pop()).map(Result::unwrap).collect();
    assert_eq!(got, frames);
}

#[test]
fn decoder_reports_bogus_length_once_and_resyncs() {
    let good = Frame::new(0, Message::TxData { flags: 6, data: vec![0x90, 0] });
    let mut stream = hex("01 01 00 00 00 00 ff ff de ad be ef 01 02 03");
    stream.extend(good.encode());
    stream.extend(hex("01 01 00 00 00 00 03 00"));
    stream.extend(good.encode());
    let mut dec = Decoder::new();
    dec.push(&stream);
    let results: Vec<_> = std::iter::from_fn(|| dec.pop()).collect();
    assert_eq!(results.len(), 4, "{results:?}");
    assert!(matches!(results[0], Err(CodecError::BadLength { msg_len: 0xffff })));
    assert_eq!(results[1], Ok(good.clone()));
    assert!(matches!(results[2], Err(CodecError::BadLength { msg_len: 3 })));
    assert_eq!(results[3], Ok(good));
}

#[test]
fn decoder_keeps_framing_after_a_bad_payload() {
    let mut stream = hex("01 04 00 00 00 00 0a 00 01 00"); // STATUS too short
    stream.extend(hex("01 05 00 00 00 00 09 00 00"));
    let mut dec = Decoder::new();
    dec.push(&stream);
    assert!(matches!(dec.pop(), Some(Err(CodecError::Truncated { .. }))));
    assert_eq!(dec.pop(), Some(Ok(Frame::new(0, Message::CardInsert { card_insert: 0 }))));
    assert_eq!(dec.pop(), None);
}

/// xorshift64: deterministic, so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn garbage_never_panics() {
    let mut rng = Rng(0x5eed_5117_ace0_0001);
    let mut dec = Decoder::new();
    for round in 0..20_000 {
        let len = (rng.next() % 80) as usize;
        let mut chunk: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Make some chunks look like headers so the payload decoders get exercised too.
        if round % 3 == 0 && chunk.len() >= 8 {
            chunk[0] = (rng.next() % 4) as u8;
            chunk[1] = (rng.next() % 10) as u8;
            chunk[4..6].fill(0);
            chunk[6..8].copy_from_slice(&(len as u16).to_le_bytes());
        }
        let _ = Frame::decode(&chunk);
        dec.push(&chunk);
        while let Some(result) = dec.pop() {
            if let Ok(frame) = result {
                let _ = frame.encode();
            }
        }
        assert!(dec.buffered() < MAX_FRAME_LEN + 80);
    }
    // After garbage, a clean frame still comes through: enough 0xff bytes complete any
    // frame the garbage announced and then force a resync.
    let good = Frame::new(0, Message::CardInsert { card_insert: 1 });
    dec.push(&vec![0xff; MAX_FRAME_LEN + 16]);
    dec.push(&good.encode());
    let last = std::iter::from_fn(|| dec.pop()).filter_map(Result::ok).last();
    assert_eq!(last, Some(good));
}
