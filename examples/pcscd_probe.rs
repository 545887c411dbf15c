//! Starts a private pcscd with some starter seeds' virtual cards and prints what each reader holds.
use seedrig::hw::pcsc::{Readers, read_identity};
use seedrig::sim::pcscd::PrivatePcscd;
use seedrig::sim::usim::VirtualUsim;
use seedrig::sim::vpcd::VirtualCard;

fn main() {
    let catalog = seedrig::fixture::load_default(std::path::Path::new(".")).unwrap().catalog;
    let ids = ["vodafone-de-1", "tmobile-us-1", "docomo-jp-1"];
    let cards = ids
        .iter()
        .map(|id| {
            (
                id.to_string(),
                Box::new(VirtualUsim::from_seed(&catalog.seeds[*id]).unwrap()) as Box<dyn VirtualCard>,
            )
        })
        .collect();
    let p = PrivatePcscd::start(cards).unwrap();
    let mut r = Readers::new();
    println!("listed: {:?}", r.list().unwrap());
    for reader in p.readers() {
        let id = read_identity(&r.connect(&reader.name).unwrap()).unwrap();
        println!(
            "{} ({}): {} {}  want {}",
            reader.name, reader.label, id.iccid, id.imsi, catalog.seeds[&reader.label].iccid
        );
    }
}
