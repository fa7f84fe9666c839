//! The kommuner of the dataset: the eight samarbeidskommuner of Felles kommunal journal, with their
//! kommunenummer as of the 2024 county reform, and the local colour the generator uses
//! (postnummer, districts). Populations are rounded (SSB, 2024) and only weight the split of
//! innbyggere between tenants.

/// A kommune and what the generator needs to know about it.
#[derive(Debug, PartialEq, Eq)]
pub struct KommuneInfo {
    /// Kommunenummer (4 digits).
    pub nummer: &'static str,
    pub navn: &'static str,
    /// Approximate real population, used only as a weight.
    pub folketall: u32,
    /// (postnummer, poststed) pairs used for addresses.
    pub poststeder: &'static [(&'static str, &'static str)],
    /// Districts, used for hjemmesykepleie soner and other unit names.
    pub bydeler: &'static [&'static str],
}

/// Bergen, Bodø, Bærum, Hammerfest, Kristiansand, Ringsaker, Stavanger and Vinje.
pub static SAMARBEIDSKOMMUNER: [KommuneInfo; 8] = [
    KommuneInfo {
        nummer: "4601",
        navn: "Bergen",
        folketall: 291_000,
        poststeder: &[
            ("5003", "Bergen"),
            ("5054", "Bergen"),
            ("5089", "Bergen"),
            ("5115", "Ulset"),
            ("5136", "Mjølkeråen"),
            ("5221", "Nesttun"),
            ("5239", "Rådal"),
            ("5144", "Fyllingsdalen"),
        ],
        bydeler: &[
            "Bergenhus",
            "Årstad",
            "Fana",
            "Ytrebygda",
            "Fyllingsdalen",
            "Laksevåg",
            "Åsane",
            "Arna",
        ],
    },
    KommuneInfo {
        nummer: "1804",
        navn: "Bodø",
        folketall: 53_000,
        poststeder: &[
            ("8003", "Bodø"),
            ("8012", "Bodø"),
            ("8019", "Bodø"),
            ("8028", "Bodø"),
            ("8050", "Tverlandet"),
            ("8138", "Inndyr"),
        ],
        bydeler: &["Sentrum", "Rønvik", "Hunstad", "Tverlandet", "Skjerstad"],
    },
    KommuneInfo {
        nummer: "3201",
        navn: "Bærum",
        folketall: 131_000,
        poststeder: &[
            ("1338", "Sandvika"),
            ("1344", "Haslum"),
            ("1350", "Lommedalen"),
            ("1357", "Bekkestua"),
            ("1362", "Hosle"),
            ("1369", "Stabekk"),
            ("1367", "Snarøya"),
        ],
        bydeler: &[
            "Sandvika",
            "Bekkestua",
            "Lommedalen",
            "Fornebu",
            "Stabekk",
            "Rud",
        ],
    },
    KommuneInfo {
        nummer: "5603",
        navn: "Hammerfest",
        folketall: 11_000,
        poststeder: &[
            ("9600", "Hammerfest"),
            ("9610", "Rypefjord"),
            ("9620", "Kvalsund"),
        ],
        bydeler: &["Hammerfest sentrum", "Rypefjord", "Kvalsund"],
    },
    KommuneInfo {
        nummer: "4204",
        navn: "Kristiansand",
        folketall: 116_000,
        poststeder: &[
            ("4608", "Kristiansand S"),
            ("4616", "Kristiansand S"),
            ("4631", "Kristiansand S"),
            ("4640", "Søgne"),
            ("4700", "Vennesla"),
            ("4656", "Hamresanden"),
        ],
        bydeler: &[
            "Kvadraturen",
            "Lund",
            "Vågsbygd",
            "Randesund",
            "Søgne",
            "Songdalen",
        ],
    },
    KommuneInfo {
        nummer: "3411",
        navn: "Ringsaker",
        folketall: 35_000,
        poststeder: &[
            ("2380", "Brumunddal"),
            ("2390", "Moelv"),
            ("2360", "Rudshøgda"),
            ("2322", "Ridabu"),
            ("2372", "Brøttum"),
        ],
        bydeler: &["Brumunddal", "Moelv", "Nes", "Furnes"],
    },
    KommuneInfo {
        nummer: "1103",
        navn: "Stavanger",
        folketall: 149_000,
        poststeder: &[
            ("4005", "Stavanger"),
            ("4014", "Stavanger"),
            ("4021", "Stavanger"),
            ("4036", "Stavanger"),
            ("4048", "Hafrsfjord"),
            ("4150", "Rennesøy"),
            ("4100", "Jørpeland"),
        ],
        bydeler: &[
            "Eiganes og Våland",
            "Hillevåg",
            "Hinna",
            "Madla",
            "Tasta",
            "Storhaug",
            "Hundvåg",
        ],
    },
    KommuneInfo {
        nummer: "4036",
        navn: "Vinje",
        folketall: 3_700,
        poststeder: &[("3890", "Vinje"), ("3864", "Rauland"), ("3895", "Edland")],
        bydeler: &["Åmot", "Rauland"],
    },
];

/// The kommune with the given kommunenummer, if it is one the generator knows.
pub fn by_nummer(nummer: &str) -> Option<&'static KommuneInfo> {
    SAMARBEIDSKOMMUNER.iter().find(|k| k.nummer == nummer)
}

#[cfg(test)]
mod tests {
    #[test]
    fn kommunenummer_are_unique_and_four_digits() {
        let mut n: Vec<_> = super::SAMARBEIDSKOMMUNER.iter().map(|k| k.nummer).collect();
        assert!(
            n.iter()
                .all(|n| n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit()))
        );
        n.sort();
        n.dedup();
        assert_eq!(n.len(), 8);
    }
}
